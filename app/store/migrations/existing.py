"""What a database made by an earlier release already has: the first revisions create and add only what is missing,
since releases before Alembic made tables as they came (so a database of one schema version may hold more or less)."""

import sqlalchemy as sa
from alembic import op


def has_table(name: str) -> bool:
    return sa.inspect(op.get_bind()).has_table(name)


def has_column(table: str, column: str) -> bool:
    return has_table(table) and column in {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}


def add_missing(table: str, *columns: sa.Column) -> None:
    for column in columns:
        if not has_column(table, column.name):
            op.add_column(table, column)
