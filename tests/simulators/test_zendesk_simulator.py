"""The Zendesk simulator itself, over HTTP: pagination, errors, limits, faults, mutations, scale.

Every walk compares what the endpoints serve with ``ZendeskSimulator.records``, which is what the
end-to-end tests compare the warehouse with.
"""

from __future__ import annotations

import base64
import datetime as dt
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from simulators.world import TIER_SIZES, build_world
from simulators.zendesk import ZendeskSimulator
from simulators.zendesk.endpoints import _time_page

ROOT = Path(__file__).resolve().parents[2]
PAGE = 200  # a small export page, so a few hundred tickets take several pages


@pytest.fixture(scope="module")
def sim() -> Iterator[ZendeskSimulator]:
    simulator = ZendeskSimulator(seed=3, n_tickets=1200, page_size=PAGE, export_rpm=100_000, account_rpm=100_000)
    with simulator.serve():
        yield simulator


@pytest.fixture(scope="module")
def http(sim: ZendeskSimulator) -> requests.Session:
    session = requests.Session()
    session.auth = (f"{sim.email}/token", sim.api_token)
    return session


@pytest.fixture
def fresh() -> Iterator[ZendeskSimulator]:
    """A simulator of its own, for tests that change limits, faults or data."""
    simulator = ZendeskSimulator(seed=8, n_tickets=600, page_size=150, export_rpm=100_000, account_rpm=100_000)
    with simulator.serve():
        yield simulator


def _session(sim: ZendeskSimulator) -> requests.Session:
    session = requests.Session()
    session.auth = (f"{sim.email}/token", sim.api_token)
    return session


def _get(http: requests.Session, url: str, **params: Any) -> dict[str, Any]:
    response = http.get(url, params=params, timeout=30)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def walk_cursor_export(
    http: requests.Session, base: str, path: str, key: str, start: int = 0, **params: Any
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str, int]:
    """Items, side-loaded metric sets, the final after_cursor and the number of requests."""
    items: list[dict[str, Any]] = []
    sets: list[dict[str, Any]] = []
    query: dict[str, Any] = {**params, "start_time": start}
    requests_made = 0
    while True:
        body = _get(http, base + path, **query)
        requests_made += 1
        # metric sets embedded in each ticket (the default shape) or in a top-level array
        sets += [item.pop("metric_set") for item in body[key] if "metric_set" in item]
        items += body[key]
        sets += body.get("metric_sets", [])
        assert set(body) >= {"after_url", "after_cursor", "before_url", "before_cursor", "end_of_stream"}
        if body["end_of_stream"]:
            return items, sets, body["after_cursor"], requests_made
        query = {**params, "cursor": body["after_cursor"]}


