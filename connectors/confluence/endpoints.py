"""The Confluence Cloud streams, declared as data (REST API v2, cursor pagination).

- spaces: ``/wiki/api/v2/spaces``, a small list read whole each run (``keys=`` when space keys
  are configured);
- pages and blog posts: ``/wiki/api/v2/pages`` and ``/wiki/api/v2/blogposts`` with
  ``sort=-modified-date`` and ``body-format=storage``, read newest-modified first and stopped at
  the stored watermark minus an overlap, every status listed (``current``, ``archived``,
  ``trashed``, ``deleted`` for pages; blog posts have no ``archived``), so trashed content is kept
  and flagged. An id inventory of every status then finds what the newest-first read cannot see:
  status changes that do not touch the modification date, and purges (gone from every listing),
  which land in ``deleted_content``;
- labels: ``/wiki/api/v2/{pages|blogposts}/{id}/labels`` for each page or blog post read, its rows
  replaced whole each time; and, because adding or removing a label makes no new version, a label
  inventory each run: ``/wiki/api/v2/labels`` then ``/wiki/api/v2/labels/{id}/{pages|blogposts}``.
  Those lists take no ``status`` filter, and the docs do not say which statuses they include, so
  they are trusted for current content only; trashed and archived content is read-only in
  Confluence, and its labels are read with it when its status changes. ``/labels`` is the one
  endpoint needing the ``read:label:confluence`` scope (the others: ``read:page:confluence``,
  spaces ``read:space:confluence``, per Atlassian's v2 OpenAPI document); refused, each current
  content's own labels are read instead.

Pages are the primary object; spaces and blog posts are declared ``optional`` (a 401/403/404
skips their table), and so are labels (handled in :mod:`connectors.confluence.labels`).

Every list takes ``limit`` up to 250 (the documented maximum).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connectors.endpoints import Endpoint, Table
from connectors.paginators import ConfluenceCursorPaginator
from schemas import confluence as m

PAGE_SIZE = 250
CLEAR_COLUMN = "_sl_clear"
"""Marks a row that only clears a parent's child rows (dlt ``hard_delete``); it is never stored.
(Not ``_sl_deleted``: that column flags deleted records in every raw table, see
:mod:`connectors.deletions`.)"""


@dataclass(frozen=True, kw_only=True)
class ChildTable(Table):
    """Rows owned by a parent record and replaced whole whenever the parent is read.

    Merged with dlt's ``delete-insert`` on ``parent_key``: the rows of every parent in the load
    replace that parent's stored rows. A parent left without rows sends a single row flagged
    :data:`CLEAR_COLUMN` so that its stored rows are removed too.
    """

    key: tuple[str, ...]
    parent_key: str

    def hints(self) -> dict[str, Any]:
        hints = super().hints()
        hints["primary_key"] = list(self.key)
        hints["merge_key"] = self.parent_key
        hints["columns"][CLEAR_COLUMN] = {"data_type": "bool", "hard_delete": True, "nullable": True}
        return hints


@dataclass(frozen=True, kw_only=True)
class ContentStream:
    """Pages or blog posts: listed newest-modified first, reconciled by an id inventory.

    ``endpoint`` says where and what it fills; its incremental mode is ``newest_first``
    (:data:`connectors.incremental.NEWEST_FIRST`: stopped at the watermark minus the overlap,
    walked by :class:`connectors.confluence.walk.ContentWalk`).
    """

    endpoint: Endpoint
    content_type: str
    statuses: tuple[str, ...]
    labels_path: str
    label_content_path: str
    label_listed_statuses: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.endpoint.name


SPACES = Table(name="spaces", model=m.Space, description="Spaces; web_url is the space's absolute link.")
PAGES = Table(
    name="pages",
    model=m.Page,
    description="Pages at their latest version, every status; is_deleted when trashed or deleted "
    "(_sl_deleted also when purged).",
)
BLOGPOSTS = Table(
    name="blogposts",
    model=m.BlogPost,
    description="Blog posts at their latest version, every status; is_deleted when trashed or deleted "
    "(_sl_deleted also when purged).",
)
LABELS = ChildTable(
    name="labels",
    model=m.Label,
    primary_key="content_id",
    key=("content_id", "label_id"),
    parent_key="content_id",
    description="Labels of pages and blog posts, one row per (content_id, label_id).",
)
DELETED_CONTENT = Table(
    name="deleted_content",
    model=m.DeletedContent,
    description="Pages and blog posts purged from the site: their last known status and version.",
)

LABELS_CATALOGUE = "/wiki/api/v2/labels"

SPACES_ENDPOINT = Endpoint(
    name="spaces",
    path="/wiki/api/v2/spaces",
    data_selector="results",
    table=SPACES,
    paginator=lambda: ConfluenceCursorPaginator(PAGE_SIZE),
    optional=True,
)

_CONTENT_PARAMS = {"sort": "-modified-date", "body-format": "storage"}

PAGES_STREAM = ContentStream(
    endpoint=Endpoint(
        name="pages",
        path="/wiki/api/v2/pages",
        data_selector="results",
        table=PAGES,
        also=(LABELS, DELETED_CONTENT),
        params=_CONTENT_PARAMS,
        paginator=lambda: ConfluenceCursorPaginator(PAGE_SIZE),
        cursor_field="version.createdAt",
        incremental="newest_first",
    ),
    content_type="page",
    statuses=("current", "archived", "trashed", "deleted"),
    labels_path="/wiki/api/v2/pages/{id}/labels",
    label_content_path="/wiki/api/v2/labels/{id}/pages",
    label_listed_statuses=("current",),
)
BLOGPOSTS_STREAM = ContentStream(
    endpoint=Endpoint(
        name="blogposts",
        path="/wiki/api/v2/blogposts",
        data_selector="results",
        table=BLOGPOSTS,
        also=(LABELS, DELETED_CONTENT),
        params=_CONTENT_PARAMS,
        paginator=lambda: ConfluenceCursorPaginator(PAGE_SIZE),
        cursor_field="version.createdAt",
        incremental="newest_first",
        optional=True,
    ),
    content_type="blogpost",
    statuses=("current", "trashed", "deleted"),
    labels_path="/wiki/api/v2/blogposts/{id}/labels",
    label_content_path="/wiki/api/v2/labels/{id}/blogposts",
    label_listed_statuses=("current",),
)

STREAMS: tuple[ContentStream, ...] = (PAGES_STREAM, BLOGPOSTS_STREAM)
ENDPOINTS: tuple[Endpoint, ...] = (SPACES_ENDPOINT, *(s.endpoint for s in STREAMS))
BY_NAME = {s.name: s for s in STREAMS}

TABLES: dict[str, tuple[str, ...]] = {e.name: tuple(t.name for t in e.tables) for e in ENDPOINTS}
"""Resource → the tables it fills (``labels`` and ``deleted_content`` are filled by both
``pages`` and ``blogposts``, keyed so that their rows never collide)."""
