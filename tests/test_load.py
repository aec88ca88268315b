"""A short load run through gunicorn: no errors, no duplicates, every connection created is on record."""

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "load.py"


@pytest.mark.slow
def test_a_short_load_run_creates_each_connection_once_and_records_it():
    spec = importlib.util.spec_from_file_location("bench_load", BENCH)
    load = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(load)
    result = load.run(users=6, seconds=6, workers=2)
    assert result["submissions"] > 20
    assert result["errors"] == 0, result["first_errors"]
    assert result["duplicates"] == 0
    assert result["created"] == result["recorded"] == result["audited"] == result["submissions"]
