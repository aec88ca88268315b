"""The Set-up page, for admins: the read-only checks of app/doctor.py (settings, store, IMS, each sandbox, sign-in),
each with its fix, as `aep-source-wizard doctor` prints them. Run anew at each load; nothing is kept."""

from __future__ import annotations

from flask import Blueprint, render_template

from .. import doctor, services
from . import permissions

bp = Blueprint("setup", __name__)


@bp.get("/setup")
def index():
    """Every check, one by one. It waits on Adobe once per read it makes (a dozen or so per sandbox at most), one
    after another: a check that needs another (a token before any read) follows it."""
    permissions.require("setup")
    checks = list(doctor.run(services.current()))
    failed = sum(1 for check in checks if check.ok is False)
    return render_template("setup.html", checks=checks, failed=failed)
