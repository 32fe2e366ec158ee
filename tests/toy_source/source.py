"""The Widgets dlt source: two endpoints declared as data, walked by the shared writer."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import dlt
from dlt.sources import DltResource

from connectors.auth import BearerAuth
from connectors.deletions import Deletion, RecordDeleted, SourceDeletions
from connectors.endpoints import Endpoint, Table, WalkContext, walk
from connectors.http import HttpClient
from connectors.paginators import NextPageUrlPaginator, SinglePage
from schemas.payload import Payload


class Widget(Payload):
    id: int
    name: str
    archived: bool = False
    owner_id: int | None = None


class Owner(Payload):
    id: int
    email: str | None = None


WIDGETS = Table(name="widgets", model=Widget, description="Widgets; archived ones are flagged deleted.")
OWNERS = Table(name="owners", model=Owner, description="Who owns which widget.")

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        name="widgets",
        path="/api/widgets",
        data_selector="widgets",
        table=WIDGETS,
        params={"per_page": 2},
        paginator=lambda: NextPageUrlPaginator("next_page"),
    ),
    Endpoint(
        name="owners",
        path="/api/owners",
        data_selector="owners",
        table=OWNERS,
        paginator=SinglePage,
        optional=True,  # refused (401/403/404): the table is skipped with the reason, the run goes on
    ),
)

DELETIONS = SourceDeletions(
    tables={"widgets": Deletion(record=RecordDeleted(column="archived", values=(True,), at=()))}
)


@dlt.source(name="toy", max_table_nesting=0)
def toy_source(
    base_url: str = dlt.config.value,
    api_token: str = dlt.secrets.value,
    resources: Sequence[str] | None = None,
) -> Iterator[DltResource]:
    client = make_client(base_url, api_token)
    ctx = WalkContext(client=client, deletions=DELETIONS)
    for endpoint in ENDPOINTS:
        if resources and endpoint.name not in resources:
            continue
        yield dlt.resource(_walk, name=endpoint.name, **endpoint.table.resource_hints())(endpoint, ctx)


def make_client(base_url: str, api_token: str) -> HttpClient:
    return HttpClient(base_url, name="toy", auth=BearerAuth(api_token), auth_hint="SOURCES__TOY__API_TOKEN")


def _walk(endpoint: Endpoint, ctx: WalkContext) -> Iterator[Any]:
    yield from walk(endpoint, ctx, dlt.current.resource_state())
