"""The audit trail: who did what to which connection or dataflow, in which role, and how it went; never a secret."""

from __future__ import annotations

import csv
import datetime
import io

from sqlalchemy import insert, select

from .health import guarded
from .schema import AUDIT_COLUMNS, _fit, _now, audit

_RECORD = insert(audit)


def record_in(db, entry: dict) -> None:
    """Put `entry` on record inside the caller's transaction (with what the action finished, in one commit)."""
    db.execute(_RECORD, {"at": _now(), **_fitted(entry)})


def _fitted(entry: dict) -> dict:
    """The entry's known columns, each cut to its column's length."""
    return {k: _fit(audit.c[k], v) for k, v in entry.items() if k in AUDIT_COLUMNS and v is not None}


class Audit:
    """The audit trail, over the store's engine."""

    def __init__(self, engine):
        self.engine = engine

    @guarded(retry=False)
    def record(self, **entry) -> None:
        """Put an entry on record."""
        with self.engine.begin() as db:
            record_in(db, entry)

    @guarded(retry=True)
    def audit_entries(
        self,
        *,
        action=None,
        user=None,
        sandbox=None,
        outcome=None,
        text=None,
        limit=200,
        sandboxes=None,
        unsandboxed=False,
        before_id=None,
    ):
        """The newest entries matching the filters; with `sandboxes`, only entries of those sandboxes (and, with
        `unsandboxed`, the entries of no sandbox, such as a token made); with `before_id`, only older entries."""
        query = select(audit).order_by(audit.c.id.desc()).limit(limit)
        if sandboxes is not None:
            within = audit.c.sandbox.in_(list(sandboxes))
            query = query.where(within | audit.c.sandbox.is_(None) if unsandboxed else within)
        if before_id is not None:
            query = query.where(audit.c.id < before_id)
        for column, value in (("action", action), ("user", user), ("sandbox", sandbox), ("outcome", outcome)):
            if value:
                query = query.where(audit.c[column] == _fit(audit.c[column], value))
        if text:
            pattern = "%" + _fit(audit.c.connection_name, text.lower()) + "%"
            query = query.where(audit.c.connection_name.ilike(pattern) | audit.c.connection_id.ilike(pattern))
        with self.engine.connect() as db:
            return [dict(row._mapping) for row in db.execute(query)]

    @staticmethod
    def as_csv(entries) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(AUDIT_COLUMNS)
        for entry in entries:
            row = [iso_utc(entry.get("at"))] + [entry.get(c) or "" for c in AUDIT_COLUMNS[1:]]
            # A cell starting with = + - @, a tab or a carriage return would be a formula in a spreadsheet (OWASP).
            writer.writerow(["'" + c if isinstance(c, str) and c and c[0] in "=+-@\t\r" else c for c in row])
        return out.getvalue()

    @guarded(retry=True)
    def creators(self, connection_ids) -> dict[str, str]:
        """{connection id: who created it in this portal ("" when nobody was signed in)}, from successful creates."""
        ids = [i for i in connection_ids if i][:500]
        if not ids:
            return {}
        query = select(audit.c.connection_id, audit.c.user).where(
            audit.c.action == "create", audit.c.outcome == "ok", audit.c.connection_id.in_(ids)
        )
        with self.engine.connect() as db:
            return {row.connection_id: row.user or "" for row in db.execute(query)}

    @guarded(retry=True)
    def created_by(self, user: str, limit: int = 500) -> list[str]:
        """The ids of the connections `user` created in this portal, newest first."""
        query = (
            select(audit.c.connection_id)
            .where(audit.c.action == "create", audit.c.outcome == "ok", audit.c.user == _fit(audit.c.user, user))
            .order_by(audit.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as db:
            return [row.connection_id for row in db.execute(query) if row.connection_id]


def iso_utc(moment: datetime.datetime | None) -> str:
    """ISO 8601 in UTC with a Z; SQLite hands back naive datetimes that were written in UTC."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
