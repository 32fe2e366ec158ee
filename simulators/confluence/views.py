"""The JSON forms of spaces, pages, blog posts, labels and v1 search results."""

from __future__ import annotations

import html
import random
from typing import Any

from .model import Content, Space, iso_ms, label_id_of, plus_title, tiny
from .site import Site
from .text import AREA_TITLES, adf_body, make_blocks, storage_body


class Views(Site):
    """How the API writes the site's records."""

    def _space_json(self, s: Space, description_format: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": str(s.id),
            "key": s.key,
            "name": s.name,
            "type": "global",
            "status": s.status,
            "authorId": s.author_id,
            "createdAt": iso_ms(s.created_at),
            "homepageId": str(s.homepage_id) if s.homepage_id is not None else None,
        }
        if description_format in ("plain", "view"):
            value = s.description if description_format == "plain" else f"<p>{html.escape(s.description)}</p>"
            out["description"] = {description_format: {"representation": description_format, "value": value}}
        # SpaceIcon, as the v2 OpenAPI document declares it (apiDownloadLink: global spaces only)
        out["icon"] = {
            "path": f"/wiki/download/attachments/{s.id}/{s.key}?version=1&api=v2",
            "apiDownloadLink": f"/wiki/rest/api/space/{s.key}/icon",
        }
        out["_links"] = {"webui": f"/spaces/{s.key}"}
        return out

    def _webui(self, c: Content) -> str:
        if c.type == "blogpost":
            d = c.created_at
            return f"/spaces/{c.space_key}/blog/{d:%Y/%m/%d}/{c.id}/{plus_title(c.title)}"
        return f"/spaces/{c.space_key}/pages/{c.id}/{plus_title(c.title)}"

    def _body(self, c: Content, fmt: str) -> dict[str, Any]:
        titles = self._related_titles(c)
        blocks = make_blocks(c, self._authors("meeting"), titles)
        value = storage_body(blocks, c.id * 1000 + c.version) if fmt == "storage" else adf_body(blocks)
        return {fmt: {"representation": fmt, "value": value}}

    def _related_titles(self, c: Content) -> list[str]:
        rng = random.Random(f"related:{c.id}")
        pool: list[str] = []
        _, items = self._sorted("page", "id")
        if items:
            for _ in range(10):
                pick = items[rng.randrange(len(items))]
                if pick.space_key == c.space_key and pick.id != c.id:
                    pool.append(pick.title)
        return pool or [c.title]

    def _content_json(self, c: Content, body_format: str | None = None, space: Space | None = None) -> dict[str, Any]:
        space = space or self._spaces[c.space_key]
        out: dict[str, Any] = {"id": str(c.id), "status": c.status, "title": c.title, "spaceId": str(space.id)}
        if c.type == "page":
            out["parentId"] = str(c.parent_id) if c.parent_id is not None else None
            out["parentType"] = "page" if c.parent_id is not None else None
            out["position"] = c.position
        out["authorId"] = c.author_id
        if c.type == "page":
            out["ownerId"] = c.author_id
            out["lastOwnerId"] = None
        out["createdAt"] = iso_ms(c.created_at)
        out["version"] = {
            "createdAt": iso_ms(c.version_at),
            "message": c.version_message,
            "number": c.version,
            "minorEdit": c.minor_edit,
            "authorId": c.version_author or c.author_id,
        }
        if body_format:
            out["body"] = self._body(c, body_format)
        out["_links"] = {
            "webui": self._webui(c),
            "editui": f"/pages/resumedraft.action?draftId={c.id}",
            "tinyui": tiny(c.id),
        }
        return out

    def records(self, kind: str) -> list[dict[str, Any]]:
        """The latest state of everything still retrievable, as the API writes it (no bodies),
        sorted by id: ``spaces``, ``pages`` and ``blogposts`` (every status but purged),
        ``labels`` (``page_id``, ``id``, ``name``, ``prefix`` per label of a page),
        ``blogpost_labels`` (the same with ``blogpost_id``), ``users`` (``accountId``,
        ``email``, ``displayName`` of every author)."""
        with self._lock:
            if kind == "spaces":
                return [self._space_json(s) for s in sorted(self._spaces.values(), key=lambda s: s.id)]
            if kind in ("pages", "blogposts"):
                _, items = self._sorted(kind[:-1], "id")
                return [self._content_json(c) for c in items]
            if kind in ("labels", "blogpost_labels"):
                ctype, owner = ("page", "page_id") if kind == "labels" else ("blogpost", "blogpost_id")
                _, items = self._sorted(ctype, "id")
                return [
                    {owner: str(c.id), **self._label_json(n)} for c in items for n in sorted(c.labels, key=label_id_of)
                ]
            if kind == "users":
                return [
                    {"accountId": aid, "email": p.email, "displayName": p.name}
                    for aid, p in sorted(self._people.items())
                ]
        raise ValueError(f"unknown record kind {kind!r}: spaces, pages, blogposts, labels, blogpost_labels, users")

    @staticmethod
    def _label_json(name: str) -> dict[str, Any]:
        return {"id": str(label_id_of(name)), "name": name, "prefix": "global"}

    def _search_result(self, c: Content, with_version: bool) -> dict[str, Any]:
        space = self._spaces[c.space_key]
        content: dict[str, Any] = {
            "id": str(c.id),
            "type": c.type,
            "status": c.status,
            "title": c.title,
            "_expandable": {"space": f"/rest/api/space/{c.space_key}", "history": f"/rest/api/content/{c.id}/history"},
            "_links": {
                "webui": self._webui(c),
                "self": f"{self.wiki_base}/rest/api/content/{c.id}",
                "tinyui": tiny(c.id),
            },
        }
        if with_version:
            person = self._people.get(c.version_author or c.author_id)
            content["version"] = {
                "by": {
                    "type": "known",
                    "accountId": c.version_author or c.author_id,
                    "displayName": person.name if person else "Unknown",
                },
                "when": iso_ms(c.version_at),
                "number": c.version,
                "message": c.version_message,
                "minorEdit": c.minor_edit,
            }
        return {
            "content": content,
            "title": c.title,
            "excerpt": f"{c.title} — {AREA_TITLES.get(c.area, c.area)}",
            "url": self._webui(c),
            "resultGlobalContainer": {"title": space.name, "displayUrl": f"/spaces/{space.key}"},
            "breadcrumbs": [],
            "entityType": "content",
            "iconCssClass": f"aui-icon content-type-{c.type}",
            "lastModified": iso_ms(c.version_at),
            "friendlyLastModified": f"{c.version_at:%b %d, %Y}",
            "score": 0.0,
        }
