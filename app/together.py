"""Calls to Adobe that depend on nothing but the request, sent side by side: greenlets under gevent (its
workers patch threads), threads otherwise. Each call runs in a copy of the request's context, so its log lines
carry the request id."""

from __future__ import annotations

import concurrent.futures

from flask import copy_current_request_context, has_request_context


def side_by_side(calls) -> list:
    """Run the calls at once; each one's result, or the exception it raised, in order."""
    calls = list(calls)
    if len(calls) <= 1:
        return [_outcome(call) for call in calls]
    if has_request_context():
        calls = [copy_current_request_context(lambda c=c: _outcome(c)) for c in calls]
    else:
        calls = [lambda c=c: _outcome(c) for c in calls]
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def _outcome(call):
    try:
        return call()
    except Exception as error:  # noqa: BLE001 - handed back to the caller, which decides
        return error
