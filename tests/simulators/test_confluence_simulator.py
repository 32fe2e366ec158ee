"""The Confluence Cloud simulator, over HTTP, as a connector sees it.

Pagination (body link and ``Link`` header), sort orders, status filters and their default, bodies,
labels, auth, rate limits, injected faults, v1 CQL search, and ``mutate`` reflected both in the
listings and in ``records()`` / ``purged()``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from simulators.confluence import ConfluenceSimulator
from simulators.world import build_world

V2 = "/wiki/api/v2"
ALL_PAGE_STATUSES = "current,archived,trashed,deleted"


@pytest.fixture(scope="module")
def sim() -> Iterator[ConfluenceSimulator]:
    """A read-only site shared by the tests that do not change it."""
    simulator = ConfluenceSimulator(seed=3, n_extra_pages=300, n_blogposts=12)
    with simulator.serve():
        yield simulator


@pytest.fixture
def own_sim() -> Iterator[ConfluenceSimulator]:
    """A site of its own, for tests that mutate it, inject faults or limit the rate."""
    simulator = ConfluenceSimulator(seed=5, n_extra_pages=200, n_blogposts=8)
    with simulator.serve():
        yield simulator


def get(sim: ConfluenceSimulator, path: str, params: Any = None, **kwargs: Any) -> requests.Response:
    kwargs.setdefault("auth", (sim.email, sim.api_token))
    return requests.get(f"{sim.base_url}{path}", params=params, timeout=30, **kwargs)


def walk(sim: ConfluenceSimulator, path: str, params: dict[str, Any], via: str = "body") -> list[dict[str, Any]]:
    """Every result of a listing, following the body's ``_links.next`` or the ``Link`` header."""
    out: list[dict[str, Any]] = []
    url: str | None = f"{sim.base_url}{path}"
    first = True
    with requests.Session() as s:
        s.auth = (sim.email, sim.api_token)
        while url:
            r = s.get(url, params=params if first else None, timeout=30)
            first = False
            assert r.status_code == 200, r.text
            data = r.json()
            assert set(data) == {"results", "_links"}
            assert data["_links"]["base"] == "https://acme.atlassian.net/wiki"
            out.extend(data["results"])
            body_next = data["_links"].get("next")
            header_next = r.links.get("next", {}).get("url")
            assert body_next == header_next, "the body and the Link header announce the same next page"
            if body_next:
                assert body_next.startswith(f"{path}?"), body_next
                assert "cursor=" in body_next
                assert r.links["base"]["url"] == "https://acme.atlassian.net/wiki"
            nxt = body_next if via == "body" else header_next
            url = f"{sim.base_url}{nxt}" if nxt else None
    return out


def errors(r: requests.Response, status: int) -> dict[str, Any]:
    """The one error of an Atlassian v2 error body."""
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"errors"}
    assert len(body["errors"]) == 1
    err = body["errors"][0]
    assert set(err) == {"status", "code", "title", "detail"}
    assert err["status"] == status
    return dict(err)


def by_id(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in records}


# ------------------------------------------------------------------------------------ data


def test_spaces_have_homepages_and_the_documented_fields(sim: ConfluenceSimulator) -> None:
    spaces = walk(sim, f"{V2}/spaces", {"limit": 2})
    assert spaces == sim.records("spaces")
    keys = {s["key"]: s for s in spaces}
    assert {"SUP", "RUN"} <= set(keys)
    assert len(keys) >= 4
    for s in spaces:
        assert {"id", "key", "name", "type", "status", "homepageId", "_links"} <= set(s)
        assert s["id"].isdigit()
        assert s["_links"]["webui"] == f"/spaces/{s['key']}"
        home = get(sim, f"{V2}/pages/{s['homepageId']}").json()
        assert home["spaceId"] == s["id"]
        assert home["parentId"] is None
        assert home["parentType"] is None
    assert {s["status"] for s in spaces} == {"current", "archived"}
    assert [s["key"] for s in walk(sim, f"{V2}/spaces", {"keys": "RUN,SUP"})] == ["SUP", "RUN"]
    one = get(sim, f"{V2}/spaces/{keys['SUP']['id']}", {"description-format": "plain"}).json()
    assert one["description"]["plain"]["representation"] == "plain"


