"""Secrets never reach a message: registered values, URL user-info and secret query parameters."""

from __future__ import annotations

import base64
import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from common.errors import APIError, AuthError, ConfigError
from common.secrets import (
    MASK,
    RedactingFilter,
    install_log_redaction,
    redact,
    redact_url,
    register_secret,
)
from connectors.auth import BasicAuth, BearerAuth
from schemas.payload import Rejection
from warehouse import quarantine
from warehouse.sql import connection
from warehouse.target import parse_target


def test_redact_masks_a_registered_secret_everywhere() -> None:
    register_secret("p4ssw0rd-registered-1")

    text = redact("login with p4ssw0rd-registered-1 failed; retrying p4ssw0rd-registered-1")

    assert text == f"login with {MASK} failed; retrying {MASK}"


def test_redact_masks_the_longest_secret_first() -> None:
    register_secret("abcd-short-2")
    register_secret("abcd-short-2-and-longer")

    assert redact("x abcd-short-2-and-longer y") == f"x {MASK} y"


def test_short_values_are_not_registered() -> None:
    register_secret("ab")
    register_secret(None)
    register_secret("")

    assert redact("tab about ab") == "tab about ab"


def test_redact_leaves_ordinary_text_alone() -> None:
    assert redact("zendesk.tickets: 503 at https://acme.zendesk.com/api/v2/tickets.json?page=2") == (
        "zendesk.tickets: 503 at https://acme.zendesk.com/api/v2/tickets.json?page=2"
    )
    assert redact("") == ""


def test_redact_masks_url_user_info_and_secret_query_values_inside_text() -> None:
    text = redact(
        "GET https://bot:hunter2@acme.zendesk.com/x?access_token=t0k3n&page=3 "
        "and https://h.example/cb?client_secret=s3cr3t#frag failed"
    )

    for secret in ("hunter2", "t0k3n", "s3cr3t"):
        assert secret not in text
    assert "https://***:***@acme.zendesk.com/x?access_token=***&page=3" in text
    assert "client_secret=***#frag" in text


def test_redact_url_drops_user_info_and_masks_secret_parameters() -> None:
    url = "https://agent:pw-secret@acme.zendesk.com/oauth/cb?code=one-time&state=abc&api_key=k-123&page[size]=100"

    assert redact_url(url) == "https://acme.zendesk.com/oauth/cb?code=***&state=abc&api_key=***&page[size]=100"


@pytest.mark.parametrize(
    "param", ["access_token", "client_secret", "password", "X-Amz-Signature", "sig", "apikey", "session_id"]
)
def test_redact_url_masks_every_secret_looking_parameter(param: str) -> None:
    assert redact_url(f"https://h.example/p?{param}=v4lue-x&n=1") == f"https://h.example/p?{param}=***&n=1"


@pytest.mark.parametrize("param", ["assignee_id", "cursor", "start_time", "include", "encoded"])
def test_redact_url_keeps_ordinary_parameters(param: str) -> None:
    assert redact_url(f"https://h.example/p?{param}=42") == f"https://h.example/p?{param}=42"


def test_redact_url_masks_a_registered_secret_in_the_path() -> None:
    register_secret("path-secret-9f8e")

    assert redact_url("https://h.example/hooks/path-secret-9f8e/run") == "https://h.example/hooks/***/run"


# -- log records --------------------------------------------------------------------------------


@pytest.fixture
def restore_log_filters() -> Iterator[None]:
    """Undo the filters :func:`install_log_redaction` attaches, so no test leaks them."""
    loggers = [logging.getLogger(n) for n in ("supportlake", "connectors", "warehouse", "transforms", "dlt")]
    handlers = list(logging.getLogger().handlers)
    before = {id(x): list(x.filters) for x in [*loggers, *handlers]}
    yield
    for x in [*loggers, *handlers]:
        x.filters[:] = before[id(x)]


def test_redacting_filter_masks_log_records(caplog: pytest.LogCaptureFixture) -> None:
    register_secret("log-secret-3c4d")
    flt = RedactingFilter()
    caplog.handler.addFilter(flt)
    try:
        with caplog.at_level(logging.INFO, logger="supportlake.test"):
            logging.getLogger("supportlake.test").info("token %s sent to %s", "log-secret-3c4d", "https://u:p@h/x")
            logging.getLogger("supportlake.test").info("nothing to hide here: %d", 42)
    finally:
        caplog.handler.removeFilter(flt)

    messages = [r.getMessage() for r in caplog.records]
    assert messages == [f"token {MASK} sent to https://***:***@h/x", "nothing to hide here: 42"]
    assert "log-secret-3c4d" not in caplog.text


