"""The log module in process: every record scrubbed as it is made for any handler (message, extra fields, stack,
traceback), the JSON line's exact fields, the logging set-up, gunicorn's access and error logs, the registry of
secrets and the request id. Fast on purpose: mutation testing runs these against each change to app/logs.py."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from flask import Flask, g
from gunicorn.config import Config

from app import logs

SECRET = "db-Pa55word-9x"
LINK = "aswl_" + "A1b2-C3d_" * 5


@pytest.fixture
def registry():
    registry = logs.SecretRegistry()
    registry.add_permanent(SECRET)
    logs.watch(registry)
    yield registry
    logs._registries.discard(registry)


@pytest.fixture
def plain_log():
    """A handler as a deployment might add one: plain text, naming an extra field, on a logger of its own."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s|%(typed)s|%(count)s"))
    logger = logging.getLogger("test_logs.plain")
    logger.addHandler(handler)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


class Kept(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def kept():
    handler = Kept()
    logger = logging.getLogger("test_logs.kept")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    yield logger, handler.records
    logger.removeHandler(handler)


def test_a_handler_a_deployment_adds_sees_the_message_and_extra_fields_scrubbed(registry, plain_log):
    logger, stream = plain_log
    logger.warning("typed %s", SECRET, extra={"typed": f"pw={SECRET}", "count": 5})
    assert stream.getvalue() == f"typed {logs.REDACTED}|pw={logs.REDACTED}|5\n"


def test_extra_fields_keep_their_type_unless_their_text_quotes_a_secret(registry, kept):
    logger, records = kept
    holder = {"password": SECRET}
    logger.info("fields", extra={"count": 5, "flag": None, "holder": holder, "clean": {"a": 1}})
    record = records[0]
    assert record.count == 5 and record.flag is None
    assert record.holder == str({"password": logs.REDACTED})
    assert record.clean == {"a": 1} and type(record.clean) is dict


def test_a_stack_and_a_traceback_are_scrubbed_for_every_handler(registry, kept):
    logger, records = kept
    logger.info("where", stack_info=True)  # the line quotes db-Pa55word-9x, as a stack shows source lines
    try:
        {}[SECRET]
    except KeyError:
        logger.exception("a KeyError shows its key as repr")
    where, failed = records
    assert "test_logs.py" in where.stack_info and SECRET not in where.stack_info
    assert logs.REDACTED in where.stack_info
    assert "KeyError" in failed.exc_text and SECRET not in failed.exc_text and logs.REDACTED in failed.exc_text


def test_a_records_message_is_formatted_as_it_is_made_and_its_arguments_dropped(registry, kept):
    logger, records = kept
    logger.info("count %d of %s", 3, "tables")
    logger.info("cut %.5s", SECRET)  # a handler can no longer format the arguments its own way
    logger.info("%s and %s", SECRET)  # arguments that do not fit: the message as written, no error
    first, cut, unfit = records
    assert (first.msg, first.args, first.getMessage()) == ("count 3 of tables", None, "count 3 of tables")
    assert first.exc_text is None and first.stack_info is None
    assert (cut.msg, cut.args) == ("cut db-Pa", None)
    assert (unfit.msg, unfit.args, unfit.getMessage()) == ("%s and %s", None, "%s and %s")


def test_a_records_exception_is_dropped_once_its_traceback_is_scrubbed(registry, kept):
    logger, records = kept
    try:
        raise ValueError(f"bad {SECRET}")
    except ValueError:
        logger.exception("failed")
    (record,) = records
    assert record.exc_info is None and f"ValueError: bad {logs.REDACTED}" in record.exc_text
    assert logs.JsonFormatter().format(record).count(logs.REDACTED) == 1
    assert logging.Formatter().format(record).endswith(f"ValueError: bad {logs.REDACTED}")


def test_a_credential_links_token_is_scrubbed_before_any_request_registers_it(registry, kept):
    logger, records = kept
    logger.info("GET /credentials/%s", LINK, extra={"path": f"/credentials/{LINK}"})
    assert records[0].getMessage() == f"GET /credentials/aswl_{logs.REDACTED}"
    assert records[0].path == f"/credentials/aswl_{logs.REDACTED}"
    assert logs.scrub("aswl_short") == "aswl_short", "a link token is 20 characters or more"


def test_scrub_asks_every_registry():
    first, second = logs.SecretRegistry(), logs.SecretRegistry()
    first.add_permanent("first-secret")
    second.add_permanent("second-secret")
    logs.watch(first)
    logs.watch(second)
    try:
        assert logs.scrub("first-secret second-secret") == f"{logs.REDACTED} {logs.REDACTED}"
    finally:
        logs._registries.discard(first)
        logs._registries.discard(second)
    assert logs.scrub("first-secret") == "first-secret"


# The JSON line.


def _record(**fields) -> logging.LogRecord:
    base = {"name": "wizard.test", "levelno": 30, "levelname": "WARNING", "msg": "made %s", "args": ("it",)}
    return logging.makeLogRecord({**base, "created": 86400.5, "msecs": 7.9, **fields})


def test_a_json_line_holds_exactly_time_level_logger_message_and_extra_fields():
    record = _record(table="crm.people", _private="kept out")
    line = logs.JsonFormatter().format(record)
    assert json.loads(line) == {
        "time": "1970-01-02T00:00:00.007Z",
        "level": "warning",
        "logger": "wizard.test",
        "message": "made it",
        "table": "crm.people",
    }


def test_a_json_line_in_a_request_names_its_id_person_and_token():
    formatter, app = logs.JsonFormatter(), Flask(__name__)
    with app.test_request_context():
        g.request_id = "rid-12345678"
        assert json.loads(formatter.format(_record())) == {
            "time": "1970-01-02T00:00:00.007Z",
            "level": "warning",
            "logger": "wizard.test",
            "message": "made it",
            "request_id": "rid-12345678",
        }
        g.user, g.token = "ada", {"name": "deploy", "prefix": "aswt_ab12"}
        entry = json.loads(formatter.format(_record()))
    assert (entry["user"], entry["token"]) == ("ada", "deploy (aswt_ab12)")


def test_a_json_line_carries_the_traceback_once_formatted_or_as_it_was_scrubbed(registry):
    formatter = logs.JsonFormatter()
    try:
        raise ValueError("broken")
    except ValueError:
        exc_info = sys.exc_info()
    entry = json.loads(formatter.format(_record(exc_info=exc_info)))
    assert entry["exception"].startswith("Traceback") and entry["exception"].endswith("ValueError: broken")
    assert json.loads(formatter.format(_record(exc_info=exc_info, exc_text="already")))["exception"] == "already"
    assert "exception" not in json.loads(formatter.format(_record()))


def test_a_json_line_carries_text_as_it_is_and_anything_else_as_its_text():
    when = datetime(2026, 12, 6, 18, 0, tzinfo=UTC)
    line = logs.JsonFormatter().format(_record(msg="Zürich façade", args=(), when=when))
    assert '"message": "Zürich façade"' in line and '"when": "2026-12-06 18:00:00+00:00"' in line


def test_the_record_factory_takes_what_logging_passes_by_name():
    record = logs._scrubbed_record("n", logging.INFO, "f.py", 1, "m", (), None, func="here", sinfo="Stack: x")
    assert (record.funcName, record.stack_info, record.getMessage()) == ("here", "Stack: x", "m")


def test_a_json_line_is_scrubbed_of_a_secret_in_a_field_that_is_not_text(registry):
    line = logs.JsonFormatter().format(_record(holder={"password": 'q"uote-' + SECRET}))
    assert SECRET not in line and logs.REDACTED in line


# The set-up.


@pytest.fixture
def root_kept():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    plugins = logging.getLogger("alembic.runtime.plugins")
    plugins_level = plugins.level
    yield root
    root.handlers[:] = handlers
    root.setLevel(level)
    plugins.setLevel(plugins_level)


def test_configure_sends_the_root_loggers_records_to_stdout_as_json_lines(root_kept, capsys):
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.NOTSET)
    logs.configure()
    assert root_kept.level == logging.INFO
    assert logging.getLogger("alembic.runtime.plugins").level == logging.WARNING
    (handler,) = root_kept.handlers
    assert isinstance(handler.formatter, logs.JsonFormatter) and handler.stream is sys.stdout
    logging.getLogger("test_logs.configured").info("hello")
    logging.getLogger("test_logs.configured").debug("not at INFO")
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["message"] == "hello"
    logs.configure(logging.DEBUG)
    assert root_kept.level == logging.DEBUG