def test_the_pages_zendesk_comments_link_to_resolve(sim: ConfluenceSimulator) -> None:
    articles = build_world(3).articles_in("confluence")
    assert len(articles) > 100
    space_ids = {s["key"]: s["id"] for s in sim.records("spaces")}
    pages = by_id(sim.records("pages"))
    for article in articles:
        page = pages[str(article.id)]
        assert page["title"] == article.title
        assert page["spaceId"] == space_ids[article.space_key]
        assert page["status"] == "current"
        assert "https://acme.atlassian.net/wiki" + page["_links"]["webui"] == article.url
    one = get(sim, f"{V2}/pages/{articles[0].id}").json()
    assert one == pages[str(articles[0].id)]
    labels = {(r["page_id"], r["name"]) for r in sim.records("labels")}
    assert all((str(a.id), a.product_area) in labels for a in articles)


def test_pages_have_the_documented_shape_and_a_parent_tree(sim: ConfluenceSimulator) -> None:
    pages = sim.records("pages")
    ids = {p["id"] for p in pages}
    for p in pages:
        assert list(p) == [
            "id", "status", "title", "spaceId", "parentId", "parentType", "position", "authorId", "ownerId",
            "lastOwnerId", "createdAt", "version", "_links",
        ]  # fmt: skip
        assert set(p["version"]) == {"number", "message", "minorEdit", "authorId", "createdAt"}
        assert set(p["_links"]) == {"webui", "editui", "tinyui"}
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", p["createdAt"])
        assert p["version"]["createdAt"] >= p["createdAt"]
        assert p["parentId"] is None or p["parentId"] in ids
    roots = {p["id"] for p in pages if p["parentId"] is None}
    assert roots == {s["homepageId"] for s in sim.records("spaces")}
    blogposts = sim.records("blogposts")
    assert blogposts
    assert all("parentId" not in b for b in blogposts)
    assert all(re.match(r"/spaces/\w+/blog/\d{4}/\d\d/\d\d/\d+/", b["_links"]["webui"]) for b in blogposts)


# ------------------------------------------------------------------------------------ pagination


@pytest.mark.parametrize("via", ["body", "header"])
def test_pagination_sees_every_page_once(sim: ConfluenceSimulator, via: str) -> None:
    seen = walk(sim, f"{V2}/pages", {"limit": 7}, via=via)
    ids = [p["id"] for p in seen]
    assert len(ids) == len(set(ids))
    expected = [p for p in sim.records("pages") if p["status"] in ("current", "archived")]
    assert seen == expected  # default sort is by id


def test_limit_default_maximum_and_validation(sim: ConfluenceSimulator) -> None:
    assert len(get(sim, f"{V2}/pages").json()["results"]) == 25
    assert len(get(sim, f"{V2}/pages", {"limit": 1000}).json()["results"]) == 250
    errors(get(sim, f"{V2}/pages", {"limit": 0}), 400)
    err = errors(get(sim, f"{V2}/pages", {"limit": "many"}), 400)
    assert err["code"] == "INVALID_REQUEST_PARAMETER"
    errors(get(sim, f"{V2}/pages", {"cursor": "not-a-cursor"}), 400)
    r = get(sim, f"{V2}/pages", {"limit": 5, "sort": "id"})
    cursor = r.links["next"]["url"].split("cursor=")[1]
    errors(get(sim, f"{V2}/pages", {"limit": 5, "sort": "-modified-date", "cursor": cursor}), 400)


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("id", lambda p: int(p["id"])),
        ("-id", lambda p: -int(p["id"])),
        ("created-date", lambda p: (p["createdAt"], int(p["id"]))),
        ("modified-date", lambda p: (p["version"]["createdAt"], int(p["id"]))),
        ("title", lambda p: (p["title"], int(p["id"]))),
    ],
)
def test_sort_orders(sim: ConfluenceSimulator, sort: str, key: Any) -> None:
    seen = walk(sim, f"{V2}/pages", {"limit": 50, "sort": sort})
    assert seen == sorted(seen, key=key)
    assert len(seen) == len({p["id"] for p in seen})