def test_redacting_filter_survives_a_malformed_log_call() -> None:
    record = logging.LogRecord("supportlake", logging.INFO, __file__, 1, "%s %s", ("only one",), None)

    assert RedactingFilter().filter(record) is True
    assert record.msg == "%s %s"  # left alone, not raised


@pytest.mark.usefixtures("restore_log_filters")
@pytest.mark.parametrize("logger_name", ["supportlake.http", "dlt.pipeline", "urllib3.connectionpool", "x"])
def test_install_log_redaction_masks_every_logger(caplog: pytest.LogCaptureFixture, logger_name: str) -> None:
    """Any logger, child or not, any handler, even one added after installation."""
    register_secret("installed-secret-5e6f")
    install_log_redaction()
    install_log_redaction()  # idempotent: the factory is not wrapped twice
    late_handler_records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            late_handler_records.append(record)

    late = Keep()
    logging.getLogger(logger_name).addHandler(late)
    try:
        with caplog.at_level(logging.WARNING):
            logging.getLogger(logger_name).warning("retrying with %s", "installed-secret-5e6f")
    finally:
        logging.getLogger(logger_name).removeHandler(late)

    assert caplog.records[-1].getMessage() == f"retrying with {MASK}"
    assert late_handler_records[-1].getMessage() == f"retrying with {MASK}"


# -- auth objects register their secrets --------------------------------------------------------


def test_basic_auth_registers_its_token_so_an_echoing_body_is_masked() -> None:
    token = "zd-basic-token-7a8b9c"
    auth = BasicAuth("agent@acme.com/token", token)
    encoded = base64.b64encode(f"agent@acme.com/token:{token}".encode()).decode()

    err = AuthError(
        "the API refused the credentials.",
        endpoint="zendesk.tickets",
        url="https://acme.zendesk.com/api/v2/tickets.json",
        status=401,
        body=f'{{"error": "invalid token {token}", "header": "Basic {encoded}"}}',
    )

    for leaked in (token, encoded):
        assert leaked not in str(err)
        assert leaked not in err.body
    assert f"invalid token {MASK}" in str(err)
    assert token not in repr(auth)


def test_bearer_auth_registers_its_token() -> None:
    BearerAuth("oauth-access-token-1d2e")

    assert redact("Authorization: Bearer oauth-access-token-1d2e") == f"Authorization: Bearer {MASK}"


def test_every_supportlake_error_is_redacted() -> None:
    register_secret("err-secret-4b5c")

    assert "err-secret-4b5c" not in str(ConfigError("bad value err-secret-4b5c for SOURCES__X__TOKEN"))
    err = APIError("failed", url="https://h.example/x?token=err-secret-4b5c", body="echo err-secret-4b5c")
    assert "err-secret-4b5c" not in str(err)
    assert err.url == "https://h.example/x?token=***"


# -- the quarantine table keeps rejected payloads: redacted, and only ever as parameters --------


def test_a_quarantined_payload_is_redacted(tmp_path: Path) -> None:
    register_secret("quarantine-registered-secret-77")
    payload = {
        "id": 9,
        "description": "the API token is quarantine-registered-secret-77",
        "url": "https://hooks.example.com/cb?access_token=tok-abc-123&x=1",
        "nested": {"link": "https://user:pa55word@example.com/file"},
    }
    reason = "tickets.is_public: value 'quarantine-registered-secret-77' does not fit"
    target = parse_target(f"duckdb:///{tmp_path / 'q.duckdb'}")
    with connection(target) as con:
        quarantine.ensure(con)
        quarantine.store(con, "zendesk", "run1", dt.datetime.now(dt.UTC), [Rejection("tickets", 9, reason, payload)])
        ((stored_reason, stored_payload),) = con.query(f"select reason, payload from {quarantine.TABLE}")
    for text in (stored_reason, stored_payload):
        assert "quarantine-registered-secret-77" not in text
    assert "tok-abc-123" not in stored_payload
    assert "pa55word" not in stored_payload
    assert MASK in stored_payload


def test_quarantine_values_cannot_inject_sql(tmp_path: Path) -> None:
    evil = "x'); drop table supportlake.rejected_records; --"
    target = parse_target(f"duckdb:///{tmp_path / 'q.duckdb'}")
    now = dt.datetime.now(dt.UTC)
    with connection(target) as con:
        quarantine.ensure(con)
        quarantine.store(con, evil, "run1", now, [Rejection(evil, evil, evil, {"id": evil})])
        quarantine.resolve(con, evil, now, {evil: [evil]})
        assert quarantine.held(con, evil) == {}
        rows = con.query(f"select source, table_name, record_key, resolved_at is not null from {quarantine.TABLE}")
    assert rows == [(evil, evil, evil, True)]
