"""The Confluence Cloud dlt source.

Usable on its own in any dlt pipeline::

    import dlt
    from connectors.confluence import confluence_source

    pipeline = dlt.pipeline("cf", destination="duckdb", dataset_name="confluence")
    pipeline.run(confluence_source())  # configuration from SOURCES__CONFLUENCE__* or .dlt/secrets.toml

Configuration (dlt conventions): ``base_url`` (the site, ``https://acme.atlassian.net``; the
connector adds ``/wiki``; ``http://`` only on loopback or with ``allow_insecure_http``; with OAuth 2.0 the gateway
``https://api.atlassian.com/ex/confluence/{cloudId}``); credentials (see
:mod:`connectors.confluence.credentials`); ``space_keys`` (``KB,RUN`` or a JSON list; default: every
space the user can see); ``start_date`` (ISO date or datetime; content last modified before it is not
read; default: all history); ``overlap_minutes`` (how far before the watermark each run reads again);
``detect_deletions`` (the id inventory that notices status changes and purges; on by default);
``detect_label_changes`` (the label inventory, part of the id inventory; on by default).

How pages and blog posts stay exact, run after run: the content walk
(:mod:`connectors.confluence.walk`: newest first down to the watermark, then an id inventory that
finds status changes and purges) and its label sync (:mod:`connectors.confluence.labels`: a label
inventory, since labels change without a new version). Rows are shaped in
:mod:`connectors.confluence.rows`; the spaces in scope come from :mod:`connectors.confluence.spaces`.

Optional tables never fail a run: a 401/403/404 on the spaces list, the blog posts list or a
content's labels marks that table ``skipped`` with the reason (``STATS.skip``); only pages fail the
run. Without spaces, ``space_key`` stays empty (and ``space_keys`` cannot be honoured: that is a
configuration error).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any, Union

import dlt
from dlt.sources import DltResource

from common.dates import parse_start_date
from common.errors import AuthError, ConfigError, NotAvailableError
from connectors import chunks
from connectors.confluence.credentials import ConfluenceApiTokenCredentials, ConfluenceOAuthCredentials
from connectors.confluence.deletions import DELETIONS
from connectors.confluence.endpoints import SPACES_ENDPOINT, STREAMS, ContentStream
from connectors.confluence.rows import space_row
from connectors.confluence.run import ConfluenceContext
from connectors.confluence.settings import (
    START_DATE,
    make_client,
    parse_space_keys,
    resolve_base_url,
)
from connectors.confluence.spaces import SpaceDirectory
from connectors.confluence.walk import ContentWalk
from connectors.http import RetryPolicy


@dlt.source(name="confluence", max_table_nesting=0)
def confluence_source(
    credentials: Union[ConfluenceApiTokenCredentials, ConfluenceOAuthCredentials] = dlt.secrets.value,  # noqa: UP007 - dlt resolves typing.Union
    base_url: str | None = None,
    space_keys: str | Sequence[str] | None = None,
    start_date: str | None = None,
    overlap_minutes: int = 10,
    detect_deletions: bool = True,
    detect_label_changes: bool = True,
    max_attempts: int = 8,
    deadline_seconds: float = 900.0,
    resources: Sequence[str] | None = None,
) -> Iterator[DltResource]:
    """Spaces, pages and blog posts (with their labels and purges) of a Confluence Cloud site."""
    if overlap_minutes < 0:
        raise ConfigError(f"SOURCES__CONFLUENCE__OVERLAP_MINUTES must be 0 or more, got {overlap_minutes!r}")
    memo = chunks.memo("confluence")  # a chunked sync keeps the client and the spaces read
    if "context" in memo:
        yield from _resources(memo["context"], resources)
        return
    client = make_client(
        credentials,
        resolve_base_url(base_url),
        policy=RetryPolicy(max_attempts=max_attempts, deadline_seconds=deadline_seconds),
    )
    ctx = memo["context"] = ConfluenceContext(
        client=client,
        directory=SpaceDirectory(client, parse_space_keys(space_keys)),
        start=parse_start_date(start_date, START_DATE),
        overlap=dt.timedelta(minutes=overlap_minutes),
        detect_deletions=detect_deletions,
        detect_label_changes=detect_label_changes,
    )
    yield from _resources(ctx, resources)


def _resources(ctx: ConfluenceContext, resources: Sequence[str] | None) -> Iterator[DltResource]:
    if not resources or SPACES_ENDPOINT.name in resources:
        yield dlt.resource(guarded_spaces, name=SPACES_ENDPOINT.name, **SPACES_ENDPOINT.table.resource_hints())(ctx)
    for stream in STREAMS:
        if resources and stream.name not in resources:
            continue
        yield dlt.resource(guarded_content, name=stream.name, **stream.endpoint.table.resource_hints())(stream, ctx)


def guarded_spaces(ctx: ConfluenceContext) -> Iterator[Any]:
    """:func:`spaces_resource` under a chunked sync's budget (:func:`connectors.chunks.guarded`)."""
    yield from chunks.guarded(ctx.client.name, SPACES_ENDPOINT.name, spaces_resource(ctx), resumable=False)


def guarded_content(stream: ContentStream, ctx: ConfluenceContext) -> Iterator[Any]:
    """:func:`content_resource` under a chunked sync's budget. A content walk is never cut: its
    watermark may only move once the newest-first read reached it, and its inventory compares the
    whole listing, so it commits as one unit (it starts only while the chunk has budget)."""
    yield from chunks.guarded(ctx.client.name, stream.name, content_resource(stream, ctx), resumable=False)


# --------------------------------------------------------------------------------------------
# Resources
# --------------------------------------------------------------------------------------------


def spaces_resource(ctx: ConfluenceContext) -> Iterator[Any]:
    """A dlt resource body: every space in scope, read whole (spaces are few). Optional: refused
    (401/403/404), the table is skipped with the reason."""
    writer = SPACES_ENDPOINT.writer(DELETIONS, source=ctx.client.name)
    directory = ctx.directory
    directory.load()
    if directory.refused is not None:
        ctx.client.stats.skip(ctx.client.name, SPACES_ENDPOINT.name, f"skipped: {directory.refused}")
        return
    good = writer.validate(SPACES_ENDPOINT.table.name, directory.records)
    if good:
        base = directory.base or ctx.default_base
        yield writer.write(SPACES_ENDPOINT.table.name, [space_row(r, base) for r in good])
    writer.count_rejections(ctx.client, SPACES_ENDPOINT.name)


def content_resource(stream: ContentStream, ctx: ConfluenceContext) -> Iterator[Any]:
    """A dlt resource body: pages or blog posts from the watermark kept in the resource's state.

    An optional stream (blog posts) refused with 401/403/404 is skipped with the reason; what was
    read before the refusal still loads, and its state is not advanced.
    """
    walk = ContentWalk(stream, ctx, dlt.current.resource_state())
    if not stream.endpoint.optional:
        yield from walk.run()
        return
    try:
        yield from walk.run()
    except (AuthError, NotAvailableError) as exc:
        ctx.client.stats.skip(ctx.client.name, stream.name, f"skipped: {exc}")