def test_newest_modified_first(sim: ConfluenceSimulator) -> None:
    seen = walk(sim, f"{V2}/pages", {"limit": 40, "sort": "-modified-date", "status": ALL_PAGE_STATUSES})
    stamps = [(p["version"]["createdAt"], int(p["id"])) for p in seen]
    assert stamps == sorted(stamps, reverse=True)
    assert len(seen) == len(sim.records("pages"))


# ------------------------------------------------------------------------------------ filters


def test_status_filters_and_their_default(sim: ConfluenceSimulator) -> None:
    records = sim.records("pages")
    statuses = {p["status"] for p in records}
    assert statuses == {"current", "archived", "trashed", "deleted"}

    def ids(params: dict[str, Any]) -> set[str]:
        return {p["id"] for p in walk(sim, f"{V2}/pages", params)}

    want = {s: {p["id"] for p in records if p["status"] == s} for s in statuses}
    assert ids({"limit": 250}) == want["current"] | want["archived"]
    for s in statuses:
        assert ids({"limit": 250, "status": s}) == want[s]
    assert ids({"limit": 250, "status": "trashed,deleted"}) == want["trashed"] | want["deleted"]
    repeated = get(sim, f"{V2}/pages", [("status", "trashed"), ("status", "deleted"), ("limit", 250)])
    assert {p["id"] for p in repeated.json()["results"]} == want["trashed"] | want["deleted"]
    assert ids({"limit": 250, "status": "draft"}) == set()
    err = errors(get(sim, f"{V2}/pages", {"status": "gone"}), 400)
    assert "status" in err["title"]

    blogs = sim.records("blogposts")
    assert {b["status"] for b in blogs} == {"current", "trashed", "deleted"}
    default_blogs = {b["id"] for b in walk(sim, f"{V2}/blogposts", {"limit": 5})}
    assert default_blogs == {b["id"] for b in blogs if b["status"] == "current"}
    every = walk(sim, f"{V2}/blogposts", {"limit": 5, "status": "current,trashed,deleted"})
    assert every == blogs
    errors(get(sim, f"{V2}/blogposts", {"status": "archived"}), 400)


def test_space_title_and_id_filters(sim: ConfluenceSimulator) -> None:
    spaces = {s["key"]: s for s in sim.records("spaces")}
    run = spaces["RUN"]["id"]
    in_run = walk(sim, f"{V2}/pages", {"limit": 100, "space-id": run})
    assert in_run
    assert all(p["spaceId"] == run for p in in_run)
    assert in_run == walk(sim, f"{V2}/spaces/{run}/pages", {"limit": 100})
    roots = walk(sim, f"{V2}/spaces/{run}/pages", {"depth": "root"})
    assert [p["id"] for p in roots] == [spaces["RUN"]["homepageId"]]
    article = build_world(3).articles_in("confluence", "SUP")[5]
    titled = get(sim, f"{V2}/pages", {"title": article.title}).json()["results"]
    assert [p["id"] for p in titled] == [str(article.id)]
    some = [p["id"] for p in in_run[:3]]
    assert [p["id"] for p in get(sim, f"{V2}/pages", {"id": ",".join(some)}).json()["results"]] == some