# gunicorn's logs.


def _gunicorn(**settings) -> logs.GunicornLogger:
    cfg = Config()
    for name, value in settings.items():
        cfg.set(name, value)
    return logs.GunicornLogger(cfg)


@pytest.fixture
def gunicorn_kept():
    loggers = [logging.getLogger(name) for name in ("gunicorn.error", "gunicorn.access")]
    kept = [(logger.handlers[:], logger.propagate) for logger in loggers]
    yield
    for logger, (handlers, propagate) in zip(loggers, kept, strict=True):
        logger.handlers[:] = handlers
        logger.propagate = propagate


def _response(status="200 OK", headers=(("X-Request-Id", "rid-87654321"), ("Content-Type", "text/html")), sent=1234):
    return SimpleNamespace(status=status, headers=list(headers), sent=sent)


ENVIRON = {"REQUEST_METHOD": "GET", "PATH_INFO": f"/credentials/{LINK}", "REMOTE_ADDR": "10.0.0.7", "QUERY_STRING": "q"}


@pytest.mark.parametrize("setting", [{"accesslog": "-"}, {"syslog": True}])
def test_gunicorns_access_log_is_one_json_line_without_query_or_token(gunicorn_kept, capsys, registry, setting):
    glog = _gunicorn(**setting)
    glog.access(_response(), None, ENVIRON, timedelta(microseconds=12345))
    (line,) = capsys.readouterr().out.splitlines()
    entry = json.loads(line)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry.pop("time"))
    assert entry == {
        "level": "info",
        "logger": "gunicorn.access",
        "message": "request",
        "method": "GET",
        "path": f"/credentials/aswl_{logs.REDACTED}",
        "status": 200,
        "bytes": 1234,
        "duration_ms": 12.3,
        "remote": "10.0.0.7",
        "request_id": "rid-87654321",
    }


