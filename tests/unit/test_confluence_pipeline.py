"""The Confluence source in a real dlt pipeline into DuckDB: a full run, changes, an incremental run.

The site is a small in-memory fake behind `responses` that answers the v2 list endpoints as the
docs describe them (sort, status, id and space-id filters, cursor pages whose next link is in
``_links.next``, a ``limit`` capped lower than asked), so the test can count what each run reads.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import dlt
import pytest
import responses

from connectors.confluence import confluence_source

SITE = "https://acme.atlassian.net"
CAP = 2  # the fake answers at most 2 results per page, whatever the limit asked


class FakeSite:
    """Pages, blog posts, spaces and labels of one site; ``calls`` records each content request."""

    def __init__(self) -> None:
        self.pages: dict[str, dict[str, Any]] = {}
        self.labels: dict[str, list[dict[str, Any]]] = {}
        self.calls: list[dict[str, str]] = []
        self.label_calls: list[str] = []

    def put(self, content_id: int, when: str, *, version: int = 1, status: str = "current", title: str = "") -> None:
        self.pages[str(content_id)] = {
            "id": str(content_id),
            "status": status,
            "title": title or f"Page {content_id}",
            "spaceId": "10",
            "parentId": None,
            "authorId": "acc-1",
            "createdAt": "2024-01-01T00:00:00.000Z",
            "version": {"number": version, "createdAt": when, "authorId": "acc-1"},
            "body": {"storage": {"representation": "storage", "value": f"<p>{content_id} v{version}</p>"}},
            "_links": {"webui": f"/spaces/KB/pages/{content_id}"},
        }

    def install(self, rsps: responses.RequestsMock) -> None:
        rsps.add_callback("GET", f"{SITE}/wiki/api/v2/spaces", callback=self.spaces)
        rsps.add_callback("GET", f"{SITE}/wiki/api/v2/pages", callback=self.list_pages)
        rsps.add_callback("GET", f"{SITE}/wiki/api/v2/blogposts", callback=self.empty)
        rsps.add_callback("GET", re.compile(rf"{SITE}/wiki/api/v2/pages/\d+/labels.*"), callback=self.list_labels)
        rsps.add_callback("GET", f"{SITE}/wiki/api/v2/labels", callback=self.catalogue)
        rsps.add_callback("GET", re.compile(rf"{SITE}/wiki/api/v2/labels/\d+/pages.*"), callback=self.label_pages)
        rsps.add_callback("GET", re.compile(rf"{SITE}/wiki/api/v2/labels/\d+/blogposts.*"), callback=self.empty)

    # -- answers -----------------------------------------------------------------------------

    def spaces(self, request: Any) -> tuple[int, dict[str, str], str]:
        space = {"id": "10", "key": "KB", "name": "Support KB", "_links": {"webui": "/spaces/KB"}}
        return 200, {}, json.dumps({"results": [space], "_links": {"base": f"{SITE}/wiki"}})

    def empty(self, request: Any) -> tuple[int, dict[str, str], str]:
        return 200, {}, json.dumps({"results": [], "_links": {"base": f"{SITE}/wiki"}})

    def list_pages(self, request: Any) -> tuple[int, dict[str, str], str]:
        q = dict(parse_qsl(urlsplit(request.url).query))
        self.calls.append(q)
        statuses = set(q.get("status", "current,archived").split(","))
        found = [p for p in self.pages.values() if p["status"] in statuses]
        if "id" in q:
            wanted = set(q["id"].split(","))
            found = [p for p in found if p["id"] in wanted]
        if q.get("sort") == "-modified-date":
            found.sort(key=lambda p: (p["version"]["createdAt"], p["id"]), reverse=True)
        else:
            found.sort(key=lambda p: int(p["id"]))
        offset = int(base64.b64decode(q["cursor"])) if "cursor" in q else 0
        size = min(int(q.get("limit", 25)), CAP)
        chunk = found[offset : offset + size]
        if "body-format" not in q:
            chunk = [{k: v for k, v in p.items() if k != "body"} for p in chunk]
        links: dict[str, str] = {"base": f"{SITE}/wiki"}
        if offset + size < len(found):
            cursor = base64.b64encode(str(offset + size).encode()).decode()
            links["next"] = f"/wiki/api/v2/pages?cursor={cursor}&limit={size}"
        return 200, {}, json.dumps({"results": chunk, "_links": links})

    def catalogue(self, request: Any) -> tuple[int, dict[str, str], str]:
        seen = {x["id"]: x for labels in self.labels.values() for x in labels}
        return 200, {}, json.dumps({"results": list(seen.values()), "_links": {"base": f"{SITE}/wiki"}})

    def label_pages(self, request: Any) -> tuple[int, dict[str, str], str]:
        """The content carrying a label, in the default statuses only (current and archived)."""
        label_id = urlsplit(request.url).path.split("/")[-2]
        carrying = [
            self.pages[i]
            for i, labels in self.labels.items()
            if i in self.pages
            and self.pages[i]["status"] in ("current", "archived")
            and any(x["id"] == label_id for x in labels)
        ]
        return 200, {}, json.dumps({"results": carrying, "_links": {"base": f"{SITE}/wiki"}})

    def list_labels(self, request: Any) -> tuple[int, dict[str, str], str]:
        content_id = urlsplit(request.url).path.split("/")[-2]
        self.label_calls.append(content_id)
        results = self.labels.get(content_id, [])
        return 200, {}, json.dumps({"results": results, "_links": {"base": f"{SITE}/wiki"}})

    def reset(self) -> None:
        self.calls.clear()
        self.label_calls.clear()


@pytest.fixture
def site(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSite]:
    monkeypatch.setenv("SOURCES__CONFLUENCE__BASE_URL", SITE)
    monkeypatch.setenv("SOURCES__CONFLUENCE__CREDENTIALS__EMAIL", "agent@acme.test")
    monkeypatch.setenv("SOURCES__CONFLUENCE__CREDENTIALS__API_TOKEN", "cf-secret-token-123")
    monkeypatch.setenv("SOURCES__CONFLUENCE__OVERLAP_MINUTES", "5")
    fake = FakeSite()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.install(rsps)
        yield fake


def pipeline(tmp_path: Path) -> dlt.Pipeline:
    return dlt.pipeline(
        pipeline_name="confluence_test",
        pipelines_dir=str(tmp_path),
        destination=dlt.destinations.duckdb(str(tmp_path / "x.duckdb")),
        dataset_name="confluence",
    )


def query(p: dlt.Pipeline, sql: str) -> list[tuple[Any, ...]]:
    with p.sql_client() as client:
        return [tuple(row) for row in client.execute_sql(sql) or []]


def scans(calls: list[dict[str, str]]) -> int:
    """How many newest-first pages a run requested."""
    return sum(1 for q in calls if q.get("sort") == "-modified-date")


def inventories(calls: list[dict[str, str]]) -> int:
    """How many pages of the id inventory a run requested."""
    return sum(1 for q in calls if q.get("sort") == "id")


def test_full_then_incremental_run_reads_only_what_changed(site: FakeSite, tmp_path: Path) -> None:
    for i in range(1, 7):  # six pages, one version each, a day apart
        site.put(i, f"2024-02-0{i}T09:00:00.000Z")
    site.labels = {"1": [{"id": "500", "name": "billing", "prefix": "global"}], "2": [{"id": "501", "name": "howto"}]}
    p = pipeline(tmp_path)

    p.run(confluence_source())

    assert query(p, "select count(*), count(distinct id), sum(is_deleted::int) from pages") == [(6, 6, 0)]
    assert query(p, "select content_id, label_id, name from labels order by 1") == [
        ("1", "500", "billing"),
        ("2", "501", "howto"),
    ]
    assert query(p, "select web_url, space_key from pages where id = '3'") == [(f"{SITE}/wiki/spaces/KB/pages/3", "KB")]
    assert scans(site.calls) == 3  # 6 pages, 2 per page
    assert inventories(site.calls) == 0  # a first run reads everything: it is its own inventory
    # current pages take their labels from the label sweep (one request per label), not one by one
    assert site.label_calls == []

    # Between runs: page 1 is edited (and loses its label), page 7 is created, page 2 is trashed
    # (its version untouched), page 4 is archived, page 6 is purged, page 5 is labelled (no version).
    site.put(1, "2024-03-01T10:00:00.000Z", version=2, title="Refunds, revised")
    site.labels["1"] = []
    site.labels["5"] = [{"id": "501", "name": "howto"}]
    site.put(7, "2024-03-01T11:00:00.000Z")
    site.pages["2"]["status"] = "trashed"
    site.pages["4"]["status"] = "archived"
    del site.pages["6"]
    site.reset()

    p.run(confluence_source())

    # The newest-first read stopped at the page holding the watermark (page 2 of 3: 7 and 1 are
    # newer, 5 is older) and bodies were read again only for what changed.
    assert scans(site.calls) == 2
    assert inventories(site.calls) == 3  # 6 ids listed, no bodies
    refetched = [q["id"] for q in site.calls if "id" in q and "body-format" in q]
    assert refetched == ["2,4", "6"]  # status changes found by the inventory, then the purge check
    # trashed and archived content is asked one by one; current (1, 7) comes from the label sweep
    assert sorted(site.label_calls) == ["2", "4"]

    assert query(p, "select id, version__number, title, status, is_deleted from pages order by id::int") == [
        ("1", 2, "Refunds, revised", "current", False),
        ("2", 1, "Page 2", "trashed", True),
        ("3", 1, "Page 3", "current", False),
        ("4", 1, "Page 4", "archived", False),
        ("5", 1, "Page 5", "current", False),
        ("6", 1, "Page 6", "current", False),  # purged: its last version is kept as it was
        ("7", 1, "Page 7", "current", False),
    ]
    assert query(p, "select id, content_type, last_version, last_status from deleted_content") == [
        ("6", "page", 1, "current")
    ]
    assert query(p, "select content_id, name from labels order by 1") == [("2", "howto"), ("5", "howto")]

    state = p.state["sources"]["confluence"]["resources"]["pages"]
    assert state["watermark"] == "2024-03-01T11:00:00+00:00"
    assert "6" not in state["known"]

    # A third run with nothing changed reads one page of the list, then the inventory: only page 7,
    # inside the 5-minute overlap of the watermark, is read again (and merged: no new row).
    site.reset()
    p.run(confluence_source())
    assert scans(site.calls) == 1
    assert [q for q in site.calls if "id" in q] == []
    assert site.label_calls == []  # page 7 is current: its labels come from the sweep
    assert query(p, "select count(*) from pages") == [(7,)]
    assert query(p, "select content_id, name from labels order by 1") == [("2", "howto"), ("5", "howto")]
    assert query(p, "select count(*) from deleted_content") == [(1,)]


def test_oauth_token_is_sent_as_bearer(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SOURCES__CONFLUENCE__BASE_URL", "https://api.atlassian.com/ex/confluence/cloud-1")
    monkeypatch.setenv("SOURCES__CONFLUENCE__CREDENTIALS__OAUTH_TOKEN", "oauth-access-token-1")
    with responses.RequestsMock() as rsps:
        rsps.get(
            "https://api.atlassian.com/ex/confluence/cloud-1/wiki/api/v2/spaces",
            match=[responses.matchers.header_matcher({"Authorization": "Bearer oauth-access-token-1"})],
            json={
                "results": [{"id": "10", "key": "KB", "_links": {"webui": "/spaces/KB"}}],
                "_links": {"base": f"{SITE}/wiki"},  # the gateway answers with the site's links
            },
        )
        p = pipeline(tmp_path)
        p.run(confluence_source(resources=["spaces"]))

    assert query(p, "select key, web_url from spaces") == [("KB", f"{SITE}/wiki/spaces/KB")]
