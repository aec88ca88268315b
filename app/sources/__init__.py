"""The catalog: one module per source, listed here in the order the picker shows them."""

from __future__ import annotations

from . import greenplum, phoenix, postgresql, redshift
from .base import Auth, Source
from .secrecy import SECRET_PARAMS

SOURCES: dict[str, Source] = {module.SOURCE.key: module.SOURCE for module in (greenplum, postgresql, redshift, phoenix)}

__all__ = ["SECRET_PARAMS", "SOURCES", "Auth", "Source", "source_for_spec"]


def source_for_spec(connection_spec_id: str) -> Source | None:
    return next((s for s in SOURCES.values() if s.connection_spec_id == connection_spec_id), None)
