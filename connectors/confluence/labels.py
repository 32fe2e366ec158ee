"""The labels of Confluence pages and blog posts (:class:`ContentLabels`, part of each content walk).

Each content read has its labels re-read and replaced (one request per content that the label
sweep cannot see). **Label inventory**: adding or removing a label makes no new version, so each
run also lists every label and the content carrying it, and rewrites the labels of the content
whose label set differs from the one kept in state (one request per label, plus one per 250
labels). The label catalogue (``GET /wiki/api/v2/labels``) is the one endpoint that needs the
``read:label:confluence`` scope; a token without it (401/403 there) gets the same exact labels by
reading each current page's and blog post's own labels instead (``read:page:confluence``, one
request per content), with one warning naming the scope (:func:`label_scope_warning`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from common.errors import AuthError, NotAvailableError
from connectors.confluence.endpoints import CLEAR_COLUMN, LABELS, LABELS_CATALOGUE, PAGE_SIZE
from connectors.confluence.rows import id_of
from connectors.confluence.run import ContentRun
from connectors.confluence.spaces import results as _results
from connectors.paginators import ConfluenceCursorPaginator

log = logging.getLogger("supportlake.confluence")

LABEL_SCOPE = "read:label:confluence"


def label_scope_warning(status: int | None) -> str:
    """What the run log and the summary say, once, when the label catalogue is refused."""
    return (
        f"the label catalogue ({LABELS_CATALOGUE}) was refused (HTTP {status}): the token lacks the "
        f"{LABEL_SCOPE} scope (or the user may not list labels). Labels are exact all the same, read with "
        f"one request per current page and blog post instead of one per label; grant {LABEL_SCOPE} to "
        "make that cheap, or set SOURCES__CONFLUENCE__DETECT_LABEL_CHANGES=false to read labels only with "
        "content that changed (labels added or removed without a new version are then missed)"
    )


class ContentLabels(ContentRun):
    """The label side of a run over pages or blog posts: the labels read with content, and the
    label inventory that finds labels added or removed without a new version."""

    def reconcile_labels(self, known: Mapping[str, Sequence[Any]]) -> Iterator[Any]:
        """Rewrite the labels of content whose label set changed without a new version.

        Only current content is compared (see :data:`ContentStream.label_listed_statuses`):
        trashed and archived content cannot be relabelled, and its labels were read with it when
        its status changed. When the label catalogue is refused (no ``read:label:confluence``),
        the labels of that current content are read one content at a time instead.
        """
        if self.ctx.labels_refused is not None:
            return
        stored: dict[str, list[str]] = {**(self.state.get("labels") or {}), **self.label_sets}
        listable = set(self.stream.label_listed_statuses)
        catalogue: dict[str, Mapping[str, Any]] = {}
        if self.ctx.label_sweep_refused is None:
            try:
                for page in self._pages(LABELS_CATALOGUE, ConfluenceCursorPaginator(PAGE_SIZE), {}, pages=False):
                    for label in _results(page.data):
                        if (label_id := id_of(label)) is not None:
                            catalogue[label_id] = label
            except (AuthError, NotAvailableError) as exc:
                log.info("%s: label catalogue refused: %s", self.stream.name, exc)
                self.ctx.label_sweep_refused = exc.status or 0
        if self.ctx.label_sweep_refused is not None:
            self.client.stats.warn(self.client.name, LABELS.name, label_scope_warning(self.ctx.label_sweep_refused))
            ids = [i for i, (_, status) in known.items() if status in listable and i not in self.label_sets]
            log.info("%s: reading the labels of %d current items one by one", self.stream.name, len(ids))
            one_by_one = self.read_label_sets(ids, unchanged=stored)
            if one_by_one:
                yield self._write_other(LABELS.name, one_by_one)
            return
        carried: dict[str, set[str]] = {}
        for label_id in catalogue:
            path = self.stream.label_content_path.format(id=quote(label_id, safe=""))
            try:
                for page in self._pages(path, ConfluenceCursorPaginator(PAGE_SIZE), {}, pages=False):
                    for r in _results(page.data):
                        if (content_id := id_of(r)) is not None:
                            carried.setdefault(content_id, set()).add(label_id)
            except NotAvailableError:  # the label went away meanwhile: it carries nothing
                continue
        rows: list[dict[str, Any]] = []
        for content_id, (_, status) in known.items():
            if status not in listable or content_id in self.label_sets:
                continue  # frozen in the trash, or read with the content by this run
            now = sorted(carried.get(content_id, ()))
            if stored.get(content_id) == now:
                continue
            self.label_sets[content_id] = now
            rows.extend(self._label_set_rows(content_id, [catalogue[i] for i in now]))
        if rows:
            log.info(
                "%s: labels changed on %d without a new version", self.stream.name, len({r["content_id"] for r in rows})
            )
            yield self._write_other(LABELS.name, rows)

    def label_rows(self, records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Every label of each record; a record without labels gets one row that clears them.

        When the run ends with the label sweep (:meth:`reconcile_labels`: one request per label,
        not per content), current content takes its labels from it; only content the sweep
        cannot see (trashed, deleted, archived) is asked one by one. A first sync of a large site
        then costs a few hundred requests for labels instead of one per page.
        """
        sweep = self.ctx.sweeping
        listed = self.stream.label_listed_statuses
        return self.read_label_sets([str(r["id"]) for r in records if not (sweep and r.get("status") in listed)])

    def read_label_sets(
        self, ids: Sequence[str], *, unchanged: Mapping[str, Sequence[str]] | None = None
    ) -> list[dict[str, Any]]:
        """Read each content's own labels (``labels_path``); the rows of each whole label set,
        except those equal to ``unchanged[id]`` (what is already stored).

        A 404 is content purged meanwhile (its stored labels stay); a 401/403 refuses the labels
        of every content: the ``labels`` table is skipped with the reason, for the rest of the run.
        """
        rows: list[dict[str, Any]] = []
        for content_id in ids:
            if self.ctx.labels_refused is not None:
                break
            path = self.stream.labels_path.format(id=quote(content_id, safe=""))
            try:
                raw = [
                    label
                    for page in self._pages(path, ConfluenceCursorPaginator(PAGE_SIZE), {}, pages=False)
                    for label in _results(page.data)
                ]
            except (AuthError, NotAvailableError) as exc:
                if isinstance(exc, NotAvailableError) and exc.status == 404:
                    log.debug("%s: labels of %s not available: %s", self.stream.name, content_id, exc)
                    continue  # e.g. content purged meanwhile: keep what is stored
                self.ctx.labels_refused = str(exc)
                self.client.stats.skip(self.client.name, LABELS.name, f"skipped: {exc}")
                break
            good = self.writer.validate(LABELS.name, raw)
            if raw and not good:
                continue  # only labels that break the contract: keep what is stored
            now = sorted(str(x["id"]) for x in good)
            self.label_sets[content_id] = now
            if unchanged is not None and content_id in unchanged and list(unchanged[content_id]) == now:
                continue
            rows.extend(self._label_set_rows(content_id, good))
        return rows

    def _label_set_rows(self, content_id: str, labels: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """The rows of one content's whole label set; none left: one row that clears them."""
        owner = {"content_id": content_id, "content_type": self.stream.content_type}
        if not labels:
            return [{**owner, "label_id": "", CLEAR_COLUMN: True}]
        return [{**owner, "label_id": str(x["id"]), "name": x.get("name"), "prefix": x.get("prefix")} for x in labels]
