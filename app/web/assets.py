"""The stylesheet and script, fingerprinted, gzipped once at start-up and cached for a year; pages gzipped
when they carry no CSRF token.

A page with a CSRF token is never compressed: the token sits next to text an attacker can put in
the page (a search, a name), and compressing both would invite BREACH-style guessing. Pages never
carry secrets (they are masked), so a page without a token has nothing such guessing could find.
"""

from __future__ import annotations

import gzip

from flask import Blueprint, Response, abort, g, request, url_for

from .. import services

bp = Blueprint("assets", __name__)
ONE_YEAR = 365 * 24 * 3600


_URLS: dict[tuple, str] = {}


def asset_url(name: str) -> str:
    """The URL of a static file, changing whenever its content does (built once per file and mount point)."""
    asset = services.assets()[name]
    key = (name, asset.fingerprint, request.script_root)
    url = _URLS.get(key)
    if url is None:
        url = _URLS[key] = url_for("assets.static", filename=name, v=asset.fingerprint)
    return url


@bp.get("/static/<filename>")
def static(filename):
    """Serve a static file, gzipped when the browser accepts it."""
    asset = services.assets().get(filename) or abort(404)
    compressed = "gzip" in request.accept_encodings
    response = Response(asset.gzipped if compressed else asset.raw, mimetype=asset.mimetype)
    if compressed:
        response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = "Accept-Encoding"
    response.cache_control.public = True
    response.cache_control.max_age = ONE_YEAR
    response.set_etag(asset.fingerprint + ("-gz" if compressed else ""))
    return response.make_conditional(request)


@bp.after_app_request
def compress_pages(response):
    """Gzip an HTML page that holds no CSRF token, for a browser that accepts gzip."""
    if "csrf_token" in g:  # a token was made for this answer (Flask-WTF keeps it in g): not compressed
        return response
    if (
        response.mimetype != "text/html"
        or response.status_code != 200
        or response.direct_passthrough
        or response.is_streamed
        or "Content-Encoding" in response.headers
        or "gzip" not in request.accept_encodings
    ):
        return response
    body = response.get_data()
    if len(body) < 1024 or b'name="csrf_token"' in body:
        return response
    response.set_data(gzip.compress(body, compresslevel=6, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    return response