def test_gunicorns_access_log_without_a_status_headers_or_size(gunicorn_kept, capsys, registry):
    glog = _gunicorn(accesslog="-")
    glog.access(SimpleNamespace(status=None, headers=None), None, {}, timedelta(seconds=2))
    entry = json.loads(capsys.readouterr().out)
    assert {key: entry[key] for key in ("status", "bytes", "path", "request_id", "duration_ms")} == {
        "status": None,
        "bytes": None,
        "path": None,
        "request_id": None,
        "duration_ms": 2000.0,
    }


def test_gunicorn_writes_no_access_log_unless_asked(gunicorn_kept, capsys, registry):
    _gunicorn().access(_response(), None, ENVIRON, timedelta(seconds=1))
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("setting", ["logconfig", "logconfig_dict"])
def test_gunicorn_writes_the_access_log_when_a_log_config_asks(gunicorn_kept, capsys, registry, setting, tmp_path):
    if setting == "logconfig":
        config = tmp_path / "logging.conf"
        config.write_text(
            "[loggers]\nkeys=root\n[handlers]\nkeys=null\n[formatters]\nkeys=\n"
            "[logger_root]\nhandlers=null\n[handler_null]\nclass=NullHandler\nargs=()\n"
        )
        glog = _gunicorn(logconfig=str(config))
    else:
        glog = _gunicorn(logconfig_dict={"version": 1, "disable_existing_loggers": False})
    glog.access(_response(), None, ENVIRON, timedelta(seconds=1))
    assert json.loads(capsys.readouterr().out)["message"] == "request"


def test_gunicorns_error_log_is_json_on_stdout_only_and_scrubbed(gunicorn_kept, capsys, registry):
    glog = _gunicorn(accesslog="-")
    glog.error("worker failed with %s", SECRET)
    captured = capsys.readouterr()
    entry = json.loads(captured.out)
    assert (entry["logger"], entry["level"], entry["message"]) == (
        "gunicorn.error",
        "error",
        f"worker failed with {logs.REDACTED}",
    )
    assert captured.err == ""
    for name in ("gunicorn.error", "gunicorn.access"):
        logger = logging.getLogger(name)
        assert logger.propagate is False and [type(h.formatter) for h in logger.handlers] == [logs.JsonFormatter]


# The registry of secrets.


def test_the_registry_keeps_the_newest_tokens_and_every_permanent_secret():
    registry = logs.SecretRegistry()
    registry.add_permanent("client-secret-1", "")
    tokens = [f"token-{n:03d}" for n in range(logs.SecretRegistry.TOKENS_KEPT + 1)]
    registry.add(*tokens[:-1], "")
    assert set(registry.known()) == {"client-secret-1", *tokens[:-1]}
    registry.add(tokens[0])  # known already: no new room taken
    assert len(registry.known()) == logs.SecretRegistry.TOKENS_KEPT + 1
    registry.add(tokens[-1])
    assert set(registry.known()) == {"client-secret-1", *tokens[1:]}


