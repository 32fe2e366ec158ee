"""The Zendesk Support dlt source.

Usable on its own in any dlt pipeline::

    import dlt
    from connectors.zendesk import zendesk_source

    pipeline = dlt.pipeline("zd", destination="duckdb", dataset_name="zendesk")
    pipeline.run(zendesk_source())  # configuration from SOURCES__ZENDESK__* or .dlt/secrets.toml

Configuration (dlt conventions): ``base_url`` (``https://acme.zendesk.com``; ``http://`` only on
loopback, e.g. a simulator, or with ``allow_insecure_http``) or ``subdomain`` (``acme``); credentials (see
:mod:`connectors.zendesk.credentials`); ``start_date`` (ISO date or datetime; default: all
history, no hidden cut-off); ``export_rate_limit`` (requests per minute for the incremental
exports: 10, or 30 with the High Volume add-on).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Union

import dlt
from dlt.sources import DltResource

from common.dates import epoch, parse_start_date
from common.errors import AuthError, ConfigError, NotAvailableError
from connectors import chunks
from connectors.arrow import _dumps
from connectors.endpoints import Endpoint, ShowMany, WalkContext, refetch, walk
from connectors.http import HttpClient, RetryPolicy, parse_base_url
from connectors.pacing import RateLimit
from connectors.paginators import ZendeskLinksPaginator
from connectors.rejects import REJECTS
from connectors.zendesk.credentials import ZendeskApiTokenCredentials, ZendeskOAuthCredentials
from connectors.zendesk.deletions import DELETIONS
from connectors.zendesk.endpoints import BY_NAME, ENDPOINTS, EXPORT

START_DATE = "SOURCES__ZENDESK__START_DATE"
CUSTOM_FIELD_TYPES = {"checkbox": "bool", "integer": "bigint", "decimal": "double", "multiselect": "json"}


@dlt.source(name="zendesk", max_table_nesting=0)
def zendesk_source(
    credentials: Union[ZendeskApiTokenCredentials, ZendeskOAuthCredentials] = dlt.secrets.value,  # noqa: UP007 - dlt resolves typing.Union
    base_url: str | None = None,
    subdomain: str | None = None,
    start_date: str | None = None,
    export_rate_limit: int = 10,
    rate_window_seconds: float = 60.0,
    max_attempts: int = 8,
    deadline_seconds: float = 900.0,
    resources: Sequence[str] | None = None,
) -> Iterator[DltResource]:
    """Every Zendesk Support stream of :data:`connectors.zendesk.endpoints.ENDPOINTS`.

    In a chunked sync the client is made once and kept for every chunk: its pacing of the export
    limit carries over from one chunk to the next."""
    memo = chunks.memo("zendesk")
    if "context" not in memo:
        client = make_client(
            credentials,
            resolve_base_url(base_url, subdomain),
            export_rate_limit=export_rate_limit,
            rate_window_seconds=rate_window_seconds,
            policy=RetryPolicy(max_attempts=max_attempts, deadline_seconds=deadline_seconds),
        )
        memo["context"] = WalkContext(
            client=client, start_time=epoch(parse_start_date(start_date, START_DATE)), deletions=DELETIONS
        )
    ctx: WalkContext = memo["context"]
    for endpoint in ENDPOINTS:
        if resources and endpoint.name not in resources:
            continue
        yield dlt.resource(
            endpoint_resource,
            name=endpoint.name,
            **endpoint.table.resource_hints(),
        )(endpoint, ctx)


def endpoint_resource(endpoint: Endpoint, ctx: WalkContext) -> Iterator[Any]:
    """A dlt resource body: walks one endpoint from the position kept in the resource's state
    (in a chunked sync, under the chunk's budget: :func:`connectors.chunks.guarded`)."""
    resumable = endpoint.mode.keep_cursor or endpoint.mode.keep_start
    yield from chunks.guarded(ctx.client.name, endpoint.name, _walk_endpoint(endpoint, ctx), resumable=resumable)


def _walk_endpoint(endpoint: Endpoint, ctx: WalkContext) -> Iterator[Any]:
    state = dlt.current.resource_state()
    if endpoint is BY_NAME["tickets"]:
        memo = chunks.memo(ctx.client.name)
        if "custom_field_pivot" not in memo:  # read once per sync, not once per chunk
            memo["custom_field_pivot"] = custom_field_pivot(ctx.client)
        hook, columns = memo["custom_field_pivot"]
        ctx = dataclasses.replace(ctx, page_hooks={"tickets": hook}, extra_columns={"tickets": columns})
    yield from walk(endpoint, ctx, state)
    if endpoint.show_many is not None:
        yield from _read_held_again(endpoint, endpoint.show_many, ctx)


def _read_held_again(endpoint: Endpoint, show_many: ShowMany, ctx: WalkContext) -> Iterator[Any]:
    """Records held in quarantine are read again by id (Show Many: tickets, users, organizations;
    100 ids a request): one that reads valid now is loaded and leaves the quarantine. An optional
    stream whose Show Many is refused keeps its records held and says so."""
    held = [k for k in REJECTS.held(ctx.client.name, endpoint.table.name) if k.isdigit()]
    try:
        yield from refetch(endpoint, ctx, show_many.path, held, params=show_many.params, batch=show_many.batch)
    except (NotAvailableError, AuthError) as exc:
        if not endpoint.optional:
            raise
        ctx.client.stats.warn(
            ctx.client.name,
            endpoint.name,
            f"held records could not be read again by id ({exc}); they stay held until the export sends them again",
        )


def make_client(
    credentials: ZendeskApiTokenCredentials | ZendeskOAuthCredentials,
    base_url: str,
    *,
    export_rate_limit: int = 10,
    rate_window_seconds: float = 60.0,
    policy: RetryPolicy | None = None,
) -> HttpClient:
    return HttpClient(
        base_url,
        name="zendesk",
        auth=credentials.auth(),
        auth_hint=f"{credentials.settings()} (and SOURCES__ZENDESK__BASE_URL / SUBDOMAIN)",
        limits={EXPORT: RateLimit(export_rate_limit, rate_window_seconds)},
        policy=policy,
    )


def resolve_base_url(base_url: str | None, subdomain: str | None) -> str:
    if base_url:
        return parse_base_url(base_url, "SOURCES__ZENDESK__BASE_URL", "a URL such as https://acme.zendesk.com")
    if subdomain:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]*", subdomain.strip()):
            raise ConfigError(f"SOURCES__ZENDESK__SUBDOMAIN must be like 'acme', got {subdomain!r}")
        return f"https://{subdomain.strip()}.zendesk.com"
    raise ConfigError(
        "Zendesk needs SOURCES__ZENDESK__BASE_URL (https://acme.zendesk.com) or SOURCES__ZENDESK__SUBDOMAIN (acme)"
    )


