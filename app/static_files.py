"""The stylesheet and script as the app serves them: read once at start-up, the script compacted, each gzipped once
and fingerprinted by its content (the views are in app/web/assets.py)."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import mimetypes
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class Asset:
    raw: bytes
    gzipped: bytes
    fingerprint: str
    mimetype: str


def compact_js(source: bytes) -> bytes:
    """The script without indentation and whole-line comments: a sixth fewer bytes gzipped, the code unchanged.

    Safe for our ES5 script, where no string or regular expression spans lines (a test runs the compacted
    script's parsers against the server's).
    """
    lines = (line.strip() for line in source.decode("utf-8").splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//")).encode("utf-8") + b"\n"


def load_assets(folder: str) -> dict[str, Asset]:
    assets = {}
    for path in Path(folder).iterdir():
        if path.is_file():
            raw = path.read_bytes()
            if path.suffix == ".js":
                raw = compact_js(raw)
            assets[path.name] = Asset(
                raw,
                gzip.compress(raw, mtime=0),
                hashlib.sha256(raw).hexdigest()[:12],
                mimetypes.guess_type(path.name)[0] or "application/octet-stream",
            )
    return assets