def walk_time_export(
    http: requests.Session, base: str, path: str, key: str, start: int = 0, page: int = PAGE, **params: Any
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """All items (with the repeats at page boundaries) and the pages' envelopes."""
    items: list[dict[str, Any]] = []
    envelopes: list[dict[str, Any]] = []
    url: str | None = f"{base}{path}"
    query: dict[str, Any] | None = {**params, "start_time": start}
    while url:
        body = _get(http, url, **(query or {}))
        envelopes.append({k: v for k, v in body.items() if k != key})
        items += body[key]
        done = body["end_of_stream"] if "end_of_stream" in body else body["count"] < page
        url, query = (None, None) if done else (body["next_page"], None)
    return items, envelopes


def walk_links(http: requests.Session, url: str, key: str) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    pages = 0
    next_url: str | None = url
    while next_url:
        body = _get(http, next_url)
        pages += 1
        items += body[key]
        assert set(body["meta"]) == {"has_more", "after_cursor", "before_cursor"}
        next_url = body["links"]["next"] if body["meta"]["has_more"] else None
    return items, pages


def _ids(records: Any) -> list[Any]:
    return [r["id"] for r in records]


# ----------------------------------------------------------------------------------------------
# pagination: every endpoint walked to its end, every record seen


def test_ticket_cursor_export_sees_every_ticket_once_with_its_metric_set(
    sim: ZendeskSimulator, http: requests.Session
) -> None:
    base = str(sim.base_url)
    tickets, sets, _, n_requests = walk_cursor_export(
        http, base, "/api/v2/incremental/tickets/cursor.json", "tickets", include="metric_sets"
    )
    assert n_requests == -(-sim.n_tickets // PAGE)
    assert sorted(_ids(tickets)) == list(range(1, sim.n_tickets + 1))
    assert tickets == sorted(sim.records("tickets"), key=lambda t: (t["generated_timestamp"], t["id"]))
    order = [(t["generated_timestamp"], t["id"]) for t in tickets]
    assert order == sorted(order), "ordered by update time, then id"
    assert [s["ticket_id"] for s in sets] == _ids(tickets)
    assert sorted(sets, key=lambda s: s["ticket_id"]) == list(sim.records("metric_sets"))


def test_user_cursor_export_sees_every_user_once(sim: ZendeskSimulator, http: requests.Session) -> None:
    users, _, _, _ = walk_cursor_export(http, str(sim.base_url), "/api/v2/incremental/users/cursor.json", "users")
    assert len(users) == len({u["id"] for u in users})
    assert sorted(users, key=lambda u: u["id"]) == list(sim.records("users"))
    world = build_world(sim.seed)
    agents = {u["email"] for u in users if u["role"] == "agent"}
    assert agents == {a.email for a in world.agents}
    assert {u["role"] for u in users} == {"admin", "agent", "end-user"}
    assert any(not u["active"] for u in users), "some users are deactivated"


def test_time_based_exports_see_every_item_at_least_once(sim: ZendeskSimulator, http: requests.Session) -> None:
    base = str(sim.base_url)
    cases: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
        ("/api/v2/incremental/organizations.json", "organizations", "organizations", {}),
        ("/api/v2/incremental/ticket_events.json", "ticket_events", "ticket_events", {"include": "comment_events"}),
        ("/api/v2/incremental/ticket_metric_events.json", "ticket_metric_events", "ticket_metric_events", {}),
    )
    for path, key, kind, params in cases:
        items, envelopes = walk_time_export(http, base, path, key, **params)
        want = {r["id"]: r for r in sim.records(kind)}
        got = {i["id"]: i for i in items}
        assert got == want, path
        assert all(e["count"] <= PAGE + 50 for e in envelopes), "a page only grows to finish a tie"
        assert envelopes[-1]["end_of_stream"] is True
        assert all(e["next_page"].startswith(base) for e in envelopes)


def test_time_based_export_pages_never_split_equal_times() -> None:
    times = [1, 2, 2, 2, 3, 4, 4, 5]
    assert _time_page(times, 0, 2) == (0, 4)  # 1, 2 → extended to all of the 2s
    assert _time_page(times, 2, 2) == (1, 4)  # starting at a tie repeats it whole
    assert _time_page(times, 4, 1) == (5, 7)
    assert _time_page(times, 5, 10) == (7, 8)
    assert _time_page(times, 6, 10) == (8, 8)


def test_time_based_export_repeats_the_boundary_time_and_orders_by_time_then_id(
    sim: ZendeskSimulator, http: requests.Session
) -> None:
    base = str(sim.base_url)
    path = "/api/v2/incremental/ticket_metric_events.json"
    first = _get(http, base + path, start_time=0)
    second = _get(http, first["next_page"])
    assert first["end_time"] == int(dt.datetime.fromisoformat(first["ticket_metric_events"][-1]["time"]).timestamp())
    assert f"start_time={first['end_time']}" in first["next_page"]
    at_boundary = [
        e["id"] for e in first["ticket_metric_events"] if e["time"] == first["ticket_metric_events"][-1]["time"]
    ]
    assert second["ticket_metric_events"][: len(at_boundary)] == [
        e for e in first["ticket_metric_events"] if e["id"] in at_boundary
    ]
    keys = [(e["time"], e["id"]) for e in first["ticket_metric_events"] + second["ticket_metric_events"]]
    assert keys[: len(first["ticket_metric_events"])] == sorted(keys[: len(first["ticket_metric_events"])])


def test_comment_events_carry_comments_and_knowledge_links(sim: ZendeskSimulator, http: requests.Session) -> None:
    events, _ = walk_time_export(
        http, str(sim.base_url), "/api/v2/incremental/ticket_events.json", "ticket_events", include="comment_events"
    )
    comments = {c["id"]: c for e in events for c in e["child_events"] if c["event_type"] == "Comment"}
    want = {c["id"]: c for c in sim.records("comments")}
    assert set(comments) == set(want)
    sample = next(iter(comments.values()))
    assert {"id", "body", "html_body", "public", "author_id", "audit_id", "created_at"} <= set(sample)
    bodies = [c["body"] for c in comments.values()]
    confluence = [b for b in bodies if "atlassian.net/wiki/spaces/" in b]
    guide = [b for b in bodies if "zendesk.com/hc/en-us/articles/" in b]
    both = [b for b in confluence if "zendesk.com/hc/en-us/articles/" in b]
    assert confluence
    assert guide
    assert both
    world_urls = {a.url for a in build_world(sim.seed).articles}
    assert all(any(url in b for url in world_urls) for b in confluence)
    # without the side-load, only comment_present/comment_public describe a comment
    plain = _get(http, f"{sim.base_url}/api/v2/incremental/ticket_events.json", start_time=0)
    children = [c for e in plain["ticket_events"] for c in e["child_events"]]
    assert not any(c["event_type"] == "Comment" for c in children)
    assert any(c.get("comment_present") for c in children)


def test_public_agent_replies_match_metric_sets(sim: ZendeskSimulator) -> None:
    agents = {u["id"] for u in sim.records("users") if u["role"] in ("agent", "admin")}
    replies = Counter(c["ticket_id"] for c in sim.records("comments") if c["public"] and c["author_id"] in agents)
    for metrics in sim.records("metric_sets"):
        assert metrics["replies"] == replies.get(metrics["ticket_id"], 0)


def test_talk_calls_export_ends_on_count_and_always_has_a_next_page(
    sim: ZendeskSimulator, http: requests.Session
) -> None:
    base = str(sim.base_url)
    calls, envelopes = walk_time_export(http, base, "/api/v2/channels/voice/stats/incremental/calls.json", "calls")
    assert all("end_of_stream" not in e and e["next_page"] for e in envelopes)
    assert envelopes[-1]["count"] < PAGE
    assert {c["id"]: c for c in calls} == {c["id"]: c for c in sim.records("calls")}
    voice = [t for t in sim.records("tickets") if t["via"]["channel"] == "voice"]
    with_call = {c["ticket_id"] for c in calls if c["ticket_id"]}
    assert len(with_call) > 0.9 * len(voice)
    assert {"talk_time", "hold_time", "wrap_up_time", "duration", "agent_id", "completion_status", "direction"} <= set(
        calls[0]
    )
    # polling at the end returns the last call(s) again and the same next_page: stop on count
    last = _get(http, envelopes[-1]["next_page"])
    assert last["count"] < PAGE
    assert last["next_page"]


def test_satisfaction_ratings_cursor_pagination_and_start_time_on_creation(
    sim: ZendeskSimulator, http: requests.Session
) -> None:
    base = str(sim.base_url)
    ratings, pages = walk_links(http, f"{base}/api/v2/satisfaction_ratings.json?page[size]=37", "satisfaction_ratings")
    want = list(sim.records("satisfaction_ratings"))
    assert sorted(_ids(ratings)) == sorted(_ids(want))
    assert len(ratings) == len(want)
    assert pages == -(-len(want) // 37)
    assert {r["score"] for r in ratings} >= {"good", "bad", "offered"}
    assert max(Counter(r["ticket_id"] for r in ratings).values()) >= 2, "a few tickets are rated twice"
    created = sorted(r["created_at"] for r in ratings)
    cut = created[len(created) // 2]
    start = int(dt.datetime.fromisoformat(cut).timestamp())
    recent, _ = walk_links(
        http, f"{base}/api/v2/satisfaction_ratings.json?page[size]=100&start_time={start}", "satisfaction_ratings"
    )
    assert {r["id"] for r in recent} == {r["id"] for r in ratings if r["created_at"] >= cut}
    good = _get(http, f"{base}/api/v2/satisfaction_ratings.json", score="good", **{"page[size]": 100})
    assert {r["score"] for r in good["satisfaction_ratings"]} == {"good"}
    too_big = http.get(f"{base}/api/v2/satisfaction_ratings.json", params={"page[size]": 101}, timeout=30)
    assert too_big.status_code == 400
    assert too_big.json()["error"] == "InvalidPaginationParameter"


def test_groups_ticket_fields_and_sla_policies(sim: ZendeskSimulator, http: requests.Session) -> None:
    base = str(sim.base_url)
    groups, pages = walk_links(http, f"{base}/api/v2/groups.json?page[size]=2", "groups")
    assert pages == 3
    assert groups == list(sim.records("groups"))
    assert {g["name"] for g in groups} >= {"Tier 1 Support", "Tier 2 Support", "Tier 3 Support"}
    assert any(g["deleted"] for g in groups)
    fields, _ = walk_links(http, f"{base}/api/v2/ticket_fields?page[size]=100", "ticket_fields")
    assert fields == list(sim.records("ticket_fields"))
    titles = {f["title"]: f for f in fields}
    assert titles["Product Area"]["type"] == "tagger"
    assert titles["Product Area"]["custom_field_options"]
    assert titles["Salesforce Account Id"]["type"] == "text"
    assert titles["Onboarding"]["type"] == "checkbox"
    used = {cf["id"] for t in sim.records("tickets") for cf in t["custom_fields"]}
    assert used <= {f["id"] for f in fields}
    offset = _get(http, f"{base}/api/v2/groups.json", per_page=2)
    assert offset["count"] == len(groups)
    assert offset["next_page"]
    policies = _get(http, f"{base}/api/v2/slas/policies.json")
    assert policies["next_page"] is None
    assert policies["previous_page"] is None
    assert policies["count"] == len(policies["sla_policies"]) == 3
    metric = policies["sla_policies"][0]["policy_metrics"][0]
    assert set(metric) >= {"priority", "metric", "target", "business_hours"}


# ----------------------------------------------------------------------------------------------
# the data looks like the seeds


def test_tickets_are_shaped_like_the_support_organisation(sim: ZendeskSimulator) -> None:
    tickets = list(sim.records("tickets"))
    n = len(tickets)
    channels = Counter(t["via"]["channel"] for t in tickets)
    assert 0.52 < channels["voice"] / n < 0.68
    assert 0.22 < (channels["email"] + channels["chat"] + channels["api"] + channels["web"]) / n < 0.45
    assert channels["twitter"] + channels["facebook"] + channels["whatsapp"] > 0
    statuses = Counter(t["status"] for t in tickets)
    assert set(statuses) >= {"open", "pending", "solved", "closed", "deleted"}
    groups = Counter(t["group_id"] for t in tickets)
    tier_ids = sorted(groups, key=lambda g: g or 0)[:3]
    assert groups[tier_ids[0]] > groups[tier_ids[1]] > groups[tier_ids[2]]
    assert any("closed_by_merge" in t["tags"] for t in tickets)
    metrics = {m["ticket_id"]: m for m in sim.records("metric_sets")}
    assert any(m["reopens"] > 0 for m in metrics.values())
    assert any(m["reply_time_in_minutes"]["calendar"] is None for m in metrics.values())
    closed_unsolved = [t for t in tickets if t["status"] == "closed" and metrics[t["id"]]["solved_at"] is None]
    assert closed_unsolved, "some tickets are closed without ever being solved"
    rated = [t for t in tickets if t["satisfaction_rating"]["score"] in ("good", "bad")]
    assert 0.1 < len(rated) / n < 0.45


def test_world_is_deterministic_and_matches_the_seeds() -> None:
    world = build_world(4)
    assert build_world(4) is world
    assert Counter(a.tier for a in world.agents) == Counter(TIER_SIZES)
    assert all(a.email == a.email.lower() and a.email.endswith("@supportlake-demo.com") for a in world.agents)
    assert all(len(a.salesforce_id) == 18 and a.salesforce_id.startswith("001") for a in world.accounts)
    assert {a.space_key for a in world.articles if a.system == "confluence"} == {"SUP", "RUN"}
    domains = Counter(a.domain for a in world.accounts)
    assert any(n == 2 for n in domains.values()), "some domains are shared by two accounts"
    assert all(c.email.endswith("@" + world.accounts[c.account_index].domain) for c in world.customers)


def test_organizations_link_to_salesforce_accounts(sim: ZendeskSimulator) -> None:
    world = build_world(sim.seed)
    ids18 = {a.salesforce_id for a in world.accounts}
    ids15 = {a.salesforce_id15 for a in world.accounts}
    orgs = list(sim.records("organizations"))
    externals = [o["external_id"] for o in orgs]
    assert sum(e in ids18 for e in externals) > 0.8 * len(orgs)
    assert any(e in ids15 for e in externals)
    assert any(e is None for e in externals)


def test_metric_events_follow_the_sla_outcomes(sim: ZendeskSimulator) -> None:
    by_ticket: dict[int, list[dict[str, Any]]] = {}
    for event in sim.records("ticket_metric_events"):
        by_ticket.setdefault(event["ticket_id"], []).append(event)
    metrics = {m["ticket_id"]: m for m in sim.records("metric_sets")}
    breaches = fulfilled = 0
    for tid, events in by_ticket.items():
        times = [(e["time"], e["id"]) for e in events]
        assert times == sorted(times)
        applied = [
            e for e in events if e["type"] == "apply_sla" and e["metric"] == "reply_time" and e["instance_id"] == 1
        ]
        assert len(applied) == 1
        assert {"target", "business_hours", "policy"} <= set(applied[0]["sla"])
        first = [e for e in events if e["metric"] == "reply_time" and e["instance_id"] == 1]
        status = [e for e in first if e["type"] == "update_status"]
        reply = metrics[tid]["reply_time_in_minutes"]["calendar"]
        if status:
            fulfilled += 1
            assert status[0]["status"]["calendar"] == reply
            late = reply > applied[0]["sla"]["target"]
            assert any(e["type"] == "breach" for e in first) == late
            breaches += late
    assert breaches > 0, "some first replies breach their SLA"
    assert breaches < 0.3 * fulfilled, "most do not"


# ----------------------------------------------------------------------------------------------
# authentication, errors, limits and faults


def test_wrong_or_missing_credentials_get_401(sim: ZendeskSimulator) -> None:
    url = f"{sim.base_url}/api/v2/groups.json"
    missing = requests.get(url, timeout=30)
    assert missing.status_code == 401
    assert missing.json() == {"error": "Couldn't authenticate you"}
    wrong = requests.get(url, auth=(f"{sim.email}/token", "nope"), timeout=30)
    assert wrong.status_code == 401
    assert wrong.json() == {"error": "Couldn't authenticate you"}
    password = requests.get(url, auth=(sim.email, sim.api_token), timeout=30)
    assert password.status_code == 401
    bearer = requests.get(url, headers={"Authorization": f"Bearer {sim.oauth_token}"}, timeout=30)
    assert bearer.status_code == 200
    bad_bearer = requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=30)
    assert bad_bearer.status_code == 401
    assert bad_bearer.json()["error"] == "invalid_token"
    assert "X-Rate-Limit" in missing.headers


def test_unknown_paths_and_disabled_features(fresh: ZendeskSimulator) -> None:
    http = _session(fresh)
    unknown = http.get(f"{fresh.base_url}/api/v2/nothing.json", timeout=30)
    assert unknown.status_code == 404
    assert unknown.json() == {"error": "InvalidEndpoint", "description": "Not found"}
    fresh.disabled = {"talk", "slas"}
    talk = http.get(
        f"{fresh.base_url}/api/v2/channels/voice/stats/incremental/calls", params={"start_time": 0}, timeout=30
    )
    assert talk.status_code == 404
    slas = http.get(f"{fresh.base_url}/api/v2/slas/policies", timeout=30)
    assert slas.status_code == 403
    assert slas.json()["error"] == "Forbidden"
    missing_start = http.get(f"{fresh.base_url}/api/v2/incremental/ticket_events.json", timeout=30)
    assert missing_start.status_code == 400


def test_export_rate_limit_answers_429_with_retry_after(fresh: ZendeskSimulator) -> None:
    fresh.export_rpm = 3
    fresh.rate_window_seconds = 2.0
    http = _session(fresh)
    url = f"{fresh.base_url}/api/v2/incremental/organizations.json"
    answers = [http.get(url, params={"start_time": 0}, timeout=30) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["X-Rate-Limit-Remaining"] for a in answers[:3]] == ["2", "1", "0"]
    limited = answers[-1]
    retry = int(limited.headers["Retry-After"])
    assert 1 <= retry <= 2
    assert limited.text == "Number of allowed incremental export API requests per minute exceeded"
    for header in (
        "X-Rate-Limit",
        "X-Rate-Limit-Remaining",
        "ratelimit-limit",
        "ratelimit-remaining",
        "ratelimit-reset",
    ):
        assert header in limited.headers
    assert http.get(f"{fresh.base_url}/api/v2/groups.json", timeout=30).status_code == 200, (
        "other endpoints are not limited"
    )
    time.sleep(retry)
    assert http.get(url, params={"start_time": 0}, timeout=30).status_code == 200
    assert fresh.stats.rate_limited == 1


def test_account_rate_limit(fresh: ZendeskSimulator) -> None:
    fresh.account_rpm = 5
    fresh.rate_window_seconds = 1.0
    http = _session(fresh)
    statuses = [http.get(f"{fresh.base_url}/api/v2/groups.json", timeout=30).status_code for _ in range(7)]
    assert statuses == [200] * 5 + [429] * 2
    limited = http.get(f"{fresh.base_url}/api/v2/groups.json", timeout=30)
    assert limited.headers["X-Rate-Limit"] == "5"
    assert limited.text == "Number of allowed API requests per minute exceeded"


def test_injected_faults_are_served_in_order(fresh: ZendeskSimulator) -> None:
    http = _session(fresh)
    url = f"{fresh.base_url}/api/v2/groups.json"
    fresh.inject("/api/v2/groups", ["503", "drop", "truncate", "429", "badjson"])
    fresh.inject("/api/v2/incremental", ["500"])
    assert http.get(url, timeout=30).status_code == 503
    with pytest.raises(requests.ConnectionError):
        http.get(url, timeout=30)
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        http.get(url, timeout=30)
    limited = http.get(url, timeout=30)
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    bad = http.get(url, timeout=30)
    assert bad.status_code == 200
    with pytest.raises(requests.JSONDecodeError):
        bad.json()
    assert http.get(url, timeout=30).json()["groups"], "the queue is used up"
    assert (
        http.get(f"{fresh.base_url}/api/v2/incremental/organizations", params={"start_time": 0}, timeout=30).status_code
        == 500
    )
    assert fresh.stats.faults == Counter({"503": 1, "drop": 1, "truncate": 1, "429": 1, "badjson": 1, "500": 1})
    with pytest.raises(ValueError, match="unknown fault"):
        fresh.inject("/", ["explode"])


def test_random_faults_follow_the_rates(fresh: ZendeskSimulator) -> None:
    http = _session(fresh)
    url = f"{fresh.base_url}/api/v2/groups.json"
    fresh.error_rate = 1.0
    assert {http.get(url, timeout=30).status_code for _ in range(8)} <= {500, 502, 503, 504}
    fresh.error_rate = 0.0
    fresh.drop_rate = 1.0
    with pytest.raises(requests.ConnectionError):
        http.get(url, timeout=30)
    fresh.drop_rate = 0.0
    fresh.truncate_rate = 1.0
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        http.get(f"{fresh.base_url}/api/v2/incremental/tickets/cursor.json", params={"start_time": 0}, timeout=30)
    fresh.truncate_rate = 0.0
    fresh.latency_ms = 50
    started = time.perf_counter()
    assert http.get(url, timeout=30).status_code == 200
    assert time.perf_counter() - started >= 0.05
    assert fresh.stats.faults["drop"] == 1
    assert fresh.stats.faults["truncate"] == 1


# ----------------------------------------------------------------------------------------------
# mutations and incremental polls


def test_mutate_changes_what_the_exports_return(fresh: ZendeskSimulator) -> None:
    http = _session(fresh)
    base = str(fresh.base_url)
    path = "/api/v2/incremental/tickets/cursor.json"
    before, _, cursor, _ = walk_cursor_export(http, base, path, "tickets", include="metric_sets")
    old_now = int(fresh.now.timestamp())
    old = {t["id"]: t for t in before}
    users_before, _, users_cursor, _ = walk_cursor_export(http, base, "/api/v2/incremental/users/cursor.json", "users")
    # nothing changes while the clock stands still: the final cursor returns nothing
    assert _get(http, base + path, cursor=cursor)["tickets"] == []

    done = fresh.mutate(seed=1)
    assert done["updated"] > 0
    assert done["deleted"] > 0
    assert done["inserted"] > 0
    assert done["rerated"] == 1
    assert int(fresh.now.timestamp()) == old_now + 3600

    changed, sets, _, _ = walk_cursor_export(http, base, path, "tickets", start=0, include="metric_sets")
    assert len(changed) == fresh.n_tickets
    delta_items: list[dict[str, Any]] = []
    query: dict[str, Any] = {"cursor": cursor, "include": "metric_sets"}
    while True:
        body = _get(http, base + path, **query)
        delta_items += [{k: v for k, v in t.items() if k != "metric_set"} for t in body["tickets"]]
        if body["end_of_stream"]:
            break
        query = {"cursor": body["after_cursor"], "include": "metric_sets"}
    current = {t["id"]: t for t in fresh.records("tickets")}
    expected = {tid for tid, t in current.items() if t["generated_timestamp"] > old_now}
    assert {t["id"] for t in delta_items} == expected
    assert 0 < len(expected) < fresh.n_tickets / 2
    assert all(dt.datetime.fromisoformat(t["updated_at"]).timestamp() > old_now for t in delta_items)
    assert any(t["status"] == "deleted" for t in delta_items)
    assert any(t["id"] not in old for t in delta_items), "inserted tickets arrive"
    assert all(current[t["id"]] == t for t in delta_items)
    assert {s["ticket_id"]: s for s in sets} == {m["ticket_id"]: m for m in fresh.records("metric_sets")}

    # time-based exports from the old clock return what happened since, consistent with records
    for export_path, key, kind in (
        ("/api/v2/incremental/ticket_events.json", "ticket_events", "ticket_events"),
        ("/api/v2/incremental/ticket_metric_events.json", "ticket_metric_events", "ticket_metric_events"),
    ):
        items, _ = walk_time_export(http, base, export_path, key, start=old_now + 1, page=150, include="comment_events")
        assert items, export_path
        records = {r["id"]: r for r in fresh.records(kind)}
        assert all(records[i["id"]] == i for i in items)
        full, _ = walk_time_export(http, base, export_path, key, page=150, include="comment_events")
        assert {i["id"] for i in full} == set(records)

    new_ratings, _ = walk_links(
        http, f"{base}/api/v2/satisfaction_ratings.json?page[size]=100&start_time={old_now + 1}", "satisfaction_ratings"
    )
    assert len(new_ratings) >= 1

    users_delta = _get(http, base + "/api/v2/incremental/users/cursor.json", cursor=users_cursor)["users"]
    assert any(not u["active"] for u in users_delta)
    assert len(users_delta) >= 2
    assert {u["id"] for u in users_before} < {u["id"] for u in fresh.records("users")}
    orgs = _get(http, base + "/api/v2/incremental/organizations.json", start_time=old_now + 1)["organizations"]
    assert len(orgs) == 2


def test_mutations_only_append_and_every_export_still_equals_the_records(fresh: ZendeskSimulator) -> None:
    events_before = {e["id"]: e for e in fresh.records("ticket_metric_events")}
    fresh.mutate(seed=1)
    middle = {e["id"]: e for e in fresh.records("ticket_metric_events")}
    fresh.mutate(seed=2, advance_seconds=60, insert_count=5)
    after = {e["id"]: e for e in fresh.records("ticket_metric_events")}
    assert all(after[i] == e for i, e in events_before.items())
    assert all(after[i] == e for i, e in middle.items())
    assert len(after) > len(middle) > len(events_before)
    http = _session(fresh)
    base = str(fresh.base_url)
    exports: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
        ("/api/v2/incremental/organizations.json", "organizations", "organizations", {}),
        ("/api/v2/incremental/ticket_events.json", "ticket_events", "ticket_events", {"include": "comment_events"}),
        ("/api/v2/incremental/ticket_metric_events.json", "ticket_metric_events", "ticket_metric_events", {}),
        ("/api/v2/channels/voice/stats/incremental/calls.json", "calls", "calls", {}),
    )
    for path, key, kind, params in exports:
        items, _ = walk_time_export(http, base, path, key, page=150, **params)
        assert {i["id"]: i for i in items} == {r["id"]: r for r in fresh.records(kind)}, path
    for path, key, kind in (
        ("/api/v2/incremental/tickets/cursor.json", "tickets", "tickets"),
        ("/api/v2/incremental/users/cursor.json", "users", "users"),
    ):
        cursor_items, _, _, _ = walk_cursor_export(http, base, path, key)
        assert sorted(cursor_items, key=lambda r: r["id"]) == sorted(fresh.records(kind), key=lambda r: r["id"])
    ratings, _ = walk_links(http, f"{base}/api/v2/satisfaction_ratings.json?page[size]=100", "satisfaction_ratings")
    assert sorted(ratings, key=lambda r: r["id"]) == sorted(
        fresh.records("satisfaction_ratings"), key=lambda r: r["id"]
    )
    with pytest.raises(ValueError, match="60 seconds"):
        fresh.mutate(advance_seconds=1)


def test_planned_update_times_match_the_generated_histories() -> None:
    simulator = ZendeskSimulator(seed=2, n_tickets=20_000)
    store = simulator.store
    assert all(store.history(tid).updated == store.updated[tid] for tid in range(1, store.n_tickets + 1))


# ----------------------------------------------------------------------------------------------
# determinism, scale, the command line


def test_same_seed_same_calls_give_identical_bytes() -> None:
    bodies = []
    for _ in range(2):
        simulator = ZendeskSimulator(seed=21, n_tickets=300, page_size=100)
        with simulator.serve() as base:
            http = _session(simulator)
            simulator.mutate(seed=4)
            urls = [
                f"{base}/api/v2/incremental/tickets/cursor.json?start_time=0&include=metric_sets",
                f"{base}/api/v2/incremental/ticket_events.json?start_time=0&include=comment_events",
                f"{base}/api/v2/satisfaction_ratings.json?page[size]=50",
                f"{base}/api/v2/incremental/users/cursor.json?start_time=0",
            ]
            bodies.append([http.get(u, timeout=30).content.replace(base.encode(), b"BASE") for u in urls])
    assert bodies[0] == bodies[1]


def test_a_million_tickets_are_cheap_to_construct() -> None:
    simulator = ZendeskSimulator(seed=1, n_tickets=1_000_000, export_rpm=100_000)
    with simulator.serve() as base:
        page = _get(
            _session(simulator), f"{base}/api/v2/incremental/tickets/cursor.json", start_time=0, include="metric_sets"
        )
    assert len(page["tickets"]) == 1000


def test_command_line_prints_the_base_url_first(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "simulators", "zendesk", "--port", "0", "--tickets", "50", "--token", "t0k"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().strip()
        assert base.startswith("http://127.0.0.1:")
        auth = base64.b64encode(b"admin@example.com/token:t0k").decode()
        answer = requests.get(f"{base}/api/v2/groups.json", headers={"Authorization": f"Basic {auth}"}, timeout=30)
        assert answer.status_code == 200
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def _walk_metric_events_cursor(
    http: requests.Session, url: str, **params: Any
) -> tuple[list[dict[str, Any]], str, int]:
    """Events, the last ``meta.after_cursor`` and the number of pages, following ``links.next``."""
    events: list[dict[str, Any]] = []
    cursor = ""
    pages = 0
    next_url: str | None = url
    query: dict[str, Any] | None = params
    while next_url:
        body = _get(http, next_url, **(query or {}))
        pages += 1
        assert set(body["meta"]) == {"has_more", "after_cursor", "before_cursor"}
        assert len(body["ticket_metric_events"]) <= 100
        events += body["ticket_metric_events"]
        cursor = body["meta"]["after_cursor"] or cursor
        next_url, query = (body["links"]["next"], None) if body["meta"]["has_more"] else (None, None)
    return events, cursor, pages


def test_metric_events_cursor_pagination_reads_each_event_once_and_resumes_after_the_last(
    fresh: ZendeskSimulator,
) -> None:
    http = _session(fresh)
    url = f"{fresh.base_url}/api/v2/incremental/ticket_metric_events.json"
    events, cursor, pages = _walk_metric_events_cursor(http, url, start_time=0, **{"page[size]": 100})
    expected = {e["id"]: e for e in fresh.records("ticket_metric_events")}
    assert len(events) == len({e["id"] for e in events}), "no event twice: a page boundary never repeats"
    assert {e["id"]: e for e in events} == expected
    assert pages == -(-len(expected) // 100)
    times = [e["time"] for e in events]
    assert times == sorted(times)
    # many events share a second (a page boundary may fall inside one: no event is lost or repeated)
    assert len(times) > len(set(times))

    fresh.mutate(seed=1)
    new, _, _ = _walk_metric_events_cursor(http, url, start_time=0, **{"page[size]": 100, "page[after]": cursor})
    after = {e["id"]: e for e in fresh.records("ticket_metric_events")}
    assert {e["id"]: e for e in new} == {i: e for i, e in after.items() if i not in expected}
    assert new

    too_big = http.get(url, params={"start_time": 0, "page[size]": 101}, timeout=30)
    assert too_big.status_code == 400


def test_faithful_time_pages_never_grow_past_a_page() -> None:
    times = [1, 2, 2, 2, 3]
    assert _time_page(times, 0, 2, split=True) == (0, 2)  # cut inside the 2s, as documented
    assert _time_page(times, 2, 2, split=True) == (1, 3)  # the same second again: still a page


def test_show_many_returns_the_tickets_asked_for(sim: ZendeskSimulator, http: requests.Session) -> None:
    body = _get(http, f"{sim.base_url}/api/v2/tickets/show_many.json", ids="3,1,999999", include="metric_sets")
    assert sorted(t["id"] for t in body["tickets"]) == [1, 3]  # an id it does not have is left out
    assert sorted(m["ticket_id"] for m in body["metric_sets"]) == [1, 3]
    too_many = http.get(
        f"{sim.base_url}/api/v2/tickets/show_many.json", params={"ids": ",".join(map(str, range(1, 102)))}, timeout=30
    )
    assert too_many.status_code == 400


def test_show_many_users_leaves_deleted_ones_out_unless_asked(sim: ZendeskSimulator, http: requests.Session) -> None:
    users = _get(http, f"{sim.base_url}/api/v2/incremental/users/cursor.json", start_time=0)["users"]
    gone = next(u["id"] for u in users if not u["active"])
    here = next(u["id"] for u in users if u["active"])
    url = f"{sim.base_url}/api/v2/users/show_many.json"
    assert [u["id"] for u in _get(http, url, ids=f"{here},{gone},999")["users"]] == [here]
    assert [u["id"] for u in _get(http, url, ids=f"{here},{gone}", include_deleted="true")["users"]] == [here, gone]


def test_show_many_organizations_returns_those_asked_for(sim: ZendeskSimulator, http: requests.Session) -> None:
    orgs = _get(http, f"{sim.base_url}/api/v2/incremental/organizations.json", start_time=0)["organizations"]
    ids = [orgs[1]["id"], orgs[0]["id"]]
    body = _get(http, f"{sim.base_url}/api/v2/organizations/show_many.json", ids=f"{ids[0]},{ids[1]},1")
    assert ([o["id"] for o in body["organizations"]], body["count"], body["next_page"]) == (ids, 2, None)
    empty = http.get(f"{sim.base_url}/api/v2/organizations/show_many.json", params={"ids": ""}, timeout=30)
    assert empty.status_code == 400
