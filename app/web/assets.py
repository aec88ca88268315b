"""The stylesheet and script, fingerprinted, gzipped once at start-up and cached for a year.

Only these files are compressed: pages carry the CSRF token next to what people
typed, and compressing those would invite BREACH-style guessing.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import mimetypes
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, request, url_for

bp = Blueprint("assets", __name__)
ONE_YEAR = 365 * 24 * 3600


@dataclasses.dataclass(frozen=True)
class Asset:
    raw: bytes
    gzipped: bytes
    fingerprint: str
    mimetype: str


def load_assets(folder: str) -> dict[str, Asset]:
    assets = {}
    for path in Path(folder).iterdir():
        if path.is_file():
            raw = path.read_bytes()
            assets[path.name] = Asset(
                raw, gzip.compress(raw, mtime=0), hashlib.sha256(raw).hexdigest()[:12],
                mimetypes.guess_type(path.name)[0] or "application/octet-stream",
            )
    return assets


def asset_url(name: str) -> str:
    """The URL of a static file, changing whenever its content does."""
    asset = current_app.extensions["assets"][name]
    return url_for("assets.static", filename=name, v=asset.fingerprint)


@bp.get("/static/<filename>")
def static(filename):
    """Serve a static file, gzipped when the browser accepts it."""
    asset = current_app.extensions["assets"].get(filename) or abort(404)
    compressed = "gzip" in request.accept_encodings
    response = Response(asset.gzipped if compressed else asset.raw, mimetype=asset.mimetype)
    if compressed:
        response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = "Accept-Encoding"
    response.cache_control.public = True
    response.cache_control.max_age = ONE_YEAR
    response.set_etag(asset.fingerprint + ("-gz" if compressed else ""))
    return response.make_conditional(request)
