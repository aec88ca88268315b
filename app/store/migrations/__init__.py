"""The store's schema, one Alembic revision per change (expand first, contract in a later release)."""