def test_body_format_storage_on_demand(sim: ConfluenceSimulator) -> None:
    plain = get(sim, f"{V2}/pages", {"limit": 30}).json()["results"]
    assert all("body" not in p for p in plain)
    with_body = get(sim, f"{V2}/pages", {"limit": 30, "body-format": "storage"}).json()["results"]
    assert [{k: v for k, v in p.items() if k != "body"} for p in with_body] == plain
    sizes = []
    for p in with_body:
        storage = p["body"]["storage"]
        assert set(p["body"]) == {"storage"}
        assert storage["representation"] == "storage"
        assert storage["value"].startswith("<")
        assert "<h2>" in storage["value"] or "<p>" in storage["value"]
        sizes.append(len(storage["value"]))
    assert sum(sizes) / len(sizes) > 1500
    one = get(sim, f"{V2}/pages/{with_body[-1]['id']}", {"body-format": "storage"}).json()
    assert one["body"] == with_body[-1]["body"], "bodies are a function of (id, version)"
    adf = get(sim, f"{V2}/pages/{with_body[-1]['id']}", {"body-format": "atlas_doc_format"}).json()
    assert json.loads(adf["body"]["atlas_doc_format"]["value"])["type"] == "doc"
    errors(get(sim, f"{V2}/pages", {"body-format": "wiki"}), 400)


# ------------------------------------------------------------------------------------ labels


def test_labels_per_page_paged(sim: ConfluenceSimulator) -> None:
    records = sim.records("labels")
    page_id = next(r["page_id"] for r in records if sum(x["page_id"] == r["page_id"] for x in records) >= 2)
    want = [{k: r[k] for k in ("id", "name", "prefix")} for r in records if r["page_id"] == page_id]
    got = walk(sim, f"{V2}/pages/{page_id}/labels", {"limit": 1})
    assert got == want
    assert all(lb["prefix"] == "global" for lb in got)
    names = walk(sim, f"{V2}/pages/{page_id}/labels", {"sort": "-name"})
    assert [lb["name"] for lb in names] == sorted((lb["name"] for lb in want), reverse=True)
    page = get(sim, f"{V2}/pages/{page_id}", {"include-labels": "true"}).json()
    assert page["labels"]["results"] == want

    blog_labels = sim.records("blogpost_labels")
    blog = blog_labels[0]["blogpost_id"]
    got_blog = walk(sim, f"{V2}/blogposts/{blog}/labels", {})
    assert {lb["name"] for lb in got_blog} == {r["name"] for r in blog_labels if r["blogpost_id"] == blog}

    errors(get(sim, f"{V2}/pages/1/labels"), 404)


def test_labels_and_their_pages(sim: ConfluenceSimulator) -> None:
    labels = walk(sim, f"{V2}/labels", {"limit": 10})
    billing = next(lb for lb in labels if lb["name"] == "billing")
    tagged = walk(sim, f"{V2}/labels/{billing['id']}/pages", {"limit": 10})
    want = {r["page_id"] for r in sim.records("labels") if r["name"] == "billing"} & {
        p["id"] for p in sim.records("pages") if p["status"] in ("current", "archived")
    }
    assert {p["id"] for p in tagged} == want
    errors(get(sim, f"{V2}/labels/7/pages"), 404)


# ------------------------------------------------------------------------------------ errors and auth


def test_not_found_and_bad_ids(sim: ConfluenceSimulator) -> None:
    err = errors(get(sim, f"{V2}/pages/42"), 404)
    assert err["code"] == "NOT_FOUND"
    errors(get(sim, f"{V2}/pages/abc"), 400)
    blog = sim.records("blogposts")[0]["id"]
    errors(get(sim, f"{V2}/pages/{blog}"), 404)
    assert get(sim, f"{V2}/blogposts/{blog}").json()["id"] == blog
    errors(get(sim, f"{V2}/nothing-here"), 404)
    trashed = next(p for p in sim.records("pages") if p["status"] == "trashed")
    assert get(sim, f"{V2}/pages/{trashed['id']}").json()["status"] == "trashed"
    errors(get(sim, f"{V2}/pages/{trashed['id']}", {"status": "current"}), 404)
    r = requests.post(f"{sim.base_url}{V2}/pages", json={}, auth=(sim.email, sim.api_token), timeout=10)
    errors(r, 405)


