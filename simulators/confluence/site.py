"""The Confluence site's content store and its sorted indexes."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

from simulators.world import CONFLUENCE_BASE, Agent, World, build_world

from .generate import populate
from .model import Content, Space, account_id, to_ms


class Site:
    """The content store: spaces, pages and blog posts, labels, people, purged ids and the clock."""

    def __init__(
        self,
        seed: int,
        n_extra_pages: int,
        n_blogposts: int,
        site_url: str | None,
        start: dt.datetime,
    ) -> None:
        self.seed = seed
        self.site_url = (site_url or CONFLUENCE_BASE.removesuffix("/wiki")).rstrip("/")
        self.now = start
        self.world: World = build_world(seed)
        self._lock = threading.RLock()
        self._spaces: dict[str, Space] = {}
        self._contents: dict[int, Content] = {}
        self._purged: dict[int, str] = {}
        self._index: dict[tuple[str, str], tuple[list[tuple[Any, ...]], list[Content]]] = {}
        self._mutations = 0
        self._next_id = 0
        self._people: dict[str, Agent] = {}
        self._author_pools: dict[str, list[str]] = {}
        populate(self, n_extra_pages, n_blogposts)

    @property
    def wiki_base(self) -> str:
        return f"{self.site_url}/wiki"

    def _authors(self, kind: str) -> list[str]:
        """Account ids of who writes content of ``kind`` (cached: bodies ask for every page)."""
        cached = self._author_pools.get(kind)
        if cached is not None:
            return cached
        w = self.world
        if kind == "runbook":
            people = [a for a in w.agents if a.tier == 3] + list(w.admins)
        elif kind in ("meeting", "onboarding"):
            people = list(w.agents) + list(w.admins)
        elif kind in ("release", "digest", "home"):
            people = list(w.admins)
        else:
            people = [a for a in w.agents if a.tier >= 2] + list(w.admins)
        self._author_pools[kind] = [account_id(p.email) for p in people]
        return self._author_pools[kind]

    def _sorted(self, ctype: str, sort: str) -> tuple[list[tuple[Any, ...]], list[Content]]:
        """All non-purged content of a type in ascending ``sort`` order, and their keys (cached)."""
        cached = self._index.get((ctype, sort))
        if cached is not None:
            return cached
        key: Callable[[Content], tuple[Any, ...]]
        if sort == "id":
            key = lambda c: (c.id,)  # noqa: E731
        elif sort == "created-date":
            key = lambda c: (to_ms(c.created_at), c.id)  # noqa: E731
        elif sort == "modified-date":
            key = lambda c: (to_ms(c.version_at), c.id)  # noqa: E731
        else:
            key = lambda c: (c.title, c.id)  # noqa: E731
        items = sorted((c for c in self._contents.values() if c.type == ctype), key=key)
        keys = [key(c) for c in items]
        self._index[(ctype, sort)] = (keys, items)
        return keys, items

    def _changed(self) -> None:
        self._index.clear()

    def purged(self, kind: str | None = None) -> set[str]:
        """Ids (strings) purged so far; ``kind`` ``"pages"`` or ``"blogposts"`` narrows them."""
        with self._lock:
            return {str(i) for i, t in self._purged.items() if kind is None or kind == f"{t}s"}

    def account_id(self, email: str) -> str:
        return account_id(email)
