"""``supportlake check`` end to end against each simulator, configured as a user configures a sync
(``SOURCES__...`` environment variables): good credentials, bad credentials, a missing scope, a
disabled feature, missing settings."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from simulators.confluence import ConfluenceSimulator
from simulators.salesforce import SalesforceSimulator
from simulators.zendesk import ZendeskSimulator
from warehouse.cli import main

Table = dict[tuple[str, str], tuple[str, str]]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Table, str]:
    """Exit code, the table as {(source, endpoint): (result, what to do)}, and all output."""
    code = main(["check", *args])
    captured = capsys.readouterr()
    table: Table = {}
    lines = captured.out.splitlines()
    assert lines, captured.err
    assert lines[0].split()[:2] == ["source", "endpoint"], captured.out + captured.err
    for line in lines[2:]:
        if not line.strip():
            break
        cells = re.split(r"\s{2,}", line.strip(), maxsplit=4)
        table[(cells[0], cells[1])] = (cells[3], cells[4] if len(cells) > 4 else "")
    return code, table, captured.out + captured.err


def verdicts(table: Table, source: str) -> dict[str, str]:
    return {name: v for (s, name), (v, _) in table.items() if s == source}


@pytest.fixture
def zendesk(monkeypatch: pytest.MonkeyPatch) -> Iterator[ZendeskSimulator]:
    sim = ZendeskSimulator(seed=3, n_tickets=200, disabled=["talk"])
    with sim.serve() as url:
        monkeypatch.setenv("SOURCES__ZENDESK__BASE_URL", url)
        monkeypatch.setenv("SOURCES__ZENDESK__CREDENTIALS__EMAIL", sim.email)
        monkeypatch.setenv("SOURCES__ZENDESK__CREDENTIALS__API_TOKEN", sim.api_token)
        yield sim


@pytest.fixture
def salesforce(monkeypatch: pytest.MonkeyPatch) -> Iterator[SalesforceSimulator]:
    sim = SalesforceSimulator(seed=3, n_cases=100)
    with sim.serve() as url:
        monkeypatch.setenv("SOURCES__SALESFORCE__BASE_URL", url)
        monkeypatch.setenv("SOURCES__SALESFORCE__CREDENTIALS__CLIENT_ID", sim.client_id)
        monkeypatch.setenv("SOURCES__SALESFORCE__CREDENTIALS__CLIENT_SECRET", sim.client_secret)
        monkeypatch.setenv("SOURCES__SALESFORCE__CREDENTIALS__USERNAME", sim.username)
        monkeypatch.setenv("SOURCES__SALESFORCE__CREDENTIALS__PASSWORD", sim.password)
        monkeypatch.setenv("SOURCES__SALESFORCE__CREDENTIALS__SECURITY_TOKEN", sim.security_token)
        yield sim


def serve_confluence(monkeypatch: pytest.MonkeyPatch, sim: ConfluenceSimulator) -> Iterator[ConfluenceSimulator]:
    with sim.serve() as url:
        monkeypatch.setenv("SOURCES__CONFLUENCE__BASE_URL", url)
        monkeypatch.setenv("SOURCES__CONFLUENCE__CREDENTIALS__EMAIL", sim.email)
        monkeypatch.setenv("SOURCES__CONFLUENCE__CREDENTIALS__API_TOKEN", sim.api_token)
        yield sim


@pytest.fixture
def confluence(monkeypatch: pytest.MonkeyPatch) -> Iterator[ConfluenceSimulator]:
    yield from serve_confluence(monkeypatch, ConfluenceSimulator(seed=3, n_extra_pages=20, n_blogposts=3))


def test_zendesk_good_credentials_and_talk_disabled(
    zendesk: ZendeskSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    code, table, out = run(capsys, "--source", "zendesk")
    assert code == 0, out
    got = verdicts(table, "zendesk")
    assert got.pop("calls") == "feature not enabled"
    assert "Talk is not enabled on this account" in table[("zendesk", "calls")][1]
    assert set(got.values()) == {"ok"}
    assert set(got) >= {"tickets", "users", "sla_policies", "satisfaction_ratings", "ticket_comments"}
    # one request per endpoint, each export probed once: well under the 10 a minute
    assert zendesk.stats.total == len(table)
    assert zendesk.api_token not in out


def test_zendesk_bad_credentials(
    zendesk: ZendeskSimulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = "FAKE-wrong-zendesk-token-4242"
    monkeypatch.setenv("SOURCES__ZENDESK__CREDENTIALS__API_TOKEN", wrong)
    code, table, out = run(capsys, "--source", "zendesk")
    assert code == 2  # refused credentials are fixed in the settings: the same code as a sync
    verdict, fix = table[("zendesk", "tickets")]
    assert verdict == "credentials refused"
    assert "SOURCES__ZENDESK__CREDENTIALS__EMAIL" in fix
    assert "SOURCES__ZENDESK__CREDENTIALS__API_TOKEN" in fix
    assert wrong not in out


def test_salesforce_good_and_bad_credentials(
    salesforce: SalesforceSimulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, table, out = run(capsys, "--source", "salesforce")
    assert code == 0, out
    got = verdicts(table, "salesforce")
    assert set(got.values()) == {"ok"}, table
    assert {"login", "limits", "describe", "Case", "AgentWork", "Case deleted", "Bulk API 2.0"} <= set(got)

    monkeypatch.setenv("SOURCES__SALESFORCE__CREDENTIALS__PASSWORD", "FAKE-wrong-password-77")
    code, table, out = run(capsys, "--source", "salesforce")
    assert code == 2  # refused credentials are fixed in the settings: the same code as a sync
    verdict, fix = table[("salesforce", "login")]
    assert verdict == "credentials refused"
    assert "SOURCES__SALESFORCE__CREDENTIALS__PASSWORD" in fix
    assert table[("salesforce", "Case")][0] == "not checked"
    assert "FAKE-wrong-password-77" not in out
    assert salesforce.client_secret not in out


def test_salesforce_object_the_user_cannot_see(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sim = SalesforceSimulator(seed=3, n_cases=50, hidden_objects=["AgentWork"])
    with sim.serve() as url:
        monkeypatch.setenv("SOURCES__SALESFORCE__BASE_URL", url)
        for name in ("client_id", "client_secret", "username", "password", "security_token"):
            monkeypatch.setenv(f"SOURCES__SALESFORCE__CREDENTIALS__{name.upper()}", getattr(sim, name))
        code, table, out = run(capsys, "--source", "salesforce")
    assert code == 0, out  # AgentWork is optional
    verdict, fix = table[("salesforce", "AgentWork")]
    assert verdict == "missing scope or permission"
    assert "the integration user needs read access to AgentWork (Omni-Channel)" in fix


def test_confluence_good_and_bad_credentials(
    confluence: ConfluenceSimulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, table, out = run(capsys, "--source", "confluence")
    assert code == 0, out
    got = verdicts(table, "confluence")
    assert set(got.values()) == {"ok"}, table
    assert {"pages", "spaces", "blogposts", "page labels", "label sweep"} <= set(got)

    monkeypatch.setenv("SOURCES__CONFLUENCE__CREDENTIALS__API_TOKEN", "FAKE-wrong-confluence-token-9")
    code, table, out = run(capsys, "--source", "confluence")
    assert code == 2  # refused credentials are fixed in the settings: the same code as a sync
    verdict, fix = table[("confluence", "pages")]
    assert verdict == "credentials refused"
    assert "SOURCES__CONFLUENCE__CREDENTIALS__API_TOKEN" in fix
    assert "FAKE-wrong-confluence-token-9" not in out


def test_confluence_token_without_read_label(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sim = ConfluenceSimulator(seed=3, n_extra_pages=20, n_blogposts=3, without_scopes=("read:label",))
    for _ in serve_confluence(monkeypatch, sim):
        code, table, out = run(capsys, "--source", "confluence")
    assert code == 0, out  # pages are readable: the sweep is optional
    verdict, fix = table[("confluence", "label sweep")]
    assert verdict == "missing scope or permission"
    assert "read:label" in fix
    assert table[("confluence", "page labels")][0] == "ok"
    assert table[("confluence", "pages")][0] == "ok"


def test_every_configured_source_by_default(
    zendesk: ZendeskSimulator,
    salesforce: SalesforceSimulator,
    confluence: ConfluenceSimulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, table, out = run(capsys)
    assert code == 0, out
    assert {s for s, _ in table} == {"zendesk", "salesforce", "confluence"}
    assert "every primary object is readable (zendesk.tickets, salesforce.Case, confluence.pages)" in out


def test_missing_settings_are_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SOURCES__ZENDESK__BASE_URL", "http://127.0.0.1:9")
    code, table, _out = run(capsys, "--source", "zendesk")
    assert code == 2
    verdict, fix = table[("zendesk", "settings")]
    assert verdict == "configuration error"
    assert "SOURCES__ZENDESK__CREDENTIALS__API_TOKEN" in fix


def test_nothing_configured_is_a_configuration_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 2
    assert "no source is configured" in capsys.readouterr().err


def test_confluence_space_keys_resolved_as_the_sync_resolves_them(
    confluence: ConfluenceSimulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SOURCES__CONFLUENCE__SPACE_KEYS", "SUP,NOPE")
    code, table, out = run(capsys, "--source", "confluence")
    assert code == 0, out
    verdict, note = table[("confluence", "space keys")]
    assert verdict == "ok"
    assert "NOPE" in note

    monkeypatch.setenv("SOURCES__CONFLUENCE__SPACE_KEYS", "NOPE,NADA")
    code, table, out = run(capsys, "--source", "confluence")
    assert code == 2
    verdict, fix = table[("confluence", "space keys")]
    assert verdict == "configuration error"
    assert "SOURCES__CONFLUENCE__SPACE_KEYS" in fix