def test_basic_and_bearer_auth_and_401(sim: ConfluenceSimulator) -> None:
    before = sim.stats.unauthorized
    err = errors(get(sim, f"{V2}/spaces", auth=None), 401)
    assert err["code"] == "UNAUTHORIZED"
    errors(get(sim, f"{V2}/spaces", auth=(sim.email, "wrong")), 401)
    errors(get(sim, f"{V2}/spaces", auth=("someone@else.com", sim.api_token)), 401)
    errors(get(sim, f"{V2}/spaces", auth=None, headers={"Authorization": "Bearer nope"}), 401)
    assert sim.stats.unauthorized == before + 4
    assert get(sim, f"{V2}/spaces").status_code == 200
    bearer = get(sim, f"{V2}/spaces", auth=None, headers={"Authorization": f"Bearer {sim.oauth_token}"})
    assert bearer.status_code == 200
    v1 = get(sim, "/wiki/rest/api/search", {"cql": "type = page"}, auth=None)
    assert v1.status_code == 401
    assert v1.json()["statusCode"] == 401


def test_rate_limit_answers_429_with_the_headers() -> None:
    simulator = ConfluenceSimulator(seed=2, n_extra_pages=20, rate_limit=3, rate_window=3600)
    with simulator.serve():
        remaining = [get(simulator, f"{V2}/spaces").headers["X-RateLimit-Remaining"] for _ in range(3)]
        assert remaining == ["2", "1", "0"]
        r = get(simulator, f"{V2}/pages")
        err = errors(r, 429)
        assert err["code"] == "TOO_MANY_REQUESTS"
        assert int(r.headers["Retry-After"]) >= 1
        assert r.headers["X-RateLimit-Limit"] == "3"
        assert r.headers["X-RateLimit-Remaining"] == "0"
        assert r.headers["X-RateLimit-NearLimit"] == "true"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\dZ", r.headers["X-RateLimit-Reset"])
        assert simulator.stats.rate_limited == 1
        assert sum(simulator.stats.requests.values()) == 4
        simulator.rate_limit = None
        assert get(simulator, f"{V2}/pages").status_code == 200


def test_rate_limit_window_refills() -> None:
    simulator = ConfluenceSimulator(seed=2, n_extra_pages=20, rate_limit=2, rate_window=0.5)
    with simulator.serve():
        codes = [get(simulator, f"{V2}/spaces").status_code for _ in range(40)]
        assert 429 in codes
        assert codes[0] == 200
        simulator.rate_window = 0.05
        time.sleep(0.6)
        assert get(simulator, f"{V2}/spaces").status_code == 200


def test_injected_faults_in_order(own_sim: ConfluenceSimulator) -> None:
    own_sim.inject(f"{V2}/pages", [503, 500, 502, "drop", "bad_json", "truncate", 0.01, 429, "ok"])
    assert get(own_sim, f"{V2}/spaces").status_code == 200, "other paths are not affected"
    r = get(own_sim, f"{V2}/pages")
    errors(r, 503)
    assert r.headers["Retry-After"] == "1"
    errors(get(own_sim, f"{V2}/pages"), 500)
    r = get(own_sim, f"{V2}/pages")
    assert r.status_code == 502
    assert r.headers["Content-Type"].startswith("text/html")
    with pytest.raises(requests.ConnectionError):
        get(own_sim, f"{V2}/pages")
    r = get(own_sim, f"{V2}/pages")
    assert r.status_code == 200
    with pytest.raises(ValueError, match=r"."):
        r.json()
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        get(own_sim, f"{V2}/pages", {"limit": 100}).json()
    assert get(own_sim, f"{V2}/pages").status_code == 200  # the delay
    r = get(own_sim, f"{V2}/pages")
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "1"
    assert "X-RateLimit-Reset" in r.headers
    assert get(own_sim, f"{V2}/pages").status_code == 200  # "ok"
    assert get(own_sim, f"{V2}/pages").status_code == 200  # the queue is empty
    assert own_sim.stats.faults_served == 7
    assert own_sim.stats.faults == Counter(
        {"503": 1, "500": 1, "502": 1, "drop": 1, "bad_json": 1, "truncate": 1, "429": 1}
    )
    assert own_sim.stats.requests[f"{V2}/pages"] == 10