def test_the_registry_knows_a_requests_secrets_only_during_it_longest_first():
    registry, app = logs.SecretRegistry(), Flask(__name__)
    registry.add_permanent("four")
    registry.add_for_request("outside-any-request")
    with app.test_request_context():
        registry.add_for_request("typed-password", "")
        registry.add_for_request("pw-2")
        known = registry.known()
        assert known[0] == "typed-password" and set(known[1:]) == {"four", "pw-2"}
    with app.test_request_context():
        assert registry.known() == ["four"]


def test_text_that_quotes_a_secret_is_known_however_short_the_secret():
    registry = logs.SecretRegistry()
    registry.add_permanent("pw")
    assert registry.quotes_secret("a pw here") and not registry.quotes_secret("a p w here")
    assert not registry.quotes_secret("")
    registry.add_permanent('q"pw')
    assert registry.quotes_secret('{"x": "q\\"pw"}')


# The request id.


@pytest.fixture
def id_app(settings):
    def make(proxy_count: int) -> Flask:
        app = Flask(__name__)
        app.config["SETTINGS"] = settings.replace(proxy_count=proxy_count)
        registry = logs.SecretRegistry()
        logs.init_app(app, registry)
        app.add_url_rule("/", "index", lambda: g.request_id)
        made.append(registry)
        return app

    made: list[logs.SecretRegistry] = []
    yield make
    for registry in made:
        logs._registries.discard(registry)


@pytest.mark.parametrize(
    ("offered", "taken"),
    [("a" * 8, True), ("a" * 7, False), ("A1._-" * 25 + "abc", True), ("a" * 129, False), ("bad id 12", False)],
)
def test_a_counted_proxys_request_id_is_taken_when_it_looks_like_one(id_app, offered, taken):
    response = id_app(1).test_client().get("/", headers={"X-Request-Id": offered})
    assert (response.headers["X-Request-Id"] == offered) is taken
    assert response.text == response.headers["X-Request-Id"]
    if not taken:
        assert re.fullmatch(r"[0-9a-f]{32}", response.text)


def test_a_request_id_offered_without_a_counted_proxy_is_not_taken(id_app):
    response = id_app(0).test_client().get("/", headers={"X-Request-Id": "proxy-id-12345678"})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-Id"])


def test_the_longest_secret_is_replaced_first_whatever_their_order_by_letter():
    registry = logs.SecretRegistry()
    registry.add_permanent("zz-pw", "aa-zz-pw-long")
    assert registry.scrub("x aa-zz-pw-long y zz-pw") == f"x {logs.REDACTED} y {logs.REDACTED}"
    assert registry.known() == ["aa-zz-pw-long", "zz-pw"]


def test_a_non_ascii_secret_is_scrubbed_as_a_json_line_carries_it():
    assert logs.shapes_of('é"x-9') == {'é"x-9', 'é\\"x-9', '\\u00e9\\"x-9', "%C3%A9%22x-9", '\\xc3\\xa9"x-9'}


def test_a_secret_is_scrubbed_as_each_percent_encoding_carries_it():
    assert logs.shapes_of("ab/cd+ef==") == {"ab/cd+ef==", "ab%2Fcd%2Bef%3D%3D", "ab/cd%2Bef%3D%3D"}
    assert "my+pass+word" in logs.shapes_of("my pass word")


@pytest.mark.parametrize("text", ["abcd1234wxyz", "1234wxyz-abcd1234", "xx-abcd1234wxyz-1234wxyz"])
def test_secrets_that_overlap_are_replaced_as_one_stretch(text):
    registry = logs.SecretRegistry()
    registry.add_permanent("abcd1234", "1234wxyz", "cd12")
    scrubbed = registry.scrub(text)
    assert not any(part in scrubbed for part in ("abcd", "1234", "wxyz")), scrubbed
    assert (
        scrubbed
        == {
            "abcd1234wxyz": logs.REDACTED,
            "1234wxyz-abcd1234": f"{logs.REDACTED}-{logs.REDACTED}",
            "xx-abcd1234wxyz-1234wxyz": f"xx-{logs.REDACTED}-{logs.REDACTED}",
        }[text]
    )
    assert logs.shapes_of("plain-Token_1.x~") == {"plain-Token_1.x~"}


def test_every_place_a_secret_stands_is_replaced_overlapping_or_apart():
    registry = logs.SecretRegistry()
    registry.add_permanent("zzzz", "abcd1234", "wxyz5678")
    assert registry.scrub("pw zzzz, zzzz and zzzz.") == f"pw {logs.REDACTED}, {logs.REDACTED} and {logs.REDACTED}."
    assert registry.scrub("zzzzz") == logs.REDACTED
    assert registry.scrub("abcd1234wxyz5678") == logs.REDACTED * 2, "two secrets side by side: two stretches"
