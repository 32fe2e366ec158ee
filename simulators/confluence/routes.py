"""The endpoints: v2 spaces, pages, blog posts and labels; v1 CQL search and users."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from .cql import parse_cql
from .model import (
    BLOGPOST_STATUSES,
    CONTENT_SORTS,
    DEFAULT_BLOGPOST_STATUSES,
    DEFAULT_LIMIT,
    DEFAULT_PAGE_STATUSES,
    LABEL_SORTS,
    PAGE_STATUSES,
    SEARCH_MAX_LIMIT,
    SPACE_SORTS,
    ApiError,
    Content,
    Space,
    bad_param,
    label_id_of,
)
from .query import Query, decode_cursor, encode_cursor, keyset_page, parse_id, sort_param
from .views import Views


class Routes(Views):
    """Answers authorised GETs."""

    def handle(self, path: str, query_string: str) -> tuple[int, Any, dict[str, str]]:
        """Answer one authorised GET: (status, JSON-able body, extra headers). Raises :class:`ApiError`."""
        query = Query(query_string)
        if path.startswith("/wiki/rest/api/"):
            return self._v1(path.removeprefix("/wiki/rest/api"), query)
        if not path.startswith("/wiki/api/v2/"):
            raise ApiError(404, "NOT_FOUND", "Not Found", f"No route for {path}")
        parts = [p for p in path.removeprefix("/wiki/api/v2").split("/") if p]
        with self._lock:
            match parts:
                case ["spaces"]:
                    return self._list_spaces(path, query)
                case ["spaces", sid]:
                    return 200, self._space_json(self._space_by_id(parse_id(sid)), query.get("description-format")), {}
                case ["spaces", sid, ("pages" | "blogposts") as plural]:
                    space = self._space_by_id(parse_id(sid))
                    return self._list_content(
                        path, query, plural[:-1], space_ids={space.id}, root_only=query.get("depth") == "root"
                    )
                case [("pages" | "blogposts") as plural]:
                    return self._list_content(path, query, plural[:-1], space_ids=query.ints("space-id"))
                case [("pages" | "blogposts") as plural, cid]:
                    return 200, self._get_content(plural[:-1], parse_id(cid), query), {}
                case [("pages" | "blogposts") as plural, cid, "labels"]:
                    content = self._content_by_id(plural[:-1], parse_id(cid), None)
                    return self._list_labels(path, query, content.labels)
                case ["labels"]:
                    names = {n for c in self._contents.values() for n in c.labels}
                    wanted = query.ints("label-id")
                    return self._list_labels(
                        path, query, [n for n in names if wanted is None or label_id_of(n) in wanted]
                    )
                case ["labels", lid, ("pages" | "blogposts") as plural]:
                    label = parse_id(lid)
                    if not any(label_id_of(n) == label for c in self._contents.values() for n in c.labels):
                        raise ApiError(404, "NOT_FOUND", f"No label found with id : {label}")
                    return self._list_content(
                        path, query, plural[:-1], space_ids=query.ints("space-id"), label_id=label, allow_status=False
                    )
        raise ApiError(404, "NOT_FOUND", "Not Found", f"No route for {path}")

    def _space_by_id(self, sid: int) -> Space:
        for s in self._spaces.values():
            if s.id == sid:
                return s
        raise ApiError(404, "NOT_FOUND", f"No space found with id : {sid}")

    def _content_by_id(self, ctype: str, cid: int, statuses: set[str] | None) -> Content:
        c = self._contents.get(cid)
        if c is None or c.type != ctype or (statuses is not None and c.status not in statuses):
            which = f" and status [{', '.join(sorted(statuses))}]" if statuses else ""
            raise ApiError(404, "NOT_FOUND", f"No content found with id : {cid}{which}")
        return c

    def _get_content(self, ctype: str, cid: int, query: Query) -> dict[str, Any]:
        statuses = self._statuses(query, ctype, default=None)
        c = self._content_by_id(ctype, cid, statuses)
        out = self._content_json(c, self._body_format(query))
        if query.boolean("include-labels"):
            labels = sorted(c.labels, key=label_id_of)
            out["labels"] = {
                "results": [self._label_json(n) for n in labels[:50]],
                "meta": {"hasMore": len(labels) > 50, "cursor": None},
                "_links": {"self": f"/wiki/api/v2/{ctype}s/{cid}/labels"},
            }
        return out

    @staticmethod
    def _statuses(query: Query, ctype: str, default: frozenset[str] | None) -> set[str] | None:
        values = query.many("status")
        if not values:
            return set(default) if default is not None else None
        allowed = PAGE_STATUSES if ctype == "page" else BLOGPOST_STATUSES
        for v in values:
            if v not in allowed:
                raise bad_param(
                    f"Provided value {{{v}}} for 'status' is not valid. Valid values: {', '.join(allowed)}."
                )
        return set(values)

    @staticmethod
    def _body_format(query: Query) -> str | None:
        fmt = query.get("body-format")
        if not fmt:
            return None
        fmt = fmt.lower()
        if fmt not in ("storage", "atlas_doc_format"):
            raise bad_param(
                f"Provided value {{{fmt}}} for 'body-format' is not valid. Valid values: storage, atlas_doc_format."
            )
        return fmt

    def _links(self, path: str, query: Query, cursor: str | None) -> tuple[dict[str, str], dict[str, str]]:
        links: dict[str, str] = {}
        headers: dict[str, str] = {}
        if cursor is not None:
            pairs = [(k, v) for k, v in query.pairs if k != "cursor"] + [("cursor", cursor)]
            nxt = f"{path}?{urlencode(pairs)}"
            links["next"] = nxt
            headers["Link"] = f'<{nxt}>; rel="next", <{self.wiki_base}>; rel="base"'
        links["base"] = self.wiki_base
        return links, headers

    def _list_content(
        self,
        path: str,
        query: Query,
        ctype: str,
        *,
        space_ids: set[int] | None = None,
        root_only: bool = False,
        label_id: int | None = None,
        allow_status: bool = True,
    ) -> tuple[int, Any, dict[str, str]]:
        default = DEFAULT_PAGE_STATUSES if ctype == "page" else DEFAULT_BLOGPOST_STATUSES
        statuses = self._statuses(query, ctype, default) if allow_status else set(default)
        assert statuses is not None
        sort, descending = sort_param(query, CONTENT_SORTS if ctype == "page" else CONTENT_SORTS[:3], "id")
        field_name = sort.lstrip("-")
        limit = query.limit()
        fmt = self._body_format(query)
        ids = query.ints("id")
        title = query.get("title")
        raw_cursor = query.get("cursor")
        after = decode_cursor(raw_cursor, sort) if raw_cursor else None
        space_key_ok = None
        if space_ids is not None:
            space_key_ok = {s.key for s in self._spaces.values() if s.id in space_ids}
        keys, items = self._sorted(ctype, field_name)

        def accept(i: int) -> bool:
            c = items[i]
            return (
                c.status in statuses
                and (space_key_ok is None or c.space_key in space_key_ok)
                and (ids is None or c.id in ids)
                and (title is None or c.title == title)
                and (not root_only or c.parent_id is None)
                and (label_id is None or any(label_id_of(n) == label_id for n in c.labels))
            )

        chosen, more = keyset_page(keys, descending, after, accept, limit)
        results = [self._content_json(items[i], fmt) for i in chosen]
        cursor = encode_cursor(sort, keys[chosen[-1]]) if more and chosen else None
        links, headers = self._links(path, query, cursor)
        return 200, {"results": results, "_links": links}, headers

    def _list_labels(self, path: str, query: Query, names: Iterable[str]) -> tuple[int, Any, dict[str, str]]:
        sort, descending = sort_param(query, LABEL_SORTS, "id")
        prefix = query.many("prefix")
        wanted = [n for n in set(names) if not prefix or "global" in prefix]
        field_name = sort.lstrip("-")
        if field_name == "name":
            ordered = sorted(wanted, key=lambda n: (n, label_id_of(n)))
            keys: list[tuple[Any, ...]] = [(n, label_id_of(n)) for n in ordered]
        else:
            ordered = sorted(wanted, key=label_id_of)
            keys = [(label_id_of(n),) for n in ordered]
        raw_cursor = query.get("cursor")
        after = decode_cursor(raw_cursor, sort) if raw_cursor else None
        chosen, more = keyset_page(keys, descending, after, lambda i: True, query.limit())
        cursor = encode_cursor(sort, keys[chosen[-1]]) if more and chosen else None
        links, headers = self._links(path, query, cursor)
        return 200, {"results": [self._label_json(ordered[i]) for i in chosen], "_links": links}, headers

    def _list_spaces(self, path: str, query: Query) -> tuple[int, Any, dict[str, str]]:
        sort, descending = sort_param(query, SPACE_SORTS, "id")
        ids = query.ints("ids")
        keys_wanted = set(query.many("keys"))
        statuses = set(query.many("status"))
        types = set(query.many("type"))
        field_name = sort.lstrip("-")
        spaces = sorted(self._spaces.values(), key=lambda s: (getattr(s, field_name), s.id))
        keys = [(getattr(s, field_name), s.id) if field_name != "id" else (s.id,) for s in spaces]

        def accept(i: int) -> bool:
            s = spaces[i]
            return (
                (ids is None or s.id in ids)
                and (not keys_wanted or s.key in keys_wanted)
                and (not statuses or s.status in statuses)
                and (not types or "global" in types)
            )

        raw_cursor = query.get("cursor")
        after = decode_cursor(raw_cursor, sort) if raw_cursor else None
        chosen, more = keyset_page(keys, descending, after, accept, query.limit())
        cursor = encode_cursor(sort, keys[chosen[-1]]) if more and chosen else None
        links, headers = self._links(path, query, cursor)
        fmt = query.get("description-format")
        return 200, {"results": [self._space_json(spaces[i], fmt) for i in chosen], "_links": links}, headers

    def _v1(self, path: str, query: Query) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            if path == "/search":
                return self._search(query)
            if path == "/user":
                aid = query.get("accountId") or ""
                person = self._people.get(aid)
                if person is None:
                    raise ApiError(404, "NOT_FOUND", f"No user found with accountId: {aid}")
                return (
                    200,
                    {
                        "type": "known",
                        "accountId": aid,
                        "accountType": "atlassian",
                        "email": person.email,
                        "publicName": person.name,
                        "displayName": person.name,
                        "timeZone": "UTC",
                        "isExternalCollaborator": False,
                        "_links": {
                            "self": f"{self.wiki_base}/rest/api/user?accountId={aid}",
                            "base": self.wiki_base,
                            "context": "/wiki",
                        },
                    },
                    {},
                )
        raise ApiError(404, "NOT_FOUND", f"No route for /wiki/rest/api{path}")

    def _search(self, query: Query) -> tuple[int, Any, dict[str, str]]:
        cql = query.get("cql")
        if not cql:
            raise ApiError(400, "BAD_REQUEST", "CQL query parameter is required")
        predicate, order, descending = parse_cql(cql, self._spaces)
        limit = query.limit(DEFAULT_LIMIT, SEARCH_MAX_LIMIT)
        sort = ("-" if descending else "") + order
        keys, items = self._sorted_all(order)
        raw_cursor = query.get("cursor")
        after = decode_cursor(raw_cursor, sort) if raw_cursor else None

        def accept(i: int) -> bool:
            c = items[i]
            return c.status == "current" and predicate(c)

        chosen, more = keyset_page(keys, descending, after, accept, limit)
        total = sum(1 for i in range(len(items)) if accept(i))
        start = int(query.get("start") or 0) if (query.get("start") or "0").isdigit() else 0
        expand = set(query.many("expand"))
        results = [self._search_result(items[i], "content.version" in expand) for i in chosen]
        links: dict[str, str] = {
            "base": self.wiki_base,
            "context": "/wiki",
            "self": f"{self.wiki_base}/rest/api/search?{urlencode([(k, v) for k, v in query.pairs if k != 'cursor'])}",
        }
        if more and chosen:
            pairs = [(k, v) for k, v in query.pairs if k not in ("cursor", "next", "start")]
            pairs += [
                ("next", "true"),
                ("cursor", encode_cursor(sort, keys[chosen[-1]])),
                ("start", str(start + len(chosen))),
            ]
            links["next"] = f"/rest/api/search?{urlencode(pairs)}"
        body = {
            "results": results,
            "start": start,
            "limit": limit,
            "size": len(results),
            "totalSize": total,
            "cqlQuery": cql,
            "searchDuration": 12,
            "_links": links,
        }
        return 200, body, {}

    def _sorted_all(self, order: str) -> tuple[list[tuple[Any, ...]], list[Content]]:
        pk, pi = self._sorted("page", order)
        bk, bi = self._sorted("blogpost", order)
        merged = sorted(zip(pk + bk, pi + bi, strict=True), key=lambda kv: kv[0])
        return [k for k, _ in merged], [c for _, c in merged]
