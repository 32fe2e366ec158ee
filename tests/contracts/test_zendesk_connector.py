"""The Zendesk connector parses each published response (``tests/contracts/zendesk/``) into the
expected rows: `responses` serves the fixture, the real source loads it into DuckDB with dlt.
Both documented metric-set shapes are also loaded end to end from the simulator."""

from __future__ import annotations

import copy
import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dlt
import pytest
import responses
from dlt.pipeline.exceptions import PipelineStepFailed
from responses import matchers

from common.errors import AuthError
from connectors.stats import STATS
from connectors.zendesk import zendesk_source
from simulators.zendesk import ZendeskSimulator
from tests.contracts.shapes import load

BASE = "https://acme.zendesk.com"
TICKETS = f"{BASE}/api/v2/incremental/tickets/cursor.json"
FIELDS = f"{BASE}/api/v2/ticket_fields.json"
METRIC_EVENTS = f"{BASE}/api/v2/incremental/ticket_metric_events.json"


@pytest.fixture(autouse=True)
def zendesk_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("SOURCES__", "CREDENTIALS__")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    monkeypatch.setenv("SOURCES__ZENDESK__BASE_URL", BASE)
    monkeypatch.setenv("SOURCES__ZENDESK__CREDENTIALS__EMAIL", "agent@acme.com")
    monkeypatch.setenv("SOURCES__ZENDESK__CREDENTIALS__API_TOKEN", "zd-contract-token")
    monkeypatch.setenv("SOURCES__ZENDESK__MAX_ATTEMPTS", "1")
    STATS.reset()


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def pipeline(tmp_path: Path) -> dlt.Pipeline:
    return dlt.pipeline(
        pipeline_name="zendesk_contracts",
        pipelines_dir=str(tmp_path),
        destination=dlt.destinations.duckdb(str(tmp_path / "contracts.duckdb")),
        dataset_name="zendesk",
    )


def rows(p: dlt.Pipeline, sql: str) -> list[tuple[Any, ...]]:
    with p.sql_client() as client:
        return [tuple(r) for r in client.execute_sql(sql)]


def columns(p: dlt.Pipeline, table: str) -> set[str]:
    found = rows(
        p,
        f"select column_name from information_schema.columns where table_schema = 'zendesk' and table_name = '{table}'",
    )
    return {name for (name,) in found}


def query(**params: Any) -> list[Any]:
    return [matchers.query_param_matcher({k: str(v) for k, v in params.items()})]


def no_ticket_fields(mock: responses.RequestsMock) -> None:
    mock.get(FIELDS, json={"ticket_fields": [], "meta": {"has_more": False}, "links": {"next": None}})


