"""Headers that keep pages, and what is typed into them, where they belong."""

from __future__ import annotations

from flask import Flask, render_template, request

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def init_app(app: Flask) -> None:
    @app.after_request
    def add_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if request.endpoint != "assets.static":
            # Forms and results must not linger in shared caches or the back-forward cache.
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(404)
    def not_found(_error):
        return render_template("error.html", title="Page not found",
                               message="There is no page at this address. Start again from the list of sources."), 404

    @app.errorhandler(405)
    def not_allowed(_error):
        return render_template("error.html", title="Not allowed",
                               message="This page cannot be used that way. Start again from the list of sources."), 405

    @app.errorhandler(413)
    def too_large(_error):
        return render_template("error.html", title="Form too large",
                               message="What was sent is larger than any connection form needs."), 413

    @app.errorhandler(500)
    def server_error(_error):
        return render_template("error.html", title="Something went wrong",
                               message="The wizard hit an unexpected problem; nothing was shown or logged "
                                       "with your secrets. Go back and try again."), 500
