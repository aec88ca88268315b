"""Personal API tokens and the people they act for: a token is kept as its visible prefix and a SHA-256 of the whole,
never in clear; a person's groups are kept as their last sign-in gave them, for the calls a token makes meanwhile."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from .health import guarded
from .schema import _fit, api_tokens, people

# A token: asw_ (AEP Source Wizard), eight characters shown in lists, an underscore, then 43 of a 256-bit secret.
PREFIX = "asw_"
# Touching a token's "last used" at most once a minute: a busy script makes one write a minute, not one a call.
LAST_USED_EVERY = 60.0


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def prefix_of(token: str) -> str | None:
    """The row key of a token as sent (asw_ and eight characters), or None when it is not shaped like one."""
    if not token.startswith(PREFIX) or len(token) != 56 or token[12] != "_":
        return None
    return token[:12]


class Tokens:
    """API tokens and people's last groups, over the store's engine."""

    def __init__(self, engine):
        self.engine = engine

    @guarded(retry=False)
    def create(self, user: str, name: str, role: str, sandboxes: str, lifetime: float) -> tuple[str, dict]:
        """Make a token for `user`: (the token, shown this once and never again; its row as `listed` gives it)."""
        now = time.time()
        for attempt in range(5):
            # The prefix is 32 random bits: two alike are rare, and the next try draws another.
            prefix = PREFIX + secrets.token_hex(4)
            token = f"{prefix}_{secrets.token_urlsafe(32)}"
            row = dict(
                prefix=prefix,
                hash=_digest(token),
                user=_fit(api_tokens.c.user, user),
                name=_fit(api_tokens.c.name, name),
                role=role,
                sandboxes=_fit(api_tokens.c.sandboxes, sandboxes),
                created_at=now,
                expires_at=now + lifetime,
            )
            try:
                with self.engine.begin() as db:
                    db.execute(insert(api_tokens).values(**row))
                break
            except IntegrityError:
                if attempt == 4:
                    raise
        del row["hash"]
        return token, {**row, "last_used_at": None, "revoked_at": None, "revoked_by": None}

    @guarded(retry=True)
    def check(self, token: str, now: float | None = None) -> dict | None:
        """The live token's row (user, name, role, sandboxes…) for a token as sent, or None: unknown, wrong, expired
        or revoked alike. Its "last used" is touched (at most once a minute)."""
        prefix = prefix_of(token)
        now = time.time() if now is None else now
        if prefix is None:
            return None
        with self.engine.connect() as db:
            row = db.execute(select(api_tokens).where(api_tokens.c.prefix == prefix)).first()
        # Compared in constant time, and compared even for a row that will be refused, so that timing tells nothing.
        matches = hmac.compare_digest(row.hash if row else "0" * 64, _digest(token))
        if row is None or not matches or row.revoked_at is not None or row.expires_at <= now:
            return None
        if row.last_used_at is None or row.last_used_at < now - LAST_USED_EVERY:
            with self.engine.begin() as db:
                db.execute(update(api_tokens).where(api_tokens.c.prefix == prefix).values(last_used_at=now))
        found = dict(row._mapping)
        del found["hash"]
        return found

    @guarded(retry=True)
    def listed(self, user: str | None = None) -> list[dict]:
        """Tokens, newest first: one person's, or (None) everyone's. Never their hashes."""
        columns = [c for c in api_tokens.c if c.name != "hash"]
        query = select(*columns).order_by(api_tokens.c.created_at.desc())
        if user is not None:
            query = query.where(api_tokens.c.user == user)
        with self.engine.connect() as db:
            return [dict(row._mapping) for row in db.execute(query.limit(1000))]

    @guarded(retry=True)
    def revoke(self, prefix: str, by: str, user: str | None = None) -> dict | None:
        """Revoke a live token (only `user`'s, when given): its row, or None when there is no such live token."""
        where = [api_tokens.c.prefix == prefix, api_tokens.c.revoked_at.is_(None)]
        if user is not None:
            where.append(api_tokens.c.user == user)
        with self.engine.begin() as db:
            changed = db.execute(
                update(api_tokens).where(*where).values(revoked_at=time.time(), revoked_by=_fit(api_tokens.c.user, by))
            ).rowcount
            if not changed:
                return None
            row = db.execute(
                select(api_tokens.c.prefix, api_tokens.c.name, api_tokens.c.user).where(*where[:1])
            ).first()
        return dict(row._mapping) if row else None

    @guarded(retry=True)
    def remember(self, user: str, groups, replace: bool = True) -> None:
        """Keep the groups `user` has now (at sign-in), for the calls their tokens make until the next; with
        `replace` False, only when none are kept yet."""
        values = dict(groups=",".join(groups)[:65536], seen_at=time.time())
        with self.engine.begin() as db:
            if replace and db.execute(update(people).where(people.c.user == user).values(**values)).rowcount:
                return
            if db.execute(select(people.c.user).where(people.c.user == user)).first() is None:
                try:
                    with db.begin_nested():
                        db.execute(insert(people).values(user=_fit(people.c.user, user), **values))
                except IntegrityError:
                    pass  # another request kept them at the same moment

    @guarded(retry=True)
    def person(self, user: str) -> dict | None:
        """{"groups": (…), "seen_at": seconds} as `remember` last kept them, or None."""
        with self.engine.connect() as db:
            row = db.execute(select(people).where(people.c.user == user)).first()
        if row is None:
            return None
        return {"groups": tuple(g for g in row.groups.split(",") if g), "seen_at": row.seen_at}