def epoch(iso: str) -> int:
    return int(dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


# -- tickets and their metric sets --------------------------------------------------------------

METRIC_ROW = (5527084754447, 35436, 0, 0, 0, 0)
METRIC_SQL = (
    "select id, ticket_id, reopens, replies, group_stations, on_hold_time_in_minutes__calendar from ticket_metrics"
)


@pytest.mark.parametrize("fixture", ["tickets_export_embedded_metric_sets", "tickets_export_top_level_metric_sets"])
def test_tickets_export_in_either_metric_set_shape(mock: responses.RequestsMock, tmp_path: Path, fixture: str) -> None:
    no_ticket_fields(mock)
    mock.get(TICKETS, json=load("zendesk", fixture), match=query(include="metric_sets", per_page=1000, start_time=0))
    p = pipeline(tmp_path)

    p.run(zendesk_source().with_resources("tickets"))

    assert rows(p, "select id, status, priority, subject, via__channel, group_id from tickets") == [
        (35436, "open", "high", "Help, my printer is on fire!", "web", 98738)
    ]
    assert rows(p, METRIC_SQL) == [METRIC_ROW]
    # the embedded object is a ticket_metrics row, never metric_set__… ticket columns
    assert not [c for c in columns(p, "tickets") if c.startswith("metric_set")]
    assert not STATS.get("zendesk", "tickets").warnings
    assert p.state["sources"]["zendesk"]["resources"]["tickets"]["cursor"] == "MTU3NjYxMzUzOS4wfHw0Njd8"


def test_a_ticket_with_its_metric_set_in_both_shapes_has_one(mock: responses.RequestsMock, tmp_path: Path) -> None:
    body = load("zendesk", "tickets_export_embedded_metric_sets")
    body["metric_sets"] = [copy.deepcopy(body["tickets"][0]["metric_set"])]
    no_ticket_fields(mock)
    mock.get(TICKETS, json=body)
    p = pipeline(tmp_path)

    p.run(zendesk_source().with_resources("tickets"))

    assert rows(p, METRIC_SQL) == [METRIC_ROW]
    # one ticket and one metric set, each counted under its own table (as the summary counts them)
    assert (STATS.get("zendesk", "tickets").records, STATS.get("zendesk", "ticket_metrics").records) == (1, 1)


def test_a_page_of_tickets_without_metric_sets_is_a_warning(mock: responses.RequestsMock, tmp_path: Path) -> None:
    body = load("zendesk", "tickets_export_embedded_metric_sets")
    del body["tickets"][0]["metric_set"]
    no_ticket_fields(mock)
    mock.get(TICKETS, json=body)
    p = pipeline(tmp_path)

    p.run(zendesk_source().with_resources("tickets"))

    assert rows(p, "select id from tickets") == [(35436,)]  # the tickets still load
    (warning,) = STATS.get("zendesk", "tickets").warnings
    assert "metric_sets" in warning
    assert "zendesk.ticket_metrics" in warning


# -- ticket metric events: the time form, and the cursor form for a crowded second -------------


def test_ticket_metric_events_time_form_and_the_next_run(mock: responses.RequestsMock, tmp_path: Path) -> None:
    mock.get(METRIC_EVENTS, json=load("zendesk", "ticket_metric_events_time"), match=query(start_time=0))
    p = pipeline(tmp_path)
    p.run(zendesk_source().with_resources("ticket_metric_events"))

    assert rows(p, "select id, ticket_id, metric, type, instance_id from ticket_metric_events order by id") == [
        (123456, 112233, "reply_time", "measure", 987654),
        (123457, 987, "requester_wait_time", "activate", 1),
    ]
    # the next run starts one second before the newest event (the overlap is merged on id)
    resume = epoch("2024-01-15T10:30:00Z") - 1
    state = p.state["sources"]["zendesk"]["resources"]["ticket_metric_events"]
    assert state["start_time"] == resume
    later = {"ticket_metric_events": [], "count": 0, "end_time": resume, "next_page": None}
    mock.get(METRIC_EVENTS, json=later, match=query(start_time=resume))
    p.run(zendesk_source().with_resources("ticket_metric_events"))


def _event(i: int, when: str) -> dict[str, Any]:
    return {
        "id": 1000 + i,
        "ticket_id": 1 + i % 7,
        "metric": "reply_time",
        "instance_id": 1,
        "type": "activate",
        "time": when,
    }


@pytest.mark.parametrize("api_next", ["same_second", "next_second"])
def test_a_second_holding_more_than_a_page_is_read_whole_by_cursor(
    mock: responses.RequestsMock, tmp_path: Path, api_next: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The time form cannot split a second: with 1,250 events in one second it sends 1,000 and
    then either the same page again or the next second (the excess lost). A full page inside one
    second switches to the cursor form (page[size] ≤ 100) from that second until an event is past
    it, then the time form goes on: every event arrives, and the rest costs time-form requests."""
    # 15 export requests: past Zendesk's 10 a minute, which the pacing would wait out for real.
    monkeypatch.setenv("SOURCES__ZENDESK__EXPORT_RATE_LIMIT", "1000")
    second, later_second = "2024-05-01T12:00:00Z", "2024-05-01T12:00:05Z"
    s, s5 = epoch(second), epoch(later_second)
    crowd = [_event(i, second) for i in range(1250)]
    after = [_event(2000, later_second), _event(2001, "2024-05-01T12:00:09Z")]
    next_start = s if api_next == "same_second" else s + 1
    mock.get(
        METRIC_EVENTS,
        json={
            "ticket_metric_events": crowd[:1000],
            "count": 1000,
            "end_time": s,
            "next_page": f"{METRIC_EVENTS}?start_time={next_start}",
        },
        match=query(start_time=0),
    )
    cursor_pages = [crowd[k : k + 100] for k in range(0, 1250, 100)]
    cursor_pages[-1] = cursor_pages[-1] + after[:1]  # the last cursor page reaches past the second
    for n, page in enumerate(cursor_pages):
        params: dict[str, Any] = {"start_time": s, "page[size]": 100}
        if n:
            params["page[after]"] = f"c{n}"
        mock.get(
            METRIC_EVENTS,
            json={
                "ticket_metric_events": page,
                "meta": {"has_more": True, "after_cursor": f"c{n + 1}", "before_cursor": f"b{n}"},
                "links": {"next": f"{METRIC_EVENTS}?page[after]=c{n + 1}&page[size]=100"},
            },
            match=query(**params),
        )
    mock.get(
        METRIC_EVENTS,
        json={"ticket_metric_events": after, "count": 2, "end_time": epoch(after[1]["time"]), "next_page": None},
        match=query(start_time=s5),
    )
    p = pipeline(tmp_path)

    p.run(zendesk_source().with_resources("ticket_metric_events"))

    assert rows(p, "select count(*), count(distinct id) from ticket_metric_events") == [(1252, 1252)]
    state = p.state["sources"]["zendesk"]["resources"]["ticket_metric_events"]
    assert state["start_time"] == epoch(after[1]["time"]) - 1


def test_a_run_stopped_inside_a_crowded_second_reads_it_again() -> None:
    """Inside the crowded second the resumable position stays at that second."""
    from connectors.paginators import Request, ZendeskCrowdedSecondPaginator

    pager = ZendeskCrowdedSecondPaginator("ticket_metric_events", page_size=3, cursor_page=2)
    request = Request(url="/x", params={"start_time": 0})
    pager.init_request(request)
    same = "2024-05-01T12:00:00Z"
    pager.update_state(None, {"ticket_metric_events": [_event(i, same) for i in range(3)], "end_time": 1})  # type: ignore[arg-type]
    assert pager.has_next_page
    assert pager.crowded == epoch(same)
    assert pager.end_time == epoch(same)
    pager.update_request(request)
    assert request.params == {"start_time": epoch(same), "page[size]": 2}
    pager.update_state(None, {"ticket_metric_events": [_event(9, same)], "meta": {"has_more": False}})  # type: ignore[arg-type]
    assert not pager.has_next_page
    assert pager.end_time == epoch(same)


# -- the other endpoints ------------------------------------------------------------------------

CASES = [
    (
        "users",
        "/api/v2/incremental/users/cursor.json",
        "users_export",
        "select id, email, role, active, suspended, time_zone from users",
        [(6128164851599, "integration-test+amberblanchard@airbyte.io", "end-user", True, False, "Pacific/Noumea")],
    ),
    (
        "organizations",
        "/api/v2/incremental/organizations.json",
        "organizations_export",
        "select id, name, external_id, group_id, domain_names from organizations",
        [(35436, "Test Organization", "org123", 98738, '["example.com"]')],
    ),
    (
        "satisfaction_ratings",
        "/api/v2/satisfaction_ratings.json",
        "satisfaction_ratings",
        "select id, score, ticket_id, assignee_id, comment from satisfaction_ratings",
        [(35436, "good", 35436, 235323, "Great support!")],
    ),
    (
        "sla_policies",
        "/api/v2/slas/policies.json",
        "sla_policies",
        "select id, title, position, policy_metrics from sla_policies",
        [
            (
                12345,
                "Default SLA Policy",
                1,
                '[{"priority":"normal","metric":"first_reply_time","target":480,"business_hours":true}]',
            )
        ],
    ),
    (
        "ticket_comments",
        "/api/v2/incremental/ticket_events.json",
        "ticket_events_comment_events",
        "select id, ticket_id, audit_id, author_id, public, body, via_channel from ticket_comments",
        [(91048994488, 123, 926256957613, 5031726587, True, "This is a comment", "api")],
    ),
    (
        "calls",
        "/api/v2/channels/voice/stats/incremental/calls.json",
        "talk_calls_export",
        "select id, agent_id, ticket_id, talk_time, wait_time, hold_time, completion_status, direction from calls",
        [(112233, 12345, 5005, 120, 20, 25, "completed", "inbound")],
    ),
]


@pytest.mark.parametrize(("resource", "path", "fixture", "sql", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_endpoint_parses_its_published_response(
    mock: responses.RequestsMock, tmp_path: Path, resource: str, path: str, fixture: str, sql: str, expected: list[Any]
) -> None:
    mock.get(f"{BASE}{path}", json=load("zendesk", fixture))
    p = pipeline(tmp_path)

    p.run(zendesk_source().with_resources(resource))

    assert rows(p, sql) == expected
    assert len(mock.calls) == 1  # the published page says it is the last one


# -- error bodies -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "path", "status", "fixture"),
    [
        ("sla_policies", "/api/v2/slas/policies.json", 403, "error_403"),
        ("satisfaction_ratings", "/api/v2/satisfaction_ratings.json", 403, "error_403"),
        ("calls", "/api/v2/channels/voice/stats/incremental/calls.json", 404, "error_404"),
        ("ticket_metric_events", "/api/v2/incremental/ticket_metric_events.json", 403, "error_403"),
        ("users", "/api/v2/incremental/users/cursor.json", 401, "error_401"),
    ],
)
def test_a_refused_optional_endpoint_is_skipped_with_the_reason(
    mock: responses.RequestsMock, tmp_path: Path, resource: str, path: str, status: int, fixture: str
) -> None:
    mock.get(f"{BASE}{path}", status=status, json=load("zendesk", fixture))
    p = pipeline(tmp_path)

    p.run(zendesk_source().with_resources(resource))

    skipped = STATS.get("zendesk", resource).skipped
    assert f"HTTP {status}" in skipped
    assert f"zendesk.{resource}" in skipped


def test_refused_tickets_fail_the_run(mock: responses.RequestsMock, tmp_path: Path) -> None:
    mock.get(FIELDS, status=401, json=load("zendesk", "error_401"))
    mock.get(TICKETS, status=401, json=load("zendesk", "error_401"))

    with pytest.raises(PipelineStepFailed) as info:
        pipeline(tmp_path).run(zendesk_source().with_resources("tickets"))

    seen: BaseException | None = info.value
    while seen is not None and not isinstance(seen, AuthError):
        seen = seen.__cause__ or seen.__context__
    assert isinstance(seen, AuthError)
    assert seen.endpoint == "zendesk.tickets"


# -- both metric-set shapes end to end, from the simulator --------------------------------------


@pytest.mark.parametrize("shape", ["embedded", "top_level"])
def test_simulator_metric_sets_in_either_shape_reach_ticket_metrics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shape: str
) -> None:
    sim = ZendeskSimulator(
        seed=21, n_tickets=400, page_size=150, export_rpm=100_000, account_rpm=100_000, metric_sets=shape
    )
    with sim.serve() as base_url:
        monkeypatch.setenv("SOURCES__ZENDESK__BASE_URL", base_url)
        monkeypatch.setenv("SOURCES__ZENDESK__CREDENTIALS__EMAIL", sim.email)
        monkeypatch.setenv("SOURCES__ZENDESK__CREDENTIALS__API_TOKEN", sim.api_token)
        monkeypatch.setenv("SOURCES__ZENDESK__EXPORT_RATE_LIMIT", "100000")
        p = pipeline(tmp_path)
        p.run(zendesk_source().with_resources("tickets"))

    expected = sorted((m["id"], m["ticket_id"], m["reopens"], m["replies"]) for m in sim.records("metric_sets"))
    assert len(expected) == sim.n_tickets
    assert rows(p, "select id, ticket_id, reopens, replies from ticket_metrics order by id") == expected
    assert rows(p, "select count(*) from tickets") == [(sim.n_tickets,)]
    assert not [c for c in columns(p, "tickets") if c.startswith("metric_set")]
    assert not STATS.get("zendesk", "tickets").warnings


# -- records held in quarantine, read again with Show Many ---------------------------------------

SHOW_MANY_CASES = [
    (
        "users",
        "/api/v2/incremental/users/cursor.json",
        "users_export",
        "/api/v2/users/show_many.json",
        {"include_deleted": "true"},
        "users_show_many",
        "select id, email, role from users",
        [(6128164851599, "integration-test+amberblanchard@airbyte.io", "end-user")],
    ),
    (
        "organizations",
        "/api/v2/incremental/organizations.json",
        "organizations_export",
        "/api/v2/organizations/show_many.json",
        {},
        "organizations_show_many",
        "select id, name, external_id from organizations",
        [(35436, "Test Organization", "org123")],
    ),
]


@pytest.mark.parametrize(
    ("resource", "path", "export", "show_many", "params", "fixture", "sql", "expected"),
    SHOW_MANY_CASES,
    ids=[c[0] for c in SHOW_MANY_CASES],
)
def test_held_records_are_read_again_with_show_many(
    mock: responses.RequestsMock,
    tmp_path: Path,
    resource: str,
    path: str,
    export: str,
    show_many: str,
    params: dict[str, str],
    fixture: str,
    sql: str,
    expected: list[Any],
) -> None:
    """A user or organization held in quarantine is asked for by id after its export (which no
    longer sends it); the published Show Many answer loads, and the key is noted as read valid."""
    from connectors.rejects import REJECTS

    REJECTS.reset()
    key = str(expected[0][0])
    REJECTS.hold("zendesk", {resource: [key, "not-a-number"]})
    empty = copy.deepcopy(load("zendesk", export))
    empty[resource] = []
    mock.get(f"{BASE}{path}", json=empty)
    mock.get(f"{BASE}{show_many}", json=load("zendesk", fixture), match=query(ids=key, **params))
    p = pipeline(tmp_path)
    try:
        p.run(zendesk_source().with_resources(resource))

        assert rows(p, sql) == expected
        assert REJECTS.accepted("zendesk") == {resource: {key}}
    finally:
        REJECTS.reset()


def test_a_refused_show_many_keeps_an_optional_streams_records_held(
    mock: responses.RequestsMock, tmp_path: Path
) -> None:
    """An account that may export users but not show them by id (403): the stream still loads,
    its held records stay held, and the run says why."""
    from connectors.rejects import REJECTS

    REJECTS.reset()
    REJECTS.hold("zendesk", {"users": ["6128164851599"]})
    mock.get(f"{BASE}/api/v2/incremental/users/cursor.json", json=load("zendesk", "users_export"))
    mock.get(f"{BASE}/api/v2/users/show_many.json", status=403, json=load("zendesk", "error_403"))
    p = pipeline(tmp_path)
    try:
        p.run(zendesk_source().with_resources("users"))

        assert rows(p, "select id from users") == [(6128164851599,)]  # the export's page loads
        stats = STATS.get("zendesk", "users")
        assert not stats.skipped
        assert any("held records could not be read again by id" in w and "HTTP 403" in w for w in stats.warnings)
    finally:
        REJECTS.reset()
