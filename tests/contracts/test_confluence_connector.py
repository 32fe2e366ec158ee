"""The Confluence connector parses each published response (``tests/contracts/confluence``) into
the expected rows: a real dlt run into DuckDB over `responses` serving the fixtures as they are."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import dlt
import pytest
import responses

from common.errors import AuthError, NotAvailableError
from connectors.confluence import confluence_source
from connectors.confluence.labels import label_scope_warning
from connectors.confluence.settings import make_client
from connectors.http import RetryPolicy
from connectors.stats import STATS
from tests.contracts.shapes import load
from tests.unit.conftest import FakeClock
from tests.unit.test_confluence_source import credentials

SITE = "https://your-domain.atlassian.net"
API = f"{SITE}/wiki/api/v2"
WIKI = f"{SITE}/wiki"  # the fixtures' _links.base


def fixture(name: str) -> tuple[int, dict[str, str], str]:
    return 200, {}, json.dumps(load("confluence", name))


def last_page(request: Any) -> tuple[int, dict[str, str], str]:
    return 200, {}, json.dumps({"results": [], "_links": {"base": WIKI}})


class Site:
    """Serves the fixtures; ``refuse`` maps an endpoint name to the error fixture it answers."""

    def __init__(self) -> None:
        self.refuse: dict[str, str] = {}
        self.asked: list[str] = []

    def answer(self, name: str, request: Any) -> tuple[int, dict[str, str], str]:
        self.asked.append(urlsplit(request.url).path)
        refusal = self.refuse.get(name)
        if refusal:
            body = load("confluence", refusal)
            status = body.get("code") or body["errors"][0]["status"]
            return status, {}, json.dumps(body)
        return fixture(name)

    def spaces(self, request: Any) -> tuple[int, dict[str, str], str]:
        query = dict(parse_qsl(urlsplit(request.url).query))
        return last_page(request) if "cursor" in query else self.answer("spaces", request)

    def install(self, rsps: responses.RequestsMock) -> None:
        rsps.add_callback("GET", f"{API}/spaces", callback=self.spaces)
        rsps.add_callback("GET", f"{API}/pages", callback=lambda r: self.answer("pages", r))
        rsps.add_callback("GET", f"{API}/blogposts", callback=lambda r: self.answer("blogposts", r))
        rsps.add_callback("GET", f"{API}/labels", callback=lambda r: self.answer("labels", r))
        rsps.add_callback("GET", f"{API}/labels/720897/pages", callback=lambda r: self.answer("label_pages", r))
        rsps.add_callback("GET", re.compile(rf"{API}/labels/\d+/(pages|blogposts).*"), callback=last_page)
        own_labels = re.compile(rf"{API}/(pages|blogposts)/\d+/labels.*")
        rsps.add_callback("GET", own_labels, callback=lambda r: self.answer("page_labels", r))


@pytest.fixture
def site(monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.setenv("SOURCES__CONFLUENCE__BASE_URL", SITE)
    monkeypatch.setenv("SOURCES__CONFLUENCE__CREDENTIALS__EMAIL", "agent@acme.test")
    monkeypatch.setenv("SOURCES__CONFLUENCE__CREDENTIALS__API_TOKEN", "cf-secret-token-123")
    STATS.reset()
    fake = Site()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.install(rsps)
        yield fake


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def run(tmp_path: Path) -> dlt.Pipeline:
    p = dlt.pipeline(
        pipeline_name="cf_contracts",
        pipelines_dir=str(tmp_path),
        destination=dlt.destinations.duckdb(str(tmp_path / "cf.duckdb")),
        dataset_name="confluence",
    )
    p.run(confluence_source())
    return p


def query(p: dlt.Pipeline, sql: str) -> list[tuple[Any, ...]]:
    with p.sql_client() as client:
        return [tuple(row) for row in client.execute_sql(sql) or []]


def test_spaces(site: Site, tmp_path: Path) -> None:
    p = run(tmp_path)
    assert query(p, "select id, key, name, type, status, homepage_id, author_id, web_url from spaces order by id") == [
        ("131073", "~5b10a2844c20165700ede21g", "Ada Lovelace", "personal", "archived", "131078",
         "5b10a2844c20165700ede21g", f"{WIKI}/spaces/~5b10a2844c20165700ede21g"),
        ("98305", "KB", "Support knowledge base", "global", "current", "98310",
         "5b10a2844c20165700ede21g", f"{WIKI}/spaces/KB"),
    ]  # fmt: skip
    created = query(p, "select created_at from spaces where id = '98305'")[0][0]
    assert created == dt.datetime(2023, 4, 11, 8, 15, 2, 518000, tzinfo=dt.UTC)


def test_pages_with_storage_bodies(site: Site, tmp_path: Path) -> None:
    p = run(tmp_path)
    rows = query(
        p,
        "select id, status, is_deleted, title, space_key, parent_id, parent_type, position, owner_id, "
        "last_owner_id, version__number, version__message, version__minor_edit, version__author_id, "
        "body__storage__value, web_url from pages order by id",
    )
    assert rows == [
        ("98306", "trashed", True, "Billing", "KB", None, None, None, None, "5b10a2844c20165700ede21g",
         1, "", True, "5b10a2844c20165700ede21g", "<p>Billing overview</p>", f"{WIKI}/spaces/KB/pages/98306/Billing"),
        ("98310", "current", False, "Refunds and credits", "KB", "98306", "page", 3, "5b10a2844c20165700ede21g",
         None, 4, "Clarify the 30-day window", False, "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077",
         "<p>Refunds are issued within <strong>30 days</strong>.</p>",
         f"{WIKI}/spaces/KB/pages/98310/Refunds+and+credits"),
    ]  # fmt: skip
    changed = query(p, "select version__created_at from pages where id = '98310'")[0][0]
    assert changed == dt.datetime(2024, 3, 1, 16, 20, 45, 113000, tzinfo=dt.UTC)
    state = p.state["sources"]["confluence"]["resources"]["pages"]
    assert state["watermark"] == "2024-03-01T16:20:45.113000+00:00"


def test_blogposts_with_storage_bodies(site: Site, tmp_path: Path) -> None:
    p = run(tmp_path)
    assert query(p, "select id, status, is_deleted, title, space_key, version__number, web_url from blogposts") == [
        ("163841", "current", False, "New escalation policy", "KB", 2,
         f"{WIKI}/spaces/KB/blog/2024/02/05/163841/New+escalation+policy"),
    ]  # fmt: skip


def test_labels_of_both_kinds(site: Site, tmp_path: Path) -> None:
    """Current content takes its labels from the catalogue and ``/labels/{id}/pages``; the trashed
    page from its own ``/pages/{id}/labels``."""
    p = run(tmp_path)
    assert query(p, "select content_type, content_id, label_id, name, prefix from labels order by 2, 3") == [
        ("page", "98306", "720897", "billing", "global"),
        ("page", "98306", "720899", "archive-me", "my"),
        ("page", "98310", "720897", "billing", "global"),
    ]
    assert f"{API.removeprefix(SITE)}/pages/98306/labels" in site.asked
    assert f"{API.removeprefix(SITE)}/pages/98310/labels" not in site.asked


def test_label_catalogue_refused_for_scope(site: Site, tmp_path: Path) -> None:
    site.refuse["labels"] = "error_401_scope"
    p = run(tmp_path)
    assert query(p, "select content_type, content_id, label_id from labels order by 1, 2, 3") == [
        ("blogpost", "163841", "720897"),
        ("blogpost", "163841", "720899"),
        ("page", "98306", "720897"),
        ("page", "98306", "720899"),
        ("page", "98310", "720897"),
        ("page", "98310", "720899"),
    ]
    assert STATS.get("confluence", "labels").warnings == (label_scope_warning(401),)


def test_pages_refused_for_scope_name_the_body(clock: FakeClock) -> None:
    client = make_client(credentials(), SITE, policy=RetryPolicy(max_attempts=3), sleep=clock.sleep, clock=clock)
    with responses.RequestsMock() as rsps:
        rsps.get(f"{API}/pages", status=401, json=load("confluence", "error_401_scope"))
        with pytest.raises(AuthError) as caught:
            client.get_json(f"{API}/pages", endpoint="pages")
    assert "scope does not match" in str(caught.value)
    assert "SOURCES__CONFLUENCE__CREDENTIALS__API_TOKEN" in str(caught.value)


def test_not_found(clock: FakeClock) -> None:
    client = make_client(credentials(), SITE, policy=RetryPolicy(max_attempts=3), sleep=clock.sleep, clock=clock)
    with responses.RequestsMock() as rsps:
        rsps.get(f"{API}/pages/1/labels", status=404, json=load("confluence", "error_404"))
        with pytest.raises(NotAvailableError) as caught:
            client.get_json(f"{API}/pages/1/labels", endpoint="pages")
    assert caught.value.status == 404


def test_rate_limited_waits_retry_after(clock: FakeClock) -> None:
    published = load("confluence", "error_429")
    client = make_client(credentials(), SITE, policy=RetryPolicy(max_attempts=3), sleep=clock.sleep, clock=clock)
    with responses.RequestsMock() as rsps:
        rsps.get(f"{API}/labels", status=published["status"], headers=published["headers"], body="")
        rsps.get(f"{API}/labels", json=load("confluence", "labels"))
        result = client.get_json(f"{API}/labels", endpoint="labels")
    assert [x["name"] for x in result.data["results"]] == ["billing", "howto"]
    assert clock.slept
    assert 5 <= clock.slept[0] <= 5.25  # Retry-After, plus a little jitter
