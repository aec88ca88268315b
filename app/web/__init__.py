"""Blueprints: the wizard (picker and forms), the connection page, and health."""
