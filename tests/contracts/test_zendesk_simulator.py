"""The Zendesk simulator answers each endpoint in the shape of the published responses.

Every key path and nesting of a fixture in ``tests/contracts/zendesk/`` (material we did not write,
sources in its README) must appear the same way in the simulator's response for that endpoint.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from simulators.zendesk import ZendeskSimulator
from tests.contracts.shapes import assert_same_shape, load

# Array items the simulator's data never has (the arrays are there, empty): nothing of ours reads
# them, and inventing collaborators or sharing agreements would only add noise to the tickets.
EMPTY_TICKET_ARRAYS = (
    "$.tickets[].collaborator_ids[]",
    "$.tickets[].follower_ids[]",
    "$.tickets[].sharing_agreement_ids[]",
)


@pytest.fixture(scope="module")
def sim() -> Iterator[ZendeskSimulator]:
    simulator = ZendeskSimulator(seed=5, n_tickets=300, export_rpm=100_000, account_rpm=100_000)
    with simulator.serve():
        yield simulator


def get(sim: ZendeskSimulator, path: str, **params: Any) -> Any:
    session = requests.Session()
    session.auth = (f"{sim.email}/token", sim.api_token)
    response = session.get(f"{sim.base_url}{path}", params=params, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    ("fixture", "path", "params", "ignore"),
    [
        (
            "tickets_export_embedded_metric_sets",
            "/api/v2/incremental/tickets/cursor.json",
            {"start_time": 0, "include": "metric_sets"},
            EMPTY_TICKET_ARRAYS,
        ),
        (
            "ticket_metric_events_cursor",
            "/api/v2/incremental/ticket_metric_events.json",
            {"start_time": 0, "page[size]": 100},
            (),
        ),
        (
            "ticket_events_comment_events",
            "/api/v2/incremental/ticket_events.json",
            {"start_time": 0, "include": "comment_events"},
            (),
        ),
        (
            "users_export",
            "/api/v2/incremental/users/cursor.json",
            {"start_time": 0},
            # tags: the simulated users have none (an empty array); user_fields: its keys are the
            # account's own user fields, another account has others.
            ("$.users[].tags[]", "$.users[].user_fields"),
        ),
        (
            "organizations_export",
            "/api/v2/incremental/organizations.json",
            {"start_time": 0},
            # organization_fields: keys are the account's own organization fields.
            ("$.organizations[].organization_fields",),
        ),
        ("satisfaction_ratings", "/api/v2/satisfaction_ratings.json", {"page[size]": 100}, ()),
        ("sla_policies", "/api/v2/slas/policies.json", {}, ()),
        ("talk_calls_export", "/api/v2/channels/voice/stats/incremental/calls.json", {"start_time": 0}, ()),
    ],
)
def test_the_simulator_answers_in_the_published_shape(
    sim: ZendeskSimulator, fixture: str, path: str, params: dict[str, Any], ignore: tuple[str, ...]
) -> None:
    assert_same_shape(load("zendesk", fixture), get(sim, path, **params), ignore=ignore)


@pytest.mark.parametrize(
    ("fixture", "export", "show_many", "ignore"),
    [
        (
            "users_show_many",
            "/api/v2/incremental/users/cursor.json",
            "/api/v2/users/show_many.json",
            ("$.users[].tags[]", "$.users[].user_fields"),
        ),
        (
            "organizations_show_many",
            "/api/v2/incremental/organizations.json",
            "/api/v2/organizations/show_many.json",
            ("$.organizations[].organization_fields",),
        ),
    ],
)
def test_show_many_answers_in_the_published_shape(
    sim: ZendeskSimulator, fixture: str, export: str, show_many: str, ignore: tuple[str, ...]
) -> None:
    """Users and organizations asked for by id (ids from the simulator's own export)."""
    key = fixture.removesuffix("_show_many")
    ids = [r["id"] for r in get(sim, export, start_time=0)[key][:2]]
    body = get(sim, show_many, ids=",".join(map(str, ids)))
    assert_same_shape(load("zendesk", fixture), body, ignore=ignore)
    assert [r["id"] for r in body[key]] == ids


def test_metric_sets_switch_serves_the_top_level_shape(sim: ZendeskSimulator) -> None:
    path = "/api/v2/incremental/tickets/cursor.json"
    assert sim.metric_sets == "embedded"  # the documented shape is the default
    embedded = get(sim, path, start_time=0, include="metric_sets")
    assert "metric_sets" not in embedded
    sim.metric_sets = "top_level"
    try:
        top = get(sim, path, start_time=0, include="metric_sets")
    finally:
        sim.metric_sets = "embedded"
    assert_same_shape(load("zendesk", "tickets_export_top_level_metric_sets"), top, ignore=EMPTY_TICKET_ARRAYS)
    assert not any("metric_set" in t for t in top["tickets"])
    assert [m["ticket_id"] for m in top["metric_sets"]] == [t["id"] for t in top["tickets"]]
    assert top["metric_sets"] == [t["metric_set"] for t in embedded["tickets"]]


def test_error_bodies_have_the_published_shape(sim: ZendeskSimulator) -> None:
    refused = requests.get(f"{sim.base_url}/api/v2/groups.json", auth=("nobody@example.com/token", "wrong"), timeout=30)
    assert refused.status_code == 401
    assert_same_shape(load("zendesk", "error_401"), refused.json())
    sim.disabled.add("slas")
    try:
        forbidden = requests.get(
            f"{sim.base_url}/api/v2/slas/policies.json", auth=(f"{sim.email}/token", sim.api_token), timeout=30
        )
    finally:
        sim.disabled.discard("slas")
    assert forbidden.status_code == 403
    assert_same_shape(load("zendesk", "error_403"), forbidden.json())
    missing = requests.get(
        f"{sim.base_url}/api/v2/nothing.json", auth=(f"{sim.email}/token", sim.api_token), timeout=30
    )
    assert missing.status_code == 404
    assert_same_shape(load("zendesk", "error_404"), missing.json())
