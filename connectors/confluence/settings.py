"""Confluence source settings: the HTTP client and the parsing of ``base_url``, ``start_date`` and
``space_keys`` (each error names the setting to fix)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from common.errors import ConfigError
from connectors.confluence.credentials import ConfluenceApiTokenCredentials, ConfluenceOAuthCredentials
from connectors.http import HttpClient, RetryPolicy, parse_base_url


def make_client(
    credentials: ConfluenceApiTokenCredentials | ConfluenceOAuthCredentials,
    base_url: str,
    *,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> HttpClient:
    """Confluence Cloud publishes no fixed limits for API-token traffic: no declared rate group;
    429s wait for ``Retry-After`` in the shared retry policy."""
    return HttpClient(
        base_url,
        name="confluence",
        auth=credentials.auth(),
        auth_hint=f"{credentials.settings()} (and SOURCES__CONFLUENCE__BASE_URL)",
        policy=policy,
        sleep=sleep,
        clock=clock,
    )


def resolve_base_url(base_url: str | None) -> str:
    """The site without ``/wiki`` (the paths and the API's next links carry it)."""
    if not base_url:
        raise ConfigError("Confluence needs SOURCES__CONFLUENCE__BASE_URL, the site such as https://acme.atlassian.net")
    url = parse_base_url(base_url, "SOURCES__CONFLUENCE__BASE_URL", "a URL such as https://acme.atlassian.net")
    if urlsplit(url).path.endswith("/wiki"):
        url = url[: -len("/wiki")]
    return url


START_DATE = "SOURCES__CONFLUENCE__START_DATE"


def parse_space_keys(value: str | Sequence[str] | None) -> tuple[str, ...] | None:
    """``KB,RUN``, ``["KB", "RUN"]`` or a list → ``("KB", "RUN")``; empty means every space."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except ValueError:
                raise ConfigError(f"SOURCES__CONFLUENCE__SPACE_KEYS is not a JSON list: {value!r}") from None
            items = [str(k) for k in parsed] if isinstance(parsed, list) else [text]
        else:
            items = text.split(",")
    else:
        items = [str(k) for k in value]
    keys = tuple(dict.fromkeys(k.strip() for k in items if k.strip()))
    return keys or None
