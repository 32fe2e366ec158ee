"""Query parameters, opaque keyset cursors and keyset pages, as the v2 API takes them."""

from __future__ import annotations

import base64
import bisect
import json
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qsl

from .model import DEFAULT_LIMIT, MAX_LIMIT, bad_param


def encode_cursor(sort: str, key: Sequence[Any]) -> str:
    raw = json.dumps({"sort": sort, "key": list(key)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_cursor(cursor: str, sort: str) -> tuple[Any, ...]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4)))
        key = tuple(data["key"])
        ok = data["sort"] == sort and all(isinstance(k, int | str) for k in key)
    except (ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        raise bad_param(f"Provided value {{{cursor}}} for 'cursor' is not valid.")
    return key


class Query:
    """Query parameters; repeated and comma-separated values both make lists."""

    def __init__(self, query: str) -> None:
        self.pairs = parse_qsl(query, keep_blank_values=True)

    def get(self, name: str) -> str | None:
        values = [v for k, v in self.pairs if k == name]
        return values[-1] if values else None

    def many(self, name: str) -> list[str]:
        return [part.strip() for k, v in self.pairs if k == name for part in v.split(",") if part.strip()]

    def ints(self, name: str) -> set[int] | None:
        values = self.many(name)
        if not values:
            return None
        try:
            return {int(v) for v in values}
        except ValueError:
            bad = next(v for v in values if not v.lstrip("-").isdigit())
            raise bad_param(
                f"Provided value {{{bad}}} for '{name}' is not the correct type. Expected type is long."
            ) from None

    def limit(self, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> int:
        raw = self.get("limit")
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise bad_param(
                f"Provided value {{{raw}}} for 'limit' is not the correct type. Expected type is int."
            ) from None
        if value < 1:
            raise bad_param(f"Provided value {{{raw}}} for 'limit' must be at least 1.")
        return min(value, maximum)

    def boolean(self, name: str) -> bool:
        return (self.get(name) or "").lower() == "true"


def parse_id(raw: str, name: str = "id") -> int:
    if not raw.isdigit():
        raise bad_param(f"Provided value {{{raw}}} for '{name}' is not the correct type. Expected type is long.")
    return int(raw)


def keyset_page(
    keys: Sequence[tuple[Any, ...]],
    descending: bool,
    after: tuple[Any, ...] | None,
    accept: Callable[[int], bool],
    limit: int,
) -> tuple[list[int], bool]:
    """Indexes of the next ``limit`` accepted items after the key ``after`` in ascending ``keys``
    (walked backwards when ``descending``), and whether more accepted items follow."""
    try:
        if descending:
            i = (bisect.bisect_left(keys, after) if after is not None else len(keys)) - 1
        else:
            i = bisect.bisect_right(keys, after) if after is not None else 0
    except TypeError:
        raise bad_param("Provided value for 'cursor' is not valid.") from None
    step = -1 if descending else 1
    out: list[int] = []
    while 0 <= i < len(keys):
        if accept(i):
            if len(out) == limit:
                return out, True
            out.append(i)
        i += step
    return out, False


def sort_param(query: Query, allowed: Sequence[str], default: str) -> tuple[str, bool]:
    raw = query.get("sort") or default
    name, descending = (raw[1:], True) if raw.startswith("-") else (raw, False)
    if name not in allowed:
        raise bad_param(f"Provided value {{{raw}}} for 'sort' is not valid.")
    return raw, descending
