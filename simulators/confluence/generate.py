"""The site's initial content: spaces, homepages, sections, the world's articles, generated pages
and blog posts, statuses and version history over three years before the clock."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from typing import TYPE_CHECKING

from simulators.world import PRODUCT_AREAS

from .model import Content, Space, account_id, from_ms, to_ms
from .text import AREA_TITLES, AREA_WORDS, EDIT_MESSAGES, KB_TEMPLATES, MEETING, ONBOARDING_TITLES, RUNBOOK_TEMPLATES

if TYPE_CHECKING:
    from .site import Site


def populate(site: Site, n_extra: int, n_blogposts: int) -> None:
    """Fill an empty ``site``: everything is drawn from ``random.Random(f"confluence-sim:{seed}")``."""
    rng = random.Random(f"confluence-sim:{site.seed}")
    w = site.world
    for person in (*w.agents, *w.admins):
        site._people[account_id(person.email)] = person
    admins = site._authors("home")
    space_defs = (
        (
            "SUP",
            "Support Knowledge Base",
            "current",
            "How-to and troubleshooting articles for customers and agents.",
        ),
        ("RUN", "Support Runbooks", "current", "Step-by-step procedures for incidents and escalations."),
        ("TEAM", "Support Team", "current", "Meeting notes, onboarding and team processes."),
        ("PROD", "Product Updates", "current", "Release notes and product announcements."),
        ("OLD", "Legacy Help Center (archived)", "archived", "Articles from the previous help center."),
    )
    space_created = site.now - dt.timedelta(days=3 * 365 + 30)
    for n, (key, name, status, desc) in enumerate(space_defs):
        site._spaces[key] = Space(
            id=1_179_650 + n * 65_537,
            key=key,
            name=name,
            status=status,
            author_id=admins[n % len(admins)],
            created_at=space_created + dt.timedelta(days=n * 3, minutes=n * 17),
            description=desc,
        )

    items: list[Content] = []
    titles: dict[str, set[str]] = {k: set() for k in site._spaces}

    def add(
        cid: int,
        ctype: str,
        title: str,
        key: str,
        status: str,
        parent: int | None,
        kind: str,
        area: str,
        labels: list[str],
        world: bool = False,
    ) -> Content:
        c = Content(
            id=cid,
            type=ctype,
            title=title,
            space_key=key,
            status=status,
            parent_id=parent,
            position=None,
            author_id=rng.choice(site._authors(kind)),
            kind=kind,
            area=area,
            labels=labels,
            world=world,
        )
        titles[key].add(title)
        items.append(c)
        return c

    def unique(key: str, title: str) -> str:
        if title not in titles[key]:
            return title
        k = 2
        while f"{title} ({k})" in titles[key]:
            k += 1
        return f"{title} ({k})"

    # homepages and sections: the oldest content
    cid = 65_536_000
    homes: dict[str, Content] = {}
    for key, space in site._spaces.items():
        cid += rng.randint(1, 4000)
        homes[key] = add(
            cid,
            "page",
            space.name,
            key,
            "archived" if space.status == "archived" else "current",
            None,
            "home",
            rng.choice(PRODUCT_AREAS),
            ["home"],
        )
        space.homepage_id = cid
    sections: dict[str, Content] = {}
    for area in PRODUCT_AREAS:
        cid += rng.randint(1, 4000)
        sections[area] = add(
            cid,
            "page",
            AREA_TITLES[area],
            "SUP",
            "current",
            homes["SUP"].id,
            "section",
            area,
            ["kb-section", area],
        )
    # the legacy space: archived long ago
    cid = 32_768_000
    for _ in range(12):
        cid += rng.randint(1, 4000)
        area = rng.choice(PRODUCT_AREAS)
        word = rng.choice(AREA_WORDS[area])
        title = unique("OLD", rng.choice(KB_TEMPLATES).format(w=word, W=word[:1].upper() + word[1:]))
        add(cid, "page", title, "OLD", "archived", homes["OLD"].id, "legacy", area, ["legacy", area])

    # the world's articles (ids, titles and space keys fixed by the world)
    runbooks: list[Content] = []
    for art in w.articles_in("confluence"):
        key = art.space_key or "SUP"
        if key == "SUP":
            add(
                art.id,
                "page",
                art.title,
                key,
                "current",
                sections[art.product_area].id,
                "kb",
                art.product_area,
                [art.product_area, "kb-article"],
                world=True,
            )
        else:
            parent = homes[key].id if not runbooks or rng.random() < 0.8 else rng.choice(runbooks).id
            runbooks.append(
                add(
                    art.id,
                    "page",
                    art.title,
                    key,
                    "current",
                    parent,
                    "runbook",
                    art.product_area,
                    [art.product_area, "runbook"],
                    world=True,
                )
            )

    # generated pages and blog posts, interleaved in one id range
    cid = 163_840_000
    extras: dict[str, list[Content]] = {"SUP": [], "RUN": [], "TEAM": []}
    onboarding_titles = [t.format(t=tier) for t in ONBOARDING_TITLES for tier in (1, 2, 3)]
    blog_slots = set(rng.sample(range(n_extra + n_blogposts), n_blogposts)) if n_blogposts else set()
    release = 0
    digest = 0
    for slot in range(n_extra + n_blogposts):
        cid += rng.randint(1, 3000)
        area = rng.choice(PRODUCT_AREAS)
        word = rng.choice(AREA_WORDS[area])
        if slot in blog_slots:
            if rng.random() < 0.6:
                release += 1
                add(
                    cid,
                    "blogpost",
                    unique("PROD", f"Release notes 2025.{release}"),
                    "PROD",
                    "current",
                    None,
                    "release",
                    area,
                    ["release-notes", area],
                )
            else:
                digest += 1
                add(
                    cid,
                    "blogpost",
                    unique("SUP", f"Support digest #{digest}: {AREA_TITLES[area]}"),
                    "SUP",
                    "current",
                    None,
                    "digest",
                    area,
                    ["digest", area],
                )
            continue
        roll = rng.random()
        if roll < 0.55:
            key, kind = "SUP", "kb"
            title = rng.choice(KB_TEMPLATES).format(w=word, W=word[:1].upper() + word[1:])
            parent = sections[area].id
            labels = [area, rng.choice(("how-to", "troubleshooting", "faq", "kb-article"))]
        elif roll < 0.72:
            key, kind = "RUN", "runbook"
            title = rng.choice(RUNBOOK_TEMPLATES).format(w=word)
            parent = homes["RUN"].id
            labels = [area, "runbook"]
        elif roll < 0.95 or not onboarding_titles:
            # titled by their date once creation times are known (below)
            key, kind = "TEAM", "meeting"
            team = rng.choice(("Support team sync", "Tier 2 weekly review", "Tier 3 escalation review", "CSAT review"))
            title = f"{MEETING}{team}"
            parent = homes["TEAM"].id
            labels = ["meeting-notes"]
        else:
            key, kind = "TEAM", "onboarding"
            title = onboarding_titles.pop(0)
            parent = homes["TEAM"].id
            labels = ["onboarding"]
        if extras[key] and rng.random() < 0.12:
            parent = rng.choice(extras[key][-200:]).id
        title = title if kind == "meeting" else unique(key, title)
        extras[key].append(add(cid, "page", title, key, "current", parent, kind, area, labels))

    # fixed statuses so every filter has data: a few trashed and deleted, some archived
    for n, status in enumerate(("trashed", "trashed", "trashed", "deleted", "deleted")):
        cid += rng.randint(1, 3000)
        add(
            cid,
            "page",
            unique("TEAM", f"Draft: support process idea {n + 1}"),
            "TEAM",
            status,
            homes["TEAM"].id,
            "onboarding",
            rng.choice(PRODUCT_AREAS),
            ["draft-idea"],
        )
    children = {c.parent_id for c in items}
    leaves = [
        c
        for c in items
        if c.type == "page" and c.kind in ("kb", "runbook", "meeting") and not c.world and c.id not in children
    ]
    for c in rng.sample(leaves, min(len(leaves), max(2, len(leaves) // 25))):
        c.status = "archived"
    for c in rng.sample([c for c in leaves if c.status == "current"], min(len(leaves) // 100, len(leaves))):
        c.status = "trashed"
    blogs = [c for c in items if c.type == "blogpost"]
    if len(blogs) >= 4:
        blogs[1].status = "trashed"
        blogs[2].status = "deleted"

    # times: content ids grow with creation time, over three years before `now`
    items.sort(key=lambda c: c.id)
    first = to_ms(site.now - dt.timedelta(days=3 * 365))
    last = to_ms(site.now - dt.timedelta(days=1))
    moments = sorted(rng.sample(range(first, last), len(items)))
    positions: Counter[int | None] = Counter()
    for c, ms in zip(items, moments, strict=True):
        c.created_at = from_ms(ms)
        if c.kind == "meeting" and c.title.startswith(MEETING):
            c.title = unique(c.space_key, f"{c.created_at.date().isoformat()} {c.title.removeprefix(MEETING)}")
            titles[c.space_key].add(c.title)
        edits = rng.choice((0, 0, 0, 1, 1, 2, 3, 5, 8))
        c.version = 1 + edits
        c.version_at = c.created_at if not edits else from_ms(rng.randint(ms, to_ms(site.now) - 60_000))
        c.version_author = c.author_id if not edits else rng.choice(site._authors(c.kind))
        c.version_message = "" if not edits else rng.choice(EDIT_MESSAGES)
        c.minor_edit = bool(edits) and rng.random() < 0.3
        if c.type == "page":
            c.position = positions[c.parent_id]
            positions[c.parent_id] += 1
        site._contents[c.id] = c
    site._next_id = max(site._contents) + 1