def test_error_rate(own_sim: ConfluenceSimulator) -> None:
    own_sim.error_rate = 1.0
    assert get(own_sim, f"{V2}/pages").status_code in (500, 502, 503, 504)
    own_sim.error_rate = 0.0
    assert get(own_sim, f"{V2}/pages").status_code == 200


# ------------------------------------------------------------------------------------ change


def test_mutate_is_reflected_in_listings_and_records(own_sim: ConfluenceSimulator) -> None:
    sim = own_sim
    before = by_id(sim.records("pages"))
    before_blogs = by_id(sim.records("blogposts"))
    latest_before = max(p["version"]["createdAt"] for p in before.values())
    change = sim.mutate(seed=1)
    for name in ("edited", "created", "trashed", "deleted", "purged", "archived", "relabelled"):
        assert getattr(change, name), f"mutate did no {name}"
    after = by_id(sim.records("pages"))

    for pid in change.edited:
        page = get(sim, f"{V2}/pages/{pid}").json()
        assert page["version"]["number"] == before[pid]["version"]["number"] + 1
        assert page["version"]["createdAt"] > latest_before
        assert page == after[pid]
    for pid in change.created:
        assert pid not in before
        assert after[pid]["version"]["number"] == 1
        assert after[pid]["status"] == "current"
    # newest-modified first: exactly the edited and created pages come before everything else
    fresh = set(change.edited) | set(change.created)
    newest = walk(sim, f"{V2}/pages", {"limit": 9, "sort": "-modified-date"})[: len(fresh)]
    assert {p["id"] for p in newest} == fresh

    trashed = {p["id"] for p in walk(sim, f"{V2}/pages", {"status": "trashed", "limit": 50})}
    deleted = {p["id"] for p in walk(sim, f"{V2}/pages", {"status": "deleted", "limit": 50})}
    default = {p["id"] for p in walk(sim, f"{V2}/pages", {"limit": 250})}
    for pid in change.trashed:
        assert pid in trashed
        assert pid not in default
        assert after[pid]["version"] == before[pid]["version"], "a status change makes no version"
    for pid in change.deleted:
        assert before[pid]["status"] == "trashed"
        assert pid in deleted
        assert after[pid]["status"] == "deleted"
    for pid in change.archived:
        assert after[pid]["status"] == "archived"
        assert pid in default
    for pid in change.purged:
        assert before[pid]["status"] in ("trashed", "deleted")
        assert pid not in after
        errors(get(sim, f"{V2}/pages/{pid}"), 404)
        errors(get(sim, f"{V2}/pages/{pid}/labels"), 404)
    assert sim.purged("pages") == set(change.purged)

    every = walk(sim, f"{V2}/pages", {"limit": 250, "status": ALL_PAGE_STATUSES})
    assert every == sim.records("pages"), "records() is what the API serves"
    assert not set(change.purged) & {p["id"] for p in every}
    labels = sim.records("labels")
    for pid in change.relabelled:
        want = [{k: r[k] for k in ("id", "name", "prefix")} for r in labels if r["page_id"] == pid]
        assert walk(sim, f"{V2}/pages/{pid}/labels", {}) == want
    assert {r["page_id"] for r in labels} <= set(after)

    blogs = by_id(sim.records("blogposts"))
    assert set(change.blogposts_created) <= set(blogs) - set(before_blogs)
    assert all(blogs[b]["status"] == "trashed" for b in change.blogposts_trashed)
    assert sim.purged("blogposts") == set(change.blogposts_purged)
    assert not set(change.blogposts_purged) & set(blogs)
    assert sim.purged() == set(change.purged) | set(change.blogposts_purged)


def test_world_articles_survive_many_mutations(own_sim: ConfluenceSimulator) -> None:
    for seed in range(6):
        own_sim.mutate(seed=seed)
    pages = by_id(own_sim.records("pages"))
    for article in build_world(5).articles_in("confluence"):
        assert pages[str(article.id)]["status"] in ("current", "archived")
        assert pages[str(article.id)]["title"] == article.title
    assert len(own_sim.purged()) >= 6


