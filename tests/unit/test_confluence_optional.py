"""Optional Confluence tables never fail a run (issue 10).

Pages are the primary object: a 401/403/404 there fails the run. Spaces, blog posts and labels
are enrichments: refused, the table is skipped with the reason (``STATS.skip``) and the rest
loads. The label catalogue (``GET /wiki/api/v2/labels``, the only endpoint needing
``read:label:confluence``) refused is not even a skip: labels are read per content instead, exact,
with a warning naming the scope.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from dlt.pipeline.exceptions import PipelineStepFailed

from common.errors import AuthError, ConfigError
from connectors.confluence import confluence_source
from connectors.confluence.labels import label_scope_warning
from connectors.stats import STATS
from tests.unit.test_confluence_pipeline import FakeSite, pipeline, query

SCOPE_MISMATCH = {"code": 401, "message": "Unauthorized; scope does not match"}
FORBIDDEN = {"errors": [{"status": 403, "code": "FORBIDDEN", "title": "Forbidden", "detail": None}]}
NOT_FOUND = {"errors": [{"status": 404, "code": "NOT_FOUND", "title": "Not Found", "detail": None}]}
BODIES = {401: SCOPE_MISMATCH, 403: FORBIDDEN, 404: NOT_FOUND}


class RefusingSite(FakeSite):
    """The fake site of the pipeline tests, where ``refused[name]`` answers that status instead:
    ``spaces``, ``pages``, ``blogposts``, ``catalogue`` (``/labels``) or ``labels`` (a content's own)."""

    def __init__(self) -> None:
        super().__init__()
        self.refused: dict[str, int] = {}

    def _refuse(self, name: str) -> tuple[int, dict[str, str], str] | None:
        status = self.refused.get(name)
        return (status, {}, json.dumps(BODIES[status])) if status else None

    def spaces(self, request: Any) -> tuple[int, dict[str, str], str]:
        return self._refuse("spaces") or super().spaces(request)

    def list_pages(self, request: Any) -> tuple[int, dict[str, str], str]:
        return self._refuse("pages") or super().list_pages(request)

    def empty(self, request: Any) -> tuple[int, dict[str, str], str]:
        if "/blogposts" in request.url and "/labels/" not in request.url:
            return self._refuse("blogposts") or super().empty(request)
        return super().empty(request)

    def catalogue(self, request: Any) -> tuple[int, dict[str, str], str]:
        return self._refuse("catalogue") or super().catalogue(request)

    def list_labels(self, request: Any) -> tuple[int, dict[str, str], str]:
        return self._refuse("labels") or super().list_labels(request)


@pytest.fixture
def site(monkeypatch: pytest.MonkeyPatch) -> Iterator[RefusingSite]:
    monkeypatch.setenv("SOURCES__CONFLUENCE__BASE_URL", "https://acme.atlassian.net")
    monkeypatch.setenv("SOURCES__CONFLUENCE__CREDENTIALS__EMAIL", "agent@acme.test")
    monkeypatch.setenv("SOURCES__CONFLUENCE__CREDENTIALS__API_TOKEN", "cf-secret-token-123")
    STATS.reset()
    fake = RefusingSite()
    for i in range(1, 5):
        fake.put(i, f"2024-02-0{i}T09:00:00.000Z", status="trashed" if i == 4 else "current")
    fake.labels = {"1": [{"id": "500", "name": "billing", "prefix": "global"}], "4": [{"id": "501", "name": "old"}]}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.install(rsps)
        yield fake


def chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in out:
        out.append(cur)
        cur = cur.__cause__ or cur.__context__
    return out


@pytest.mark.parametrize("status", [401, 403, 404])
def test_spaces_refused_are_skipped_and_pages_still_load(site: RefusingSite, tmp_path: Path, status: int) -> None:
    site.refused["spaces"] = status
    p = pipeline(tmp_path)
    p.run(confluence_source())

    assert STATS.get("confluence", "spaces").skipped.startswith("skipped: ")
    assert f"HTTP {status}" in STATS.get("confluence", "spaces").skipped
    assert query(p, "select count(*), count(space_key) from pages") == [(4, 0)]
    assert any("read:space:confluence" in w for w in STATS.get("confluence", "pages").warnings)
    assert query(p, "select content_id, name from labels order by 1") == [("1", "billing"), ("4", "old")]


def test_spaces_refused_with_space_keys_is_a_configuration_error(
    site: RefusingSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCES__CONFLUENCE__SPACE_KEYS", "KB")
    site.refused["spaces"] = 401
    with pytest.raises(PipelineStepFailed) as caught:
        pipeline(tmp_path).run(confluence_source())
    errors = [e for e in chain(caught.value) if isinstance(e, ConfigError)]
    assert errors
    assert "read:space:confluence" in str(errors[0])


@pytest.mark.parametrize("status", [401, 403, 404])
def test_blogposts_refused_are_skipped(site: RefusingSite, tmp_path: Path, status: int) -> None:
    site.refused["blogposts"] = status
    p = pipeline(tmp_path)
    p.run(confluence_source())

    assert f"HTTP {status}" in STATS.get("confluence", "blogposts").skipped
    assert not STATS.get("confluence", "pages").skipped
    assert query(p, "select count(*) from pages") == [(4,)]


@pytest.mark.parametrize("status", [401, 403])
def test_a_contents_labels_refused_skip_the_labels_table(site: RefusingSite, tmp_path: Path, status: int) -> None:
    site.refused["labels"] = status  # the trashed page 4's labels are read one by one: refused
    p = pipeline(tmp_path)
    p.run(confluence_source())

    assert f"HTTP {status}" in STATS.get("confluence", "labels").skipped
    assert len(site.label_calls) == 0, "refused once, not asked again for every content"
    assert not STATS.get("confluence", "pages").skipped
    assert query(p, "select count(*) from pages") == [(4,)]


def test_a_contents_labels_404_is_that_content_only(site: RefusingSite, tmp_path: Path) -> None:
    site.refused["labels"] = 404  # content purged between the listing and its labels
    p = pipeline(tmp_path)
    p.run(confluence_source())
    assert not STATS.get("confluence", "labels").skipped


@pytest.mark.parametrize("status", [401, 403])
def test_label_catalogue_refused_reads_each_contents_labels(site: RefusingSite, tmp_path: Path, status: int) -> None:
    site.refused["catalogue"] = status
    p = pipeline(tmp_path)
    p.run(confluence_source())

    assert query(p, "select content_id, name from labels order by 1") == [("1", "billing"), ("4", "old")]
    assert sorted(site.label_calls) == ["1", "2", "3", "4"]
    assert STATS.get("confluence", "labels").warnings == (label_scope_warning(status),)
    assert not STATS.get("confluence", "labels").skipped
    assert "read:label:confluence" in label_scope_warning(status)
    assert f"HTTP {status}" in label_scope_warning(status)

    # a label added without a new version is still found on the next run
    site.labels["2"] = [{"id": "502", "name": "new"}]
    site.reset()
    p.run(confluence_source())
    assert query(p, "select content_id, name from labels order by 1") == [("1", "billing"), ("2", "new"), ("4", "old")]


@pytest.mark.parametrize("status", [401, 403, 404])
def test_pages_refused_fail_the_run(site: RefusingSite, tmp_path: Path, status: int) -> None:
    site.refused["pages"] = status
    with pytest.raises(PipelineStepFailed) as caught:
        pipeline(tmp_path).run(confluence_source())
    refused = [e for e in chain(caught.value) if getattr(e, "status", None) == status]
    assert refused
    assert isinstance(refused[0], AuthError) == (status == 401)
