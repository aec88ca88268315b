"""Credential links and when each connection's credentials were last set. A link is kept as a SHA-256 of its token,
never the token: the store cannot give a link back, only tell whether one sent is live. Using a link is one atomic
change (used, unless revoked or expired), so two sends of one link use it once."""

from __future__ import annotations

import hashlib
import json
import secrets
import time

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from .health import guarded
from .schema import _fit, credential_links, credentials_set

# A link's token: aswl_ (a link of AEP Source Wizard) then 43 characters of a 256-bit secret. The prefix lets the log
# scrubber find a token wherever it stands (app/logs.py).
PREFIX = "aswl_"
TOKEN_LENGTH = len(PREFIX) + 43


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _row(row) -> dict:
    found = dict(row)
    del found["token_hash"]
    found["prepared"] = json.loads(found["prepared"])
    found["fields"] = json.loads(found["fields"])
    return found


class CredentialLinks:
    """Credential links, and the record of credentials set, over the store's engine."""

    def __init__(self, engine):
        self.engine = engine

    @guarded(retry=False)
    def create(
        self,
        *,
        kind: str,
        sandbox: str,
        source: str,
        connection_name: str,
        prepared: dict,
        fields: list[str],
        requested_by: str,
        lifetime: float,
        connection_id: str | None = None,
        key: str | None = None,
    ) -> tuple[str, dict] | None:
        """Make a link: (its token, shown this once and never again; its row). With `key` (the form's submission
        id), once: None when that form already made one."""
        now = time.time()
        token = PREFIX + secrets.token_urlsafe(32)
        row = dict(
            id=hashlib.sha256(f"link:{key}".encode()).hexdigest()[:32] if key else secrets.token_hex(16),
            token_hash=_digest(token),
            kind=kind,
            sandbox=sandbox,
            source=_fit(credential_links.c.source, source),
            connection_id=connection_id,
            connection_name=_fit(credential_links.c.connection_name, connection_name),
            prepared=json.dumps(prepared),
            fields=json.dumps(fields),
            requested_by=_fit(credential_links.c.requested_by, requested_by),
            requested_at=now,
            expires_at=now + lifetime,
        )
        try:
            with self.engine.begin() as db:
                db.execute(insert(credential_links).values(**row))
        except IntegrityError:
            return None
        return token, _row({**row, "used_at": None, "revoked_at": None, "revoked_by": None, "outcome": None})

    @guarded(retry=True)
    def live(self, token: str, now: float | None = None) -> dict | None:
        """The link a token opens, or None: unknown, used, revoked or expired alike."""
        now = time.time() if now is None else now
        if len(token) != TOKEN_LENGTH or not token.startswith(PREFIX):
            return None
        with self.engine.connect() as db:
            row = db.execute(select(credential_links).where(credential_links.c.token_hash == _digest(token))).first()
        if row is None or row.used_at is not None or row.revoked_at is not None or row.expires_at <= now:
            return None
        return _row(row._mapping)

    @guarded(retry=False)
    def use(self, link_id: str, now: float | None = None) -> bool:
        """Mark a live link used: True for the one send that did, False when it was used, revoked or expired."""
        now = time.time() if now is None else now
        with self.engine.begin() as db:
            done = db.execute(
                update(credential_links)
                .where(
                    credential_links.c.id == link_id,
                    credential_links.c.used_at.is_(None),
                    credential_links.c.revoked_at.is_(None),
                    credential_links.c.expires_at > now,
                )
                .values(used_at=now)
            )
        return bool(done.rowcount)

    @guarded(retry=True)
    def give_back(self, link_id: str) -> None:
        """A use that came to nothing (Adobe refused what the owner typed): the link may be used again, while live."""
        with self.engine.begin() as db:
            db.execute(update(credential_links).where(credential_links.c.id == link_id).values(used_at=None))

    @guarded(retry=True)
    def finish(self, link_id: str, outcome: str, connection_id: str | None) -> None:
        """What the owner's entry came to, in words, and the connection it made or rotated."""
        values: dict = {"outcome": _fit(credential_links.c.outcome, outcome)}
        if connection_id:
            values["connection_id"] = connection_id
        with self.engine.begin() as db:
            db.execute(update(credential_links).where(credential_links.c.id == link_id).values(**values))

    @guarded(retry=True)
    def revoke(self, link_id: str, by: str, requested_by: str | None = None, now: float | None = None) -> bool:
        """Revoke a link not used yet (only `requested_by`'s, when given): whether one was."""
        query = update(credential_links).where(
            credential_links.c.id == link_id,
            credential_links.c.used_at.is_(None),
            credential_links.c.revoked_at.is_(None),
        )
        if requested_by is not None:
            query = query.where(credential_links.c.requested_by == requested_by)
        revoked_at = time.time() if now is None else now
        with self.engine.begin() as db:
            done = db.execute(query.values(revoked_at=revoked_at, revoked_by=_fit(credential_links.c.revoked_by, by)))
        return bool(done.rowcount)

    @guarded(retry=True)
    def listed(self, requested_by: str | None = None, limit: int = 200) -> list[dict]:
        """Links, newest first: one person's, or everyone's (None)."""
        query = select(credential_links).order_by(credential_links.c.requested_at.desc()).limit(limit)
        if requested_by is not None:
            query = query.where(credential_links.c.requested_by == requested_by)
        with self.engine.connect() as db:
            return [_row(row) for row in db.execute(query).mappings()]

    @guarded(retry=True)
    def one(self, link_id: str) -> dict | None:
        with self.engine.connect() as db:
            row = db.execute(select(credential_links).where(credential_links.c.id == link_id)).mappings().first()
        return _row(row) if row else None

    @guarded(retry=True)
    def credentials_set(
        self,
        connection: dict,
        sandbox: str,
        by: str | None,
        *,
        by_owner: bool,
        expires_at: float | None = None,
    ) -> None:
        """Credentials were just sent for a connection ({id, name, source: its connection spec's id}): by whom,
        whether its owner typed them, when they expire."""
        connection_id = connection["id"]
        values = dict(
            sandbox=sandbox,
            connection_name=_fit(credentials_set.c.connection_name, connection.get("name") or ""),
            source=_fit(credentials_set.c.source, connection.get("source") or ""),
            set_at=time.time(),
            set_by=_fit(credentials_set.c.set_by, by) if by else None,
            by_owner=by_owner,
            expires_at=expires_at,
            reminded_at=None,
        )
        with self.engine.begin() as db:
            where = credentials_set.c.connection_id == connection_id
            if not db.execute(update(credentials_set).where(where).values(**values)).rowcount:
                db.execute(insert(credentials_set).values(connection_id=connection_id, **values))

    @guarded(retry=True)
    def expiring(self, before: float) -> list[dict]:
        """Connections whose credentials expire before `before` and whose reminder has not gone out."""
        c = credentials_set.c
        due = (c.expires_at.is_not(None), c.expires_at <= before, c.reminded_at.is_(None))
        with self.engine.connect() as db:
            return [dict(row) for row in db.execute(select(credentials_set).where(*due)).mappings()]

    @guarded(retry=True)
    def reminded(self, connection_id: str, expires_at: float) -> None:
        """The reminder for this expiry went out (a new expiry, set later, has its own)."""
        c = credentials_set.c
        with self.engine.begin() as db:
            db.execute(
                update(credentials_set)
                .where(c.connection_id == connection_id, c.expires_at == expires_at)
                .values(reminded_at=time.time())
            )

    @guarded(retry=True)
    def credentials_of(self, connection_ids: list[str]) -> dict[str, dict]:
        """connection id → {set_at, set_by, by_owner, expires_at} for those on record."""
        if not connection_ids:
            return {}
        with self.engine.connect() as db:
            rows = db.execute(
                select(credentials_set).where(credentials_set.c.connection_id.in_(connection_ids))
            ).mappings()
            return {row["connection_id"]: dict(row) for row in rows}
