"""A test whose tool or service is missing: skipped on a developer's machine, failed under CI (`CI` set), where
every test must run."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def unavailable(message: str) -> NoReturn:
    """Skip with `message`; under CI, fail with it."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
