"""The spaces in scope of a Confluence source (:class:`SpaceDirectory`): read once per source
instance, they give the ``space-id`` filter, the ``space_key`` column and the ``spaces`` table.
Optional: a refused list (401/403/404) leaves no space known, unless ``space_keys`` needs them."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from common.errors import AuthError, ConfigError, NotAvailableError
from connectors.confluence.endpoints import SPACES_ENDPOINT
from connectors.http import HttpClient
from connectors.paginators import ConfluenceCursorPaginator

log = logging.getLogger("supportlake.confluence")

SPACE_BATCH = 100  # space ids (or keys) per ``space-id=`` (``keys=``) filter, keeping URLs short


def results(data: Any) -> list[Any]:
    """The ``results`` list of a v2 list body (empty when the body has none)."""
    found = data.get("results") if isinstance(data, Mapping) else None
    return list(found) if isinstance(found, list) else []


class SpaceDirectory:
    """The spaces in scope, read once per source instance: ids for the ``space-id`` filter, keys
    for the ``space_key`` column, and the raw records for the ``spaces`` table."""

    def __init__(self, client: HttpClient, keys: tuple[str, ...] | None) -> None:
        self.client = client
        self.keys = keys
        self.records: list[Mapping[str, Any]] = []
        self.base: str | None = None
        self.refused: str | None = None
        """Why the spaces list was refused (401/403/404), if it was: then no space is known."""
        self._key_by_id: dict[str, str] = {}
        self._loaded = False

    def load(self) -> None:
        if self._loaded:
            return
        batches: list[dict[str, Any]] = [{}]
        if self.keys:
            batches = [
                {"keys": ",".join(self.keys[i : i + SPACE_BATCH])} for i in range(0, len(self.keys), SPACE_BATCH)
            ]
        endpoint = SPACES_ENDPOINT
        try:
            for params in batches:
                paginator = endpoint.paginator()
                assert isinstance(paginator, ConfluenceCursorPaginator)
                for page in self.client.paginate(
                    endpoint.path, endpoint=endpoint.name, paginator=paginator, params=params
                ):
                    records = [r for r in results(page.data) if isinstance(r, Mapping)]
                    self.client.stats.add(self.client.name, endpoint.name, records=len(records), pages=1)
                    self.records.extend(records)
                    self.base = self.base or paginator.base
        except (AuthError, NotAvailableError) as exc:
            if self.keys:
                raise ConfigError(
                    "SOURCES__CONFLUENCE__SPACE_KEYS needs the list of spaces, which was refused: grant the "
                    f"read:space:confluence scope, or remove SPACE_KEYS to read every space ({exc})"
                ) from exc
            log.warning("confluence: the spaces list was refused, spaces are skipped: %s", exc)
            self.refused = str(exc)
            self.records = []
            self._loaded = True
            return
        for r in self.records:
            if r.get("id") is not None and r.get("key") is not None:
                self._key_by_id[str(r["id"])] = str(r["key"])
        if self.keys:
            missing = sorted(set(self.keys) - set(self._key_by_id.values()))
            if len(missing) == len(set(self.keys)):
                raise ConfigError(
                    f"SOURCES__CONFLUENCE__SPACE_KEYS: none of {', '.join(self.keys)} is a space this user can see"
                )
            if missing:
                log.warning("confluence: space keys not found or not visible, skipped: %s", ", ".join(missing))
        self._loaded = True

    def key_of(self, space_id: Any) -> str | None:
        self.load()
        return self._key_by_id.get(str(space_id)) if space_id is not None else None

    def in_scope(self, space_id: Any) -> bool:
        return not self.keys or str(space_id) in self._key_by_id

    def scopes(self) -> list[dict[str, Any]]:
        """Query parameters that restrict a content list to the spaces in scope (``[{}]``: all)."""
        if not self.keys:
            return [{}]
        self.load()
        ids = sorted(self._key_by_id)
        return [{"space-id": ",".join(ids[i : i + SPACE_BATCH])} for i in range(0, len(ids), SPACE_BATCH)]
