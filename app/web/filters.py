"""What templates may call besides their data: filters that put times, schedules and counts in words, and the globals
every page reads (the mode it runs in, asset URLs, what the person may do). One place, set up by `init_app`."""

from __future__ import annotations

import datetime

from flask import Flask

from .. import services
from ..sources.described import describe_auth, summary_of
from ..store import iso_utc
from ..wording import plural, with_article
from . import permissions
from .assets import asset_url


def when(epoch_ms) -> str:
    try:
        moment = datetime.datetime.fromtimestamp(int(epoch_ms) / 1000, tz=datetime.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return "unknown"
    return moment.strftime("%Y-%m-%d %H:%M UTC")


UNITS = {"minute": "minute", "hour": "hour", "day": "day", "week": "week"}


def schedule(params) -> str:
    """A flow's scheduleParams in words: "once, from …" or "every 15 minutes from …" (startTime is in seconds)."""
    params = params if isinstance(params, dict) else {}
    try:
        start = when(int(params.get("startTime")) * 1000)
    except (TypeError, ValueError):
        start = "an unknown time"
    frequency = params.get("frequency")
    if frequency == "once":
        return f"once, at {start}"
    try:
        interval = int(params.get("interval"))
    except (TypeError, ValueError):
        interval = None
    if frequency not in UNITS or not interval or interval < 1:
        return "unknown"
    every = UNITS[frequency] if interval == 1 else plural(interval, UNITS[frequency])
    return f"every {every} from {start}"


def init_app(app: Flask) -> None:
    for name, function in (
        ("when", when),
        ("schedule", schedule),
        ("iso_utc", iso_utc),
        ("plural", plural),
        ("with_article", with_article),
    ):
        app.add_template_filter(function, name)
    app.add_template_global(summary_of, "spec_summary")
    app.add_template_global(describe_auth, "describe_auth")

    @app.context_processor
    def page_context():
        settings = services.settings()
        return {
            "emulator_mode": settings.emulator,
            "cloud": settings.cloud,
            "auth_mode": settings.auth,
            "asset": asset_url,
            "may": permissions.may,
            "may_somewhere": lambda action: bool(permissions.sandboxes_for(action)),
        }
