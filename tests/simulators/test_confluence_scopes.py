"""The Confluence simulator playing a token without some scopes (``without_scopes``).

Atlassian's gateway answers a token lacking an endpoint's scope with 401
``{"code": 401, "message": "Unauthorized; scope does not match"}`` (CONFCLOUD-83234). The scope of
each route is the one the v2 OpenAPI document declares: without ``read:label`` only the site-wide
``GET /labels`` is refused; pages, blog posts, each content's own labels and a label's content
(``/labels/{id}/pages``, ``read:page``) still answer.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from simulators.confluence import SCOPE_MISMATCH, ConfluenceSimulator

V2 = "/wiki/api/v2"


def get(sim: ConfluenceSimulator, path: str, params: Any = None) -> requests.Response:
    return requests.get(f"{sim.base_url}{path}", params=params, auth=(sim.email, sim.api_token), timeout=30)


@pytest.fixture(scope="module", params=["read:label", "read:label:confluence"])
def scopeless(request: pytest.FixtureRequest) -> Iterator[ConfluenceSimulator]:
    simulator = ConfluenceSimulator(seed=3, n_extra_pages=40, n_blogposts=6, without_scopes=(request.param,))
    with simulator.serve():
        yield simulator


def test_the_label_catalogue_answers_401_scope_does_not_match(scopeless: ConfluenceSimulator) -> None:
    for params in (None, {"limit": 1}):
        r = get(scopeless, f"{V2}/labels", params)
        assert r.status_code == 401
        assert r.json() == SCOPE_MISMATCH == {"code": 401, "message": "Unauthorized; scope does not match"}
    assert scopeless.stats.scope_refused >= 2


def test_a_labels_content_needs_read_page_not_read_label(scopeless: ConfluenceSimulator) -> None:
    full = ConfluenceSimulator(seed=3, n_extra_pages=40, n_blogposts=6)
    with full.serve():
        label_id = get(full, f"{V2}/labels").json()["results"][0]["id"]
    assert get(scopeless, f"{V2}/labels/{label_id}/pages").status_code == 200
    assert get(scopeless, f"{V2}/labels/{label_id}/blogposts").status_code == 200


@pytest.mark.parametrize(
    ("scope", "refused", "allowed"),
    [
        ("read:page", ["/pages", "/pages/1/labels", "/blogposts", "/spaces/1/pages", "/labels/1/pages"], ["/spaces"]),
        ("read:space:confluence", ["/spaces", "/spaces/1"], ["/pages", "/labels"]),
    ],
)
def test_other_scopes_guard_their_routes(scope: str, refused: list[str], allowed: list[str]) -> None:
    simulator = ConfluenceSimulator(seed=3, n_extra_pages=5, n_blogposts=1, without_scopes=(scope,))
    with simulator.serve():
        for path in refused:
            r = get(simulator, V2 + path)
            assert (r.status_code, r.json()) == (401, SCOPE_MISMATCH), path
        for path in allowed:
            assert get(simulator, V2 + path).status_code == 200, path


def test_pages_blogposts_and_their_own_labels_still_answer(scopeless: ConfluenceSimulator) -> None:
    pages = get(scopeless, f"{V2}/pages", {"limit": 250}).json()["results"]
    labelled = [p for p in pages if get(scopeless, f"{V2}/pages/{p['id']}/labels").json()["results"]]
    assert labelled, "some page carries labels, read through its own labels endpoint"
    blogpost = get(scopeless, f"{V2}/blogposts").json()["results"][0]
    assert get(scopeless, f"{V2}/blogposts/{blogpost['id']}/labels").status_code == 200
    assert get(scopeless, f"{V2}/spaces").status_code == 200
    assert get(scopeless, f"{V2}/pages/{pages[0]['id']}").status_code == 200


def test_bad_credentials_still_get_the_ordinary_401() -> None:
    simulator = ConfluenceSimulator(seed=3, n_extra_pages=5, n_blogposts=1, without_scopes=("read:label",))
    with simulator.serve():
        r = requests.get(f"{simulator.base_url}{V2}/labels", auth=(simulator.email, "wrong"), timeout=30)
    assert r.status_code == 401
    assert "errors" in r.json()


def test_command_line_without_scope() -> None:
    root = Path(__file__).resolve().parents[2]
    cmd = [sys.executable, "-m", "simulators", "confluence", "--port", "0", "--pages", "5"]
    cmd += ["--without-scope", "read:label", "--token", "t0k"]
    proc = subprocess.Popen(cmd, cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().strip()
        assert base.startswith("http://127.0.0.1:")
        auth = ("sync-bot@supportlake-demo.com", "t0k")
        assert requests.get(f"{base}{V2}/labels", auth=auth, timeout=30).status_code == 401
        assert requests.get(f"{base}{V2}/pages", auth=auth, timeout=30).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()
