"""Confluence records as rows: pages, blog posts and spaces flattened to snake_case columns with
their web links (:func:`content_row`, :func:`space_row`), and the few fields the content walk
reads from a raw record (its id, its version time, its inventory entry)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from common.dates import parse_time
from connectors.arrow import flatten
from schemas.confluence import DELETED_STATUSES


def content_row(record: Mapping[str, Any], base: str, key_of: Callable[[Any], str | None]) -> dict[str, Any]:
    """A page or blog post as a row: flattened, snake_case, plus space key, web link, is_deleted."""
    row = {column_name(k): v for k, v in flatten(record).items()}
    row["space_key"] = key_of(record.get("spaceId"))
    row["web_url"] = web_url(base, record)
    row["is_deleted"] = record.get("status") in DELETED_STATUSES
    return row


def space_row(record: Mapping[str, Any], base: str) -> dict[str, Any]:
    row = {column_name(k): v for k, v in flatten(record).items()}
    row["web_url"] = web_url(base, record)
    return row


def web_url(base: str, record: Mapping[str, Any]) -> str | None:
    """``_links.base`` + ``_links.webui`` (``https://acme.atlassian.net/wiki`` + ``/spaces/KB/pages/1/T``)."""
    links = record.get("_links")
    webui = links.get("webui") if isinstance(links, Mapping) else None
    if not isinstance(webui, str) or not webui:
        return None
    if webui.startswith(("http://", "https://")):
        return webui
    return base.rstrip("/") + "/" + webui.lstrip("/")


@lru_cache(maxsize=1024)
def column_name(name: str) -> str:
    """camelCase → snake_case, per flattened segment (``version__createdAt`` → ``version__created_at``)."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def changed_at(record: Mapping[str, Any]) -> dt.datetime:
    """``version.createdAt`` of a validated record, as an aware datetime."""
    parsed = parse_time(record["version"]["createdAt"])
    assert parsed is not None
    return parsed


def id_of(record: Any) -> str | None:
    if not isinstance(record, Mapping) or record.get("id") is None:
        return None
    return str(record["id"])


def inventory_entry(record: Mapping[str, Any]) -> tuple[list[Any], dt.datetime] | None:
    """``([version number, status], version time)`` of an inventory entry; None if malformed
    (the reads with bodies reject and report such records by name)."""
    version = record.get("version")
    if not isinstance(version, Mapping) or not isinstance(version.get("number"), int):
        return None
    try:
        changed = parse_time(version.get("createdAt"))
    except ValueError:
        return None
    if changed is None:
        return None
    return [version["number"], record.get("status")], changed
