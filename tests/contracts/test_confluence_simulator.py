"""The Confluence simulator answers each endpoint with the published shape (``tests/contracts/confluence``).

Every key path and nesting of a fixture appears the same way in the simulator's response to the
request the connector sends (:func:`tests.contracts.shapes.assert_same_shape`; ``null`` matches any
kind, so an empty optional field on either side is no difference).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from simulators.confluence import ConfluenceSimulator
from tests.contracts.shapes import assert_same_shape, load

V2 = "/wiki/api/v2"
ALL_PAGE_STATUSES = "current,archived,trashed,deleted"


@pytest.fixture(scope="module")
def sim() -> Iterator[ConfluenceSimulator]:
    simulator = ConfluenceSimulator(seed=3, n_extra_pages=60, n_blogposts=6)
    with simulator.serve():
        yield simulator


def get(sim: ConfluenceSimulator, path: str, params: dict[str, Any] | None = None) -> requests.Response:
    return requests.get(f"{sim.base_url}{path}", params=params, auth=(sim.email, sim.api_token), timeout=30)


def ok(r: requests.Response) -> Any:
    assert r.status_code == 200, r.text
    return r.json()


def test_spaces(sim: ConfluenceSimulator) -> None:
    ours = ok(get(sim, f"{V2}/spaces", {"limit": 2}))  # small pages: the answer carries a next link
    assert_same_shape(load("confluence", "spaces"), ours)


def test_pages_with_storage_bodies(sim: ConfluenceSimulator) -> None:
    params = {"sort": "-modified-date", "body-format": "storage", "status": ALL_PAGE_STATUSES, "limit": 250}
    ours = ok(get(sim, f"{V2}/pages", params))
    assert {p["parentId"] is None for p in ours["results"]} == {True, False}, "root and child pages both shown"
    assert_same_shape(load("confluence", "pages"), ours)


def test_blogposts_with_storage_bodies(sim: ConfluenceSimulator) -> None:
    params = {"sort": "-modified-date", "body-format": "storage", "status": "current,trashed,deleted", "limit": 250}
    assert_same_shape(load("confluence", "blogposts"), ok(get(sim, f"{V2}/blogposts", params)))


def test_label_catalogue(sim: ConfluenceSimulator) -> None:
    assert_same_shape(load("confluence", "labels"), ok(get(sim, f"{V2}/labels", {"limit": 250})))


def test_a_labels_pages(sim: ConfluenceSimulator) -> None:
    label_id = sim.records("labels")[0]["id"]
    ours = ok(get(sim, f"{V2}/labels/{label_id}/pages", {"limit": 250}))
    assert ours["results"]
    assert_same_shape(load("confluence", "label_pages"), ours)


def test_a_pages_own_labels(sim: ConfluenceSimulator) -> None:
    page_id = sim.records("labels")[0]["page_id"]
    ours = ok(get(sim, f"{V2}/pages/{page_id}/labels", {"limit": 250}))
    assert ours["results"]
    assert_same_shape(load("confluence", "page_labels"), ours)


def test_missing_scope_401() -> None:
    simulator = ConfluenceSimulator(seed=3, n_extra_pages=5, n_blogposts=1, without_scopes=("read:label",))
    with simulator.serve():
        r = get(simulator, f"{V2}/labels")
    assert r.status_code == 401
    assert_same_shape(load("confluence", "error_401_scope"), r.json())
    assert r.json() == load("confluence", "error_401_scope")


def test_not_found_404(sim: ConfluenceSimulator) -> None:
    r = get(sim, f"{V2}/pages/987654321")
    assert r.status_code == 404
    assert_same_shape(load("confluence", "error_404"), r.json())


def test_rate_limited_429() -> None:
    published = load("confluence", "error_429")
    simulator = ConfluenceSimulator(seed=3, n_extra_pages=5, n_blogposts=1, rate_limit=1, rate_window=3600)
    with simulator.serve():
        get(simulator, f"{V2}/spaces")
        r = get(simulator, f"{V2}/spaces")
    ours = {
        "status": r.status_code,
        "headers": {k: r.headers[k] for k in published["headers"] if k in r.headers},
        # no body is documented for a 429: only the status and the headers are compared
        "body": None,
    }
    assert_same_shape(published, ours)
    assert int(r.headers["Retry-After"]) >= 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\dZ", r.headers["X-RateLimit-Reset"])