def snake(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_") or "field"


def custom_field_pivot(client: HttpClient) -> tuple[Any, dict[str, str]]:
    """Read the ticket fields and return a page hook that pivots ``custom_fields`` into columns.

    A refused read of the ticket fields (401/403/404) is not fatal: no pivot columns, a warning.
    Columns are named ``custom_<title in snake_case>`` (``custom_<title>_<id>`` when two fields
    share a title) and typed from the field type; the raw ``custom_fields`` JSON stays too.
    """
    fields: list[Mapping[str, Any]] = []
    try:
        for page in client.paginate(
            "/api/v2/ticket_fields.json", endpoint="ticket_fields", paginator=ZendeskLinksPaginator()
        ):
            fields.extend(f for f in page.data.get("ticket_fields") or [] if isinstance(f, dict))
    except (NotAvailableError, AuthError) as exc:
        # The pivot is an enrichment: tickets load without custom_<field> columns (the raw
        # custom_fields JSON stays) and the run says what is missing.
        fields = []
        client.stats.warn(
            client.name,
            "tickets",
            f"ticket fields could not be read ({exc}); tickets load without the custom_<field> columns "
            "(custom_fields keeps the raw values)",
        )
    names: dict[int, str] = {}
    columns: dict[str, str] = {}
    taken: set[str] = set()
    for f in sorted(fields, key=lambda f: int(f.get("id") or 0)):
        if f.get("removable") is False or f.get("id") is None:
            continue  # system fields (subject, status, ...) are ticket columns already
        name = f"custom_{snake(str(f.get('title') or f['id']))}"
        if name in taken:
            name = f"{name}_{f['id']}"
        taken.add(name)
        names[int(f["id"])] = name
        columns[name] = CUSTOM_FIELD_TYPES.get(str(f.get("type")), "text")

    def hook(records: list[dict[str, Any]]) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {name: [None] * len(records) for name in columns}
        for i, record in enumerate(records):
            record.pop("fields", None)  # the API's duplicate of custom_fields
            for cf in record.get("custom_fields") or []:
                if isinstance(cf, dict):
                    name = names.get(cf.get("id"))  # type: ignore[arg-type]
                    if name is not None:
                        value = cf.get("value")
                        out[name][i] = _dumps(value) if isinstance(value, list) and columns[name] == "json" else value
        return out

    return hook, columns
