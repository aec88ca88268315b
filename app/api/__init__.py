"""The portal as a JSON API under /api/v1, for scripts: personal tokens, the same checks, roles and audit trail as the
pages, errors as problem documents, and its OpenAPI 3.1 document generated from the models that check each call.

`spec` declares the operations and builds the document; `access` says who calls; `connections`, `dataflows`,
`new_dataflows`, `dataflow_changes` and `catalog` hold the operations, each through the pages' own commands and forms
(`forms`); `once` is Idempotency-Key and If-Match; `problems` answers every error; `docs` serves the document and its
reference page (no third-party request).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from ..web.security import csrf
    from . import catalog, config, config_apply, connections, dataflow_changes, dataflows, docs, new_dataflows  # noqa: F401 - each declares its operations on the blueprint
    from .spec import bp

    # Calls carry a token, not a cookie: there is no session for a forged request to ride on.
    csrf.exempt(bp)
    app.register_blueprint(bp)
    app.register_blueprint(docs.bp)
