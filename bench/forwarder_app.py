"""The least any server-side portal must do to create a connection: read the form, POST it to Flow Service
with a token in hand, answer 303. bench/overhead.py runs it on the wizard's gunicorn settings, as the floor
the wizard is measured against.

    FORWARD_URL=<platform>/data/foundation/flowservice/connections FORWARD_HEADERS='{...}' \\
        gunicorn ... forwarder_app:app

It forwards with requests, as a minimal app most often would; FORWARD_CLIENT=urllib3 makes it use urllib3
directly, as the wizard does (a lower floor: `bench/overhead.py --forwarder-client urllib3`).
"""

import json
import os

import requests
import urllib3
from flask import Flask, redirect, request

app = Flask(__name__)
URL = os.environ.get("FORWARD_URL", "")
HEADERS = json.loads(os.environ.get("FORWARD_HEADERS", "{}"))
CLIENT = os.environ.get("FORWARD_CLIENT", "requests")
session = requests.Session()
pool = urllib3.PoolManager()


@app.get("/")
def ready():
    return "ok"


@app.post("/submit")
def submit():
    form = request.form
    body = {
        "name": form["name"],
        "description": form.get("description", ""),
        "auth": {
            "specName": "Basic Authentication",
            "params": {key: form[key] for key in ("server", "port", "database", "username", "password")},
        },
        "connectionSpec": {"id": "3416976c-a9ca-4bba-901a-1f08f66978ff", "version": "1.0"},
    }
    if CLIENT == "urllib3":
        answer = pool.request("POST", URL, body=json.dumps(body).encode(), headers=HEADERS, timeout=30.0)
        status, read = answer.status, (lambda: json.loads(answer.data))
    else:
        answer = session.post(URL, json=body, headers=HEADERS, timeout=30)
        status, read = answer.status_code, answer.json
    if status != 201:
        return "Flow Service refused", 502
    return redirect(f"/connections/{read()['id']}", code=303)
