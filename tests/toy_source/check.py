"""``supportlake check --source toy``: one cheap request per endpoint."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.check import CHECK_POLICY, MISSING_SCOPE, NOT_FOUND, Plan, Probe, Remedy, first_page, is_primary
from tests.toy_source.source import ENDPOINTS, make_client


def plan(settings: Mapping[str, Any]) -> Plan:
    client = make_client(settings["base_url"], settings["api_token"])
    client.policy = CHECK_POLICY
    probes = []
    for endpoint in ENDPOINTS:

        def request(endpoint: Any = endpoint) -> str | None:
            client.get_json(endpoint.path, endpoint=endpoint.name, params=first_page(endpoint))
            return None

        probes.append(
            Probe(
                source="toy",
                name=endpoint.name,
                request=request,
                refused=Remedy(MISSING_SCOPE, "the token needs the widgets:read scope"),
                missing=Remedy(NOT_FOUND, "check SOURCES__TOY__BASE_URL"),
                primary=is_primary("toy", endpoint.name),
            )
        )
    return Plan(
        source="toy", credentials="SOURCES__TOY__API_TOKEN", address="SOURCES__TOY__BASE_URL", probes=tuple(probes)
    )
