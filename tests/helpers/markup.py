"""What the tests read out of a page's HTML: the CSRF token, the submission id, the error shown beside a field."""

from __future__ import annotations

import html
import re


def _found(pattern: str, text: str, what: str) -> str:
    match = re.search(pattern, text)
    assert match, f"no {what} in the page"
    return match.group(1)


def csrf_token(page: str) -> str:
    """The form's hidden CSRF token."""
    return _found(r'name="csrf_token" type="hidden" value="([^"]+)"', page, "CSRF token")


def submission_id(page: str) -> str:
    """The form's one-time submission key."""
    return _found(r'name="submission_id" value="([^"]+)"', page, "submission id")


def field_error(page: str, field_id: str) -> str:
    """The text of the error shown beside the field `field_id`, its markup removed; fails when none is shown."""
    match = re.search(rf'<p class="error" id="{field_id}-error">(.*?)</p>', page, re.S)
    assert match, f"no error shown for {field_id}"
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1)))