def test_explicit_mutation_counts(own_sim: ConfluenceSimulator) -> None:
    change = own_sim.mutate(seed=2, edits=1, creates=0, trashes=0, deletes=0, purges=0, archives=0, relabels=0)
    assert len(change.edited) == 1
    assert not (change.created)
    assert not (change.trashed)
    assert not (change.purged)
    assert not (change.archived)


def test_same_seed_same_site_and_same_changes() -> None:
    a, b = ConfluenceSimulator(seed=8, n_extra_pages=50), ConfluenceSimulator(seed=8, n_extra_pages=50)
    assert a.records("pages") == b.records("pages")
    assert a.records("labels") == b.records("labels")
    assert a.mutate(seed=4) == b.mutate(seed=4)
    assert a.records("pages") == b.records("pages")
    assert ConfluenceSimulator(seed=9, n_extra_pages=50).records("pages") != a.records("pages")


# ------------------------------------------------------------------------------------ v1


def test_cql_search_by_lastmodified(own_sim: ConfluenceSimulator) -> None:
    t0 = own_sim.now
    change = own_sim.mutate(seed=3)
    cql = f'type = page and lastmodified >= "{t0:%Y/%m/%d %H:%M}" order by lastmodified desc'
    found: list[dict[str, Any]] = []
    url: str | None = f"{own_sim.base_url}/wiki/rest/api/search"
    params: dict[str, Any] | None = {"cql": cql, "limit": 4, "expand": "content.version"}
    while url:
        r = requests.get(url, params=params, auth=(own_sim.email, own_sim.api_token), timeout=30)
        assert r.status_code == 200, r.text
        data = r.json()
        assert data["cqlQuery"] == cql
        assert data["_links"]["context"] == "/wiki"
        found.extend(data["results"])
        nxt = data["_links"].get("next")
        url, params = (f"{own_sim.base_url}/wiki{nxt}" if nxt else None), None
    ids = [x["content"]["id"] for x in found]
    assert set(ids) == set(change.edited) | set(change.created)
    stamps = [x["lastModified"] for x in found]
    assert stamps == sorted(stamps, reverse=True)
    assert all(x["content"]["version"]["when"] == x["lastModified"] for x in found)
    bad = get(own_sim, "/wiki/rest/api/search", {"cql": "text ~ 'sso' or label = x"})
    assert bad.status_code == 400
    assert bad.json()["statusCode"] == 400


def test_v1_user_lookup_maps_authors_to_agents(sim: ConfluenceSimulator) -> None:
    page = sim.records("pages")[0]
    user = get(sim, "/wiki/rest/api/user", {"accountId": page["authorId"]}).json()
    assert user["accountId"] == page["authorId"]
    assert user["email"].endswith("@supportlake-demo.com")
    assert {u["accountId"]: u["email"] for u in sim.records("users")}[page["authorId"]] == user["email"]
    assert get(sim, "/wiki/rest/api/user", {"accountId": "nobody"}).status_code == 404


# ------------------------------------------------------------------------------------ scale and CLI


def test_twenty_thousand_pages() -> None:
    simulator = ConfluenceSimulator(seed=2, n_extra_pages=20_000)
    assert len(simulator.records("pages")) > 20_000
    with simulator.serve():
        first = get(simulator, f"{V2}/pages", {"limit": 250, "body-format": "storage", "sort": "-modified-date"})
        assert len(first.json()["results"]) == 250
        nxt = get(simulator, first.json()["_links"]["next"]).json()
        assert len(nxt["results"]) == 250
        assert not {p["id"] for p in nxt["results"]} & {p["id"] for p in first.json()["results"]}


def test_command_line_prints_the_url_and_serves() -> None:
    root = Path(__file__).resolve().parents[2]
    cmd = [sys.executable, "-m", "simulators.confluence", "--port", "0", "--pages", "10", "--token", "t0k"]
    proc = subprocess.Popen(cmd, cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().strip()
        assert base.startswith("http://127.0.0.1:")
        r = requests.get(f"{base}{V2}/spaces", auth=("sync-bot@supportlake-demo.com", "t0k"), timeout=30)
        assert r.status_code == 200
        assert r.json()["results"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()
