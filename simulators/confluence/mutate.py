"""Changes over time: edits, new pages, trash, delete, purge, archive, relabel, blog posts."""

from __future__ import annotations

import datetime as dt
import random

from simulators.world import PRODUCT_AREAS

from .model import Content, MutationSummary, from_ms, to_ms
from .site import Site
from .text import AREA_TITLES, AREA_WORDS, EDIT_MESSAGES, KB_TEMPLATES, RUNBOOK_TEMPLATES


class Mutations(Site):
    """What people do to the site as the clock moves on."""

    def mutate(
        self,
        seed: int = 1,
        *,
        edits: int | None = None,
        creates: int | None = None,
        trashes: int | None = None,
        deletes: int | None = None,
        purges: int | None = None,
        archives: int | None = None,
        relabels: int | None = None,
        advance: dt.timedelta = dt.timedelta(hours=6),
    ) -> MutationSummary:
        """Move the clock ``advance`` forward and change the site as people would in that time.

        Pages: edit some (a new version, newer ``version.createdAt``, sometimes a new title),
        create some, trash some current leaf pages, move some trashed to ``deleted``, purge some
        trashed or deleted ones (gone for good), archive some, add or remove labels. Status and
        label changes create no version. The world's articles are edited, archived and relabelled
        but never trashed or purged, so the links in Zendesk comments keep resolving. Blog posts:
        one created, one edited, one trashed, one purged. Counts default to small shares of the
        site; each is capped by what is eligible.
        """
        with self._lock:
            self._mutations += 1
            rng = random.Random(f"confluence-mutate:{self.seed}:{seed}:{self._mutations}")
            t0 = self.now
            self.now = t0 + advance
            summary = MutationSummary()
            pages = [c for c in self._contents.values() if c.type == "page"]
            pages.sort(key=lambda c: c.id)
            current = [c for c in pages if c.status == "current"]
            n = len(current)
            parents = {c.parent_id for c in pages}

            def pick(pool: list[Content], count: int | None, default: int) -> list[Content]:
                k = default if count is None else count
                return rng.sample(pool, min(k, len(pool)))

            touched: set[int] = set()
            # purge and delete work on what was already in the trash
            for c in pick([c for c in pages if c.status in ("trashed", "deleted")], purges, max(1, n // 400)):
                self._purge(c)
                touched.add(c.id)
                summary.purged.append(str(c.id))
            for c in pick(
                [c for c in pages if c.status == "trashed" and c.id not in touched], deletes, max(1, n // 400)
            ):
                c.status = "deleted"
                touched.add(c.id)
                summary.deleted.append(str(c.id))
            leaves = [c for c in current if c.id not in parents and c.kind not in ("home", "section")]
            for c in pick([c for c in leaves if not c.world], trashes, max(2, n // 200)):
                c.status = "trashed"
                touched.add(c.id)
                summary.trashed.append(str(c.id))
            for c in pick([c for c in leaves if c.id not in touched], archives, max(1, n // 300)):
                c.status = "archived"
                touched.add(c.id)
                summary.archived.append(str(c.id))

            editable = [c for c in current if c.id not in touched]
            to_edit = pick(editable, edits, max(3, n // 40))
            n_create = max(3, n // 100) if creates is None else creates
            blog_current = [c for c in self._contents.values() if c.type == "blogpost" and c.status == "current"]
            blog_current.sort(key=lambda c: c.id)
            blog_edit = rng.sample(blog_current, min(1, len(blog_current)))
            moments = iter(
                sorted(rng.sample(range(1, to_ms(self.now) - to_ms(t0)), len(to_edit) + n_create + 1 + len(blog_edit)))
            )

            def at() -> dt.datetime:
                return from_ms(to_ms(t0) + next(moments))

            for c in [*to_edit, *blog_edit]:
                c.version += 1
                c.version_at = at()
                c.version_author = rng.choice(self._authors(c.kind))
                c.version_message = rng.choice(EDIT_MESSAGES)
                c.minor_edit = rng.random() < 0.3
                if c.type == "page" and not c.world and c.kind in ("kb", "runbook") and rng.random() < 0.15:
                    word = rng.choice(AREA_WORDS[c.area])
                    taken = {x.title for x in pages if x.space_key == c.space_key}
                    title = rng.choice(KB_TEMPLATES).format(w=word, W=word[:1].upper() + word[1:])
                    if title not in taken:
                        c.title = title
                (summary.edited if c.type == "page" else summary.blogposts_edited).append(str(c.id))

            spaces_new = ("SUP", "SUP", "SUP", "RUN", "TEAM")
            for _ in range(n_create):
                key = rng.choice(spaces_new)
                area = rng.choice(PRODUCT_AREAS)
                word = rng.choice(AREA_WORDS[area])
                taken = {x.title for x in self._contents.values() if x.space_key == key}
                if key == "SUP":
                    kind, labels = "kb", [area, "kb-article"]
                    title = rng.choice(KB_TEMPLATES).format(w=word, W=word[:1].upper() + word[1:])
                    candidates = [c for c in current if c.space_key == key and c.kind in ("section", "kb")]
                elif key == "RUN":
                    kind, labels = "runbook", [area, "runbook"]
                    title = rng.choice(RUNBOOK_TEMPLATES).format(w=word)
                    candidates = [c for c in current if c.space_key == key]
                else:
                    kind, labels = "meeting", ["meeting-notes"]
                    title = f"{(self.now - dt.timedelta(hours=1)).date().isoformat()} Support team sync"
                    candidates = [c for c in current if c.space_key == key and c.kind == "home"]
                base, k = title, 2
                while title in taken:
                    title, k = f"{base} ({k})", k + 1
                parent = rng.choice(candidates) if candidates else None
                c = self._new_content(
                    "page",
                    title,
                    key,
                    parent.id if parent else self._spaces[key].homepage_id,
                    kind,
                    area,
                    labels,
                    rng,
                    at(),
                )
                summary.created.append(str(c.id))

            for c in pick([c for c in current if c.id not in touched], relabels, max(2, n // 100)):
                extra = [
                    lb for lb in ("needs-review", "verified", "deprecated", "popular", "how-to") if lb not in c.labels
                ]
                if len(c.labels) > 1 and rng.random() < 0.4:
                    c.labels.remove(rng.choice(c.labels[1:]))
                elif extra:
                    c.labels.append(rng.choice(extra))
                summary.relabelled.append(str(c.id))

            # blog posts: one new, one trashed, one purged
            area = rng.choice(PRODUCT_AREAS)
            b = self._new_content(
                "blogpost",
                f"Support digest {self.now:%Y-%m-%d %H:%M}: {AREA_TITLES[area]}",
                "SUP",
                None,
                "digest",
                area,
                ["digest", area],
                rng,
                at(),
            )
            summary.blogposts_created.append(str(b.id))
            trash_pool = [c for c in blog_current if c not in blog_edit]
            for c in rng.sample(trash_pool, min(1, len(trash_pool))):
                c.status = "trashed"
                summary.blogposts_trashed.append(str(c.id))
            gone = sorted(
                (
                    c
                    for c in self._contents.values()
                    if c.type == "blogpost"
                    and c.status in ("trashed", "deleted")
                    and str(c.id) not in summary.blogposts_trashed
                ),
                key=lambda c: c.id,
            )
            for c in rng.sample(gone, min(1, len(gone))):
                self._purge(c)
                summary.blogposts_purged.append(str(c.id))
            self._changed()
            return summary

    def _new_content(
        self,
        ctype: str,
        title: str,
        key: str,
        parent: int | None,
        kind: str,
        area: str,
        labels: list[str],
        rng: random.Random,
        when: dt.datetime,
    ) -> Content:
        self._next_id += rng.randint(1, 5000)
        siblings = sum(1 for c in self._contents.values() if c.type == "page" and c.parent_id == parent)
        c = Content(
            id=self._next_id,
            type=ctype,
            title=title,
            space_key=key,
            status="current",
            parent_id=parent,
            position=siblings if ctype == "page" else None,
            author_id=rng.choice(self._authors(kind)),
            kind=kind,
            area=area,
            labels=labels,
            created_at=when,
            version=1,
            version_at=when,
        )
        c.version_author = c.author_id
        self._contents[c.id] = c
        return c

    def _purge(self, c: Content) -> None:
        del self._contents[c.id]
        self._purged[c.id] = c.type
        for child in self._contents.values():
            if child.parent_id == c.id:
                child.parent_id = c.parent_id
