"""gunicorn settings for the wizard, read by `aep-source-wizard` and usable as `gunicorn -c python:app.gunicorn_conf`.

Everything comes from the environment, so a container or a Kubernetes
Deployment tunes it without a new image.
"""

import os

from app.config import Settings


def _count(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip() or str(default)
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise SystemExit(f"aep-source-wizard: {name} must be a whole number from 1 to 64, not {text!r}.")
    return int(text)


bind = f"{os.environ.get('WIZARD_HOST', '127.0.0.1')}:{os.environ.get('WIZARD_PORT', '8000')}"
# gunicorn's own convention (Heroku, Render, the python buildpacks): WEB_CONCURRENCY worker processes.
workers = _count("WEB_CONCURRENCY", 1)
# gevent: each connection is a greenlet, so a client that sends its request slowly (one header line every few
# seconds) holds a few kilobytes, never a thread. With gthread, 8 such clients stalled every page for minutes.
worker_class = "gevent"
# Connections each worker holds at once, slow ones included.
worker_connections = 1000
# Creating a connection may wait for IMS, then Flow Service, then a look-up after a lost
# answer: each call bounded by the connect and read timeouts. A worker must outlast all of them.
_one_call = Settings.connect_timeout + Settings.read_timeout
timeout = int(4 * _one_call)
graceful_timeout = int(_one_call + 5)
keepalive = 5
# Access and error log as JSON lines on stdout (app.logs.GunicornLogger), with the request id.
accesslog = "-"
errorlog = "-"
logger_class = "app.logs.GunicornLogger"
# Behind a proxy, X-Forwarded-* are read by the app's ProxyFix (WIZARD_PROXY_COUNT) alone: gunicorn
# believes no one's X-Forwarded-Proto, not even loopback's (its default), and maps no header to https.
forwarded_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}
# No one steers a running wizard through gunicorn's control socket, and the
# container user has no home directory to put it in.
control_socket_disable = True
