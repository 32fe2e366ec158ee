"""CQL, a small subset: ``clause [AND clause]* [ORDER BY field [ASC|DESC]]``."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from .model import ApiError, Content, Space, to_ms

_CQL_CLAUSE = re.compile(
    r"""\s*(?P<field>type|space\.key|space|lastmodified|created|id|title)\s*
        (?P<op>>=|<=|!=|=|>|<|\bin\b|\bnot\s+in\b)\s*
        (?P<value>\([^)]*\)|"[^"]*"|'[^']*'|[^\s()]+)\s*""",
    re.IGNORECASE | re.VERBOSE,
)
_CQL_AND = re.compile(r"\s*and\s+", re.IGNORECASE)
_CQL_ORDER = re.compile(r"\s+order\s+by\s+(\w+)(?:\s+(asc|desc))?\s*$", re.IGNORECASE)
_CQL_ORDER_FIELDS = {"lastmodified": "modified-date", "created": "created-date", "id": "id", "title": "title"}


def _cql_values(raw: str) -> list[str]:
    raw = raw.strip()
    inner = raw[1:-1].split(",") if raw.startswith("(") else [raw]
    return [v.strip().strip("\"'") for v in inner if v.strip()]


def _cql_time(raw: str) -> int:
    for fmt in ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d"):
        try:
            return to_ms(dt.datetime.strptime(raw, fmt).replace(tzinfo=dt.UTC))
        except ValueError:
            continue
    raise ValueError(raw)


def parse_cql(cql: str, spaces: dict[str, Space]) -> tuple[Callable[[Content], bool], str, bool]:
    """``clause [AND clause]* [ORDER BY field [ASC|DESC]]`` → (predicate, sort field, descending).
    Fields: type, space (space.key), lastmodified, created, id, title; dates ``yyyy/MM/dd HH:mm``,
    ``yyyy-MM-dd HH:mm`` or a bare date, read in UTC (the simulated user's time zone)."""
    order, descending = "id", False
    text = cql
    m = _CQL_ORDER.search(text)
    if m:
        if m.group(1).lower() not in _CQL_ORDER_FIELDS:
            raise _cql_error(cql, f"cannot order by {m.group(1)}")
        order = _CQL_ORDER_FIELDS[m.group(1).lower()]
        descending = (m.group(2) or "asc").lower() == "desc"
        text = text[: m.start()]
    tests: list[Callable[[Content], bool]] = []
    pos = 0
    while True:
        cm = _CQL_CLAUSE.match(text, pos)
        if not cm:
            raise _cql_error(cql, f"unexpected text at {pos}: {text[pos : pos + 30]!r}")
        tests.append(
            _cql_test(
                cql, cm.group("field").lower(), " ".join(cm.group("op").lower().split()), cm.group("value"), spaces
            )
        )
        pos = cm.end()
        if pos >= len(text.rstrip()):
            break
        am = _CQL_AND.match(text, pos)
        if not am:
            raise _cql_error(cql, f"only AND is supported, at {pos}: {text[pos : pos + 30]!r}")
        pos = am.end()
    return (lambda c: all(t(c) for t in tests)), order, descending


def _cql_error(cql: str, why: str) -> ApiError:
    return ApiError(400, "BAD_REQUEST", f"Could not parse cql : {cql} ({why})")


def _cql_test(cql: str, name: str, op: str, raw: str, spaces: dict[str, Space]) -> Callable[[Content], bool]:
    values = _cql_values(raw)
    if op in ("in", "not in", "=", "!="):
        negate = op in ("not in", "!=")
        if name == "type":
            wanted = {v.lower() for v in values}
            return lambda c: (c.type in wanted) != negate
        if name in ("space", "space.key"):
            keys = set(values)
            return lambda c: (c.space_key in keys) != negate
        if name == "id":
            ids = {int(v) for v in values if v.isdigit()}
            return lambda c: (c.id in ids) != negate
        if name == "title":
            titles = set(values)
            return lambda c: (c.title in titles) != negate
    if name in ("lastmodified", "created") and op in (">=", "<=", ">", "<", "=") and len(values) == 1:
        try:
            limit = _cql_time(values[0])
        except ValueError:
            raise _cql_error(cql, f"unsupported date {values[0]!r}") from None
        attr = "version_at" if name == "lastmodified" else "created_at"
        compare: dict[str, Callable[[int], bool]] = {
            ">=": lambda t: t >= limit,
            ">": lambda t: t > limit,
            "<=": lambda t: t <= limit,
            "<": lambda t: t < limit,
            "=": lambda t: limit <= t < limit + 60_000,
        }
        check = compare[op]
        return lambda c: check(to_ms(getattr(c, attr)))
    raise _cql_error(cql, f"unsupported clause {name} {op} {raw}")
