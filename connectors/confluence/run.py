"""What one run over Confluence pages or blog posts stands on: the source instance's shared
:class:`ConfluenceContext`, and :class:`ContentRun`, the run's state, requests and writes that
the label sync (:mod:`connectors.confluence.labels`) and the content walk
(:mod:`connectors.confluence.walk`) build on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.confluence.deletions import DELETIONS
from connectors.confluence.endpoints import ContentStream
from connectors.confluence.spaces import SpaceDirectory
from connectors.confluence.spaces import results as _results
from connectors.http import HttpClient, HttpResult
from connectors.paginators import ConfluenceCursorPaginator

STATE_VERSION = 1


@dataclass
class ConfluenceContext:
    """What every resource of one source instance shares."""

    client: HttpClient
    directory: SpaceDirectory
    start: dt.datetime | None = None
    overlap: dt.timedelta = dt.timedelta(minutes=10)
    detect_deletions: bool = True
    detect_label_changes: bool = True
    now: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    label_sweep_refused: int | None = None
    """The HTTP status that refused the label catalogue (then labels are read per content), once it was."""
    labels_refused: str | None = None
    """Why a content's own labels were refused (then the ``labels`` table is skipped), once it was."""

    @property
    def sweeping(self) -> bool:
        """Whether current content takes its labels from the label sweep rather than one by one."""
        return self.detect_label_changes and self.detect_deletions and self.label_sweep_refused is None

    @property
    def default_base(self) -> str:
        """Where web links point when the API does not say (its ``_links.base``)."""
        return self.client.base_url.rstrip("/") + "/wiki"


class ContentRun:
    """One run over pages or blog posts: its state, what it read, and its requests and writes.

    ``state`` is the resource's dlt state: ``watermark`` (ISO time of the newest version loaded),
    ``known`` (``{id: [version number, status]}`` of every id in scope at the last inventory) and
    ``labels`` (``{id: [label ids]}``). All are written after the last item has been yielded.
    """

    def __init__(self, stream: ContentStream, ctx: ConfluenceContext, state: dict[str, Any]) -> None:
        if state.get("v") not in (None, STATE_VERSION):
            raise RuntimeError(f"{stream.name}: state version {state.get('v')} is newer than this code")
        self.stream = stream
        self.endpoint = stream.endpoint
        self.table = stream.endpoint.table.name
        self.ctx = ctx
        self.client = ctx.client
        self.state = state
        self.writer = stream.endpoint.writer(DELETIONS, source=ctx.client.name)
        self.loaded: dict[str, list[Any]] = {}  # id → [version number, status] loaded by this run
        self.label_sets: dict[str, list[str]] = {}  # id → its label ids, read by this run
        self.newest: dt.datetime | None = None

    def _write_other(self, table: str, rows: list[dict[str, Any]]) -> Any:
        """Rows of a table besides the stream's own, counted under that table, as the run's
        summary counts them (the progress line and the summary agree)."""
        self.client.stats.add(self.client.name, table, records=len(rows))
        return self.writer.write(table, rows)

    # -- requests ------------------------------------------------------------------------------

    def paginator(self) -> ConfluenceCursorPaginator:
        paginator = self.endpoint.paginator()
        assert isinstance(paginator, ConfluenceCursorPaginator)
        return paginator

    def _pages(
        self,
        path: str,
        paginator: ConfluenceCursorPaginator,
        params: Mapping[str, Any],
        *,
        records: bool = True,
        pages: bool = True,
    ) -> Iterator[HttpResult]:
        """Every page of a list, counted under the resource's name (labels count as requests only,
        inventory entries as pages only)."""
        for page in self.client.paginate(
            path,
            endpoint=self.stream.name,
            paginator=paginator,
            params=params,
            rate_group=self.endpoint.rate_group,
        ):
            if pages:
                n = len(_results(page.data)) if records else 0
                self.client.stats.add(self.client.name, self.stream.name, records=n, pages=1)
            yield page
