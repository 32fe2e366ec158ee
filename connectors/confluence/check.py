"""The probes of ``supportlake check`` for Confluence Cloud, through the connector's own client.

One request each, ``limit=1``: the declared streams (:data:`connectors.confluence.endpoints.ENDPOINTS`:
pages first, then spaces and blog posts); the labels of one page and of one blog post
(``/pages/{id}/labels``: they come with the content's own scope, Atlassian documents); and the label sweep that finds
label changes (``/wiki/api/v2/labels``, then the pages of one label), which needs the
``read:label`` scope: Atlassian answers a scoped token or an OAuth app without it with
``401 Unauthorized; scope does not match`` (kovetskiy/mark#917). Atlassian's published v2 OpenAPI
asks ``read:label`` of ``GET /labels`` only; a content's labels and a label's pages come with
``read:page``. Without it the sync reads each content's labels instead, so the sweep is optional.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from connectors.check import (
    CHECK_POLICY,
    CHECK_TIMEOUT,
    MISSING_SCOPE,
    NOT_FOUND,
    Plan,
    Probe,
    Remedy,
    first_page,
    is_primary,
    primary_first,
    results_of,
)
from connectors.confluence.endpoints import ENDPOINTS, LABELS_CATALOGUE, STREAMS, ContentStream
from connectors.confluence.settings import make_client, parse_space_keys, resolve_base_url
from connectors.confluence.spaces import SpaceDirectory
from connectors.endpoints import Endpoint
from connectors.http import HttpClient

SOURCE = "confluence"
ADDRESS = "SOURCES__CONFLUENCE__BASE_URL (the site, or https://api.atlassian.com/ex/confluence/{cloudId} with OAuth)"
SCOPES: Mapping[str, str] = {
    "spaces": "read:space:confluence",
    "pages": "read:page:confluence",
    "blogposts": "read:page:confluence",
}
"""Granular OAuth 2.0 / scoped-token scope of each stream (classic: read:confluence-content.all)."""
LABEL_SCOPE = "read:label:confluence"


def _scope(scope: str) -> Remedy:
    return Remedy(
        MISSING_SCOPE,
        f"grant the {scope} scope (classic: read:confluence-content.all) to the token or OAuth app, "
        "and the user permission to view the spaces to sync",
    )


SWEEP = Remedy(
    MISSING_SCOPE,
    f"grant the {LABEL_SCOPE} scope (read:label) to the token or OAuth app; without it the sync reads "
    "each page's and blog post's labels instead (slower, same data)",
)
_NOT_FOUND = Remedy(NOT_FOUND, f"the API is not at this address: check {ADDRESS}")


def plan(settings: Mapping[str, Any]) -> Plan:
    """The probes, from the source's resolved settings (the parameters of ``confluence_source``)."""
    credentials = settings["credentials"]
    client = make_client(credentials, resolve_base_url(settings.get("base_url")), policy=CHECK_POLICY)
    client.timeout = CHECK_TIMEOUT
    seen: dict[str, str] = {}
    ordered = primary_first(SOURCE, ENDPOINTS)
    probes = [_stream(client, e, seen) for e in ordered]
    probes += [_labels_of(client, s, seen) for s in STREAMS]
    probes.append(Probe(source=SOURCE, name="label sweep", request=_sweep(client), refused=SWEEP, missing=_NOT_FOUND))
    keys = parse_space_keys(settings.get("space_keys"))
    if keys:
        probes.insert(1, _space_keys(client, keys))
    return Plan(
        source=SOURCE,
        credentials=client.auth_hint,  # the settings the sync's own 401 message names
        address=ADDRESS,
        probes=tuple(probes),
    )


def _first_id(data: Any) -> str | None:
    for record in results_of(data, "results"):
        if isinstance(record, Mapping) and record.get("id") is not None:
            return str(record["id"])
    return None


def _stream(client: HttpClient, endpoint: Endpoint, seen: dict[str, str]) -> Probe:
    params = first_page(endpoint)

    def request() -> str | None:
        data = client.get_json(endpoint.path, endpoint=endpoint.name, params=params).data
        found = _first_id(data)
        if found is None:
            return "readable; nothing visible to this user yet"
        seen[endpoint.name] = found
        return None

    scope = SCOPES.get(endpoint.name, "read:confluence-content.all")
    return Probe(
        source=SOURCE,
        name=endpoint.name,
        request=request,
        refused=_scope(scope),
        missing=_NOT_FOUND,
        primary=is_primary(SOURCE, endpoint.name),
    )


def _space_keys(client: HttpClient, keys: tuple[str, ...]) -> Probe:
    """``SOURCES__CONFLUENCE__SPACE_KEYS`` resolved as the sync resolves them (the connector's own
    directory): refused or matching no space is a configuration error, as it is for a sync."""

    def request() -> str | None:
        directory = SpaceDirectory(client, keys)
        directory.load()
        found = {str(r.get("key")) for r in directory.records}
        missing = [k for k in keys if k not in found]
        if missing:
            return f"not found or not visible, skipped by a sync: {', '.join(missing)}"
        return f"{len(found)} of {len(keys)} found"

    remedy = Remedy(NOT_FOUND, "check SOURCES__CONFLUENCE__SPACE_KEYS and the user's permission to view those spaces")
    return Probe(
        source=SOURCE, name="space keys", request=request, refused=_scope("read:space:confluence"), missing=remedy
    )


def _labels_of(client: HttpClient, stream: ContentStream, seen: dict[str, str]) -> Probe:
    """One content's labels, the way the sync reads them for each content it loads."""

    def request() -> str | None:
        content_id = seen.get(stream.name)
        if content_id is None:
            return f"no {stream.content_type} read above to ask for"
        path = stream.labels_path.format(id=quote(content_id, safe=""))
        client.get_json(path, endpoint=stream.name, params={"limit": 1})
        return None

    return Probe(
        source=SOURCE,
        name=f"{stream.content_type} labels",
        request=request,
        refused=_scope(SCOPES.get(stream.name, "read:page:confluence")),
        missing=_NOT_FOUND,
    )


def _sweep(client: HttpClient) -> Callable[[], str | None]:
    """The site-wide label list, then the pages of its first label."""

    def request() -> str | None:
        data = client.get_json(LABELS_CATALOGUE, endpoint="labels", params={"limit": 1}).data
        label = _first_id(data)
        if label is None:
            return "no labels on this site yet"
        path = STREAMS[0].label_content_path.format(id=quote(label, safe=""))
        client.get_json(path, endpoint="labels", params={"limit": 1})
        return None

    return request
