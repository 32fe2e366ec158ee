"""A local Confluence Cloud: REST API v2 (and a little of v1) on a loopback port.

The data is the company of :func:`simulators.world.build_world`: the Confluence
articles of the world (the pages Zendesk comments link to) are pages here, with the same ids,
titles and space keys, so ``_links.base + _links.webui`` of such a page is exactly the URL the
comment contains. Around them: space homepages, one section page per product area, generated
knowledge-base articles, runbooks, team meeting notes, an archived legacy space, blog posts,
labels, and storage-format (XHTML) bodies generated on demand from ``(id, version)``.

Served under ``/wiki`` (the simulator's base URL is the *site*, as ``https://acme.atlassian.net``):

- ``GET /wiki/api/v2/spaces``, ``/spaces/{id}``, ``/spaces/{id}/pages``, ``/spaces/{id}/blogposts``
- ``GET /wiki/api/v2/pages``, ``/pages/{id}``, ``/pages/{id}/labels``
- ``GET /wiki/api/v2/blogposts``, ``/blogposts/{id}``, ``/blogposts/{id}/labels``
- ``GET /wiki/api/v2/labels``, ``/labels/{id}/pages``, ``/labels/{id}/blogposts``
- ``GET /wiki/rest/api/search?cql=…`` (v1 CQL, a small subset) and ``/wiki/rest/api/user?accountId=…``

As Atlassian documents them: cursor pagination (``limit`` default 25, at most 250; an opaque
``cursor``; the next page as a site-relative ``_links.next`` **and** a ``Link: <…>; rel="next"``
header), ``sort``, ``status`` (pages default to ``current`` + ``archived``, blog posts to
``current``), ``body-format``, ``space-id``, ``title``, ``id``; errors as
``{"errors": [{"status", "code", "title", "detail"}]}``; Basic (email + API token) or Bearer
(OAuth) auth; 429 with ``Retry-After`` and ``X-RateLimit-*`` past a configurable budget.

Behaviour worth knowing when writing a connector against it (each as Confluence does it, as far as
the documentation tells):

- changing a page's *status* (trash, delete, archive) or its *labels* does not create a version, so
  ``sort=-modified-date`` (ordered by ``version.createdAt``) does not bring those pages forward;
  list ``status=trashed`` / ``deleted`` / ``archived`` to see them;
- a purged page is gone: absent from every listing and 404 by id (:meth:`ConfluenceSimulator.purged`);
- cursors are keyset positions, so a page edited between two requests of a listing sorted by
  modified date can be seen twice or not at all, as with the real API.

Scopes: ``without_scopes=("read:label",)`` plays a scoped API token (or an OAuth app) granted
everything but those scopes (``read:label`` and ``read:label:confluence`` name the same one). An
endpoint that needs a missing scope answers 401 with the body Atlassian's gateway sends,
``{"code": 401, "message": "Unauthorized; scope does not match"}`` (as quoted in Atlassian's
CONFCLOUD-83234 and the KB article "oAuth app throwing error Unauthorized; scope does not match").
The scope of each v2 route is the one Atlassian's OpenAPI document of the v2 API declares
(``openapi-v2.v3.json``): ``read:label`` guards only the site-wide ``GET /labels``; pages, blog
posts, each content's own labels (``/pages/{id}/labels``) and the content of a label
(``/labels/{id}/pages``) need ``read:page``; spaces need ``read:space``. So without ``read:label``
everything answers but the label catalogue. The v1 routes are not scope-checked.

Faults: :meth:`ConfluenceSimulator.inject` queues faults per path prefix (an HTTP status, ``"drop"``,
``"truncate"``, ``"bad_json"``, ``"ok"``, or a float of seconds of delay); ``error_rate`` fails that
share of requests with a 5xx; ``latency_ms`` slows every request.

Command line: ``python -m simulators.confluence --port 0 --pages 20000`` prints the base
URL on its first line and serves until interrupted (see :func:`main`).
"""

from __future__ import annotations

import argparse
import base64
import bisect
import contextlib
import datetime as dt
import hashlib
import html
import json
import math
import random
import re
import socket
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from simulators.clock import NOW
from simulators.world import CONFLUENCE_BASE, PRODUCT_AREAS, Agent, World, build_world

__all__ = ["ConfluenceSimulator", "Fault", "MutationSummary", "SimulatorStats", "main"]

DEFAULT_LIMIT = 25
MAX_LIMIT = 250
SEARCH_MAX_LIMIT = 100
PAGE_STATUSES = ("current", "archived", "trashed", "deleted", "draft")
BLOGPOST_STATUSES = ("current", "trashed", "deleted", "draft")
DEFAULT_PAGE_STATUSES = frozenset({"current", "archived"})
DEFAULT_BLOGPOST_STATUSES = frozenset({"current"})
CONTENT_SORTS = ("id", "created-date", "modified-date", "title")
LABEL_SORTS = ("id", "name", "created-date")
SPACE_SORTS = ("id", "key", "name")
DEFAULT_START = NOW
"""The simulators' shared clock (:mod:`simulators.clock`)."""
SCOPE_MISMATCH = {"code": 401, "message": "Unauthorized; scope does not match"}
"""What Atlassian's gateway answers a token that lacks a scope the endpoint needs (quoted in
https://jira.atlassian.com/browse/CONFCLOUD-83234)."""
_SCOPED_ROUTES: tuple[tuple[re.Pattern[str], str], ...] = (
    # as the OpenAPI document's ``security`` of each GET declares (oAuthDefinitions)
    (re.compile(r"^/wiki/api/v2/labels/?$"), "read:label"),
    (re.compile(r"^/wiki/api/v2/spaces(?:/[^/]+)?/?$"), "read:space"),
    (
        re.compile(r"^/wiki/api/v2/(?:(?:spaces|labels)/[^/]+/)?(?:pages|blogposts)(?:/[^/]+(?:/labels)?)?/?$"),
        "read:page",
    ),
)

Fault = int | float | str
"""An injected fault: an HTTP status (``500``, ``502``, ``503``, ``504``, ``429``, any 4xx), a float
of seconds to wait before answering normally, ``"drop"`` (close the connection without an answer),
``"truncate"`` (announce the full Content-Length, send half the body, close), ``"bad_json"``
(200 with a body that is not JSON) or ``"ok"`` (answer normally)."""


# --------------------------------------------------------------------------------------------
# records


@dataclass(slots=True)
class _Space:
    id: int
    key: str
    name: str
    status: str
    author_id: str
    created_at: dt.datetime
    description: str
    homepage_id: int | None = None


@dataclass(slots=True)
class _Content:
    id: int
    type: str
    """``page`` or ``blogpost``."""
    title: str
    space_key: str
    status: str
    parent_id: int | None
    position: int | None
    author_id: str
    kind: str
    """Which body template: home, section, kb, runbook, meeting, onboarding, legacy, release, digest."""
    area: str
    labels: list[str]
    world: bool = False
    """One of the world's articles (linked from Zendesk comments): never trashed, deleted or purged."""
    created_at: dt.datetime = DEFAULT_START
    version: int = 1
    version_at: dt.datetime = DEFAULT_START
    version_author: str = ""
    version_message: str = ""
    minor_edit: bool = False


@dataclass
class SimulatorStats:
    """What the simulator served: requests per path (every request, answered or not), 429s sent,
    faults served, 401s sent (``scope_refused``: of those, for a missing scope)."""

    requests: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0
    faults: int = 0
    unauthorized: int = 0
    scope_refused: int = 0

    def reset(self) -> None:
        self.requests.clear()
        self.rate_limited = self.faults = self.unauthorized = self.scope_refused = 0


@dataclass
class MutationSummary:
    """The ids (strings, as the API writes them) that one :meth:`ConfluenceSimulator.mutate` touched."""

    edited: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    trashed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    purged: list[str] = field(default_factory=list)
    archived: list[str] = field(default_factory=list)
    relabelled: list[str] = field(default_factory=list)
    blogposts_edited: list[str] = field(default_factory=list)
    blogposts_created: list[str] = field(default_factory=list)
    blogposts_trashed: list[str] = field(default_factory=list)
    blogposts_purged: list[str] = field(default_factory=list)


class _ApiError(Exception):
    def __init__(self, status: int, code: str, title: str, detail: str | None = None) -> None:
        super().__init__(title)
        self.status, self.code, self.title, self.detail = status, code, title, detail


def _bad_param(title: str) -> _ApiError:
    return _ApiError(400, "INVALID_REQUEST_PARAMETER", title)


# --------------------------------------------------------------------------------------------
# small helpers


def _ms(t: dt.datetime) -> int:
    return int(t.timestamp() * 1000)


def _iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _scope_name(scope: str) -> str:
    """``read:label:confluence`` → ``read:label`` (the simulator's name of a scope)."""
    return scope.strip().removesuffix(":confluence")


def _from_ms(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


def _plus_title(title: str) -> str:
    """The title as the world writes it in page URLs (runs of other characters become ``+``)."""
    return re.sub(r"[^A-Za-z0-9]+", "+", title).strip("+")


def _tiny(content_id: int) -> str:
    """A Confluence-style tiny link: the id's little-endian bytes, base64, trimmed."""
    raw = content_id.to_bytes(8, "little").rstrip(b"\0")
    return "/x/" + base64.b64encode(raw).decode().rstrip("=").replace("/", "-").replace("+", "_").rstrip("A")


def account_id(email: str) -> str:
    """The simulated Atlassian account id of a person (24 hex characters, stable per email)."""
    return hashlib.sha256(f"atlassian-account:{email.lower()}".encode()).hexdigest()[:24]


def _label_id(name: str) -> int:
    return 1_000_000 + int(hashlib.sha256(f"label:{name}".encode()).hexdigest()[:8], 16) % 900_000_000


def _encode_cursor(sort: str, key: Sequence[Any]) -> str:
    raw = json.dumps({"sort": sort, "key": list(key)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_cursor(cursor: str, sort: str) -> tuple[Any, ...]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4)))
        key = tuple(data["key"])
        ok = data["sort"] == sort and all(isinstance(k, int | str) for k in key)
    except (ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        raise _bad_param(f"Provided value {{{cursor}}} for 'cursor' is not valid.")
    return key


class _Query:
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
            raise _bad_param(
                f"Provided value {{{bad}}} for '{name}' is not the correct type. Expected type is long."
            ) from None

    def limit(self, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> int:
        raw = self.get("limit")
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise _bad_param(
                f"Provided value {{{raw}}} for 'limit' is not the correct type. Expected type is int."
            ) from None
        if value < 1:
            raise _bad_param(f"Provided value {{{raw}}} for 'limit' must be at least 1.")
        return min(value, maximum)

    def boolean(self, name: str) -> bool:
        return (self.get(name) or "").lower() == "true"


def _parse_id(raw: str, name: str = "id") -> int:
    if not raw.isdigit():
        raise _bad_param(f"Provided value {{{raw}}} for '{name}' is not the correct type. Expected type is long.")
    return int(raw)


def _keyset_page(
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
        raise _bad_param("Provided value for 'cursor' is not valid.") from None
    step = -1 if descending else 1
    out: list[int] = []
    while 0 <= i < len(keys):
        if accept(i):
            if len(out) == limit:
                return out, True
            out.append(i)
        i += step
    return out, False


def _sort_param(query: _Query, allowed: Sequence[str], default: str) -> tuple[str, bool]:
    raw = query.get("sort") or default
    name, descending = (raw[1:], True) if raw.startswith("-") else (raw, False)
    if name not in allowed:
        raise _bad_param(f"Provided value {{{raw}}} for 'sort' is not valid.")
    return raw, descending


# --------------------------------------------------------------------------------------------
# generated text

_AREA_WORDS: dict[str, tuple[str, ...]] = {
    "billing": ("invoice", "payment method", "credit note", "subscription plan", "billing contact", "tax ID"),
    "login_access": ("SSO configuration", "password reset link", "session timeout", "SAML certificate", "2FA device"),
    "integrations": ("Salesforce connector", "Slack app", "webhook endpoint", "Zapier trigger", "OAuth client"),
    "reporting": ("scheduled report", "dashboard widget", "CSV export", "custom metric", "report filter"),
    "api": ("API key", "rate limit", "pagination cursor", "REST endpoint", "bulk job"),
    "mobile_app": ("iOS app", "Android app", "push notification", "offline cache", "app version"),
    "data_import": ("CSV import", "field mapping", "duplicate check", "import job", "spreadsheet template"),
    "notifications": ("email digest", "notification rule", "SMS alert", "in-app banner", "mention alert"),
    "performance": ("dashboard load time", "search index", "query timeout", "background job", "page cache"),
    "user_management": ("user role", "permission set", "team membership", "seat license", "SCIM provisioning"),
}
_AREA_TITLES = {
    "billing": "Billing",
    "login_access": "Login and access",
    "integrations": "Integrations",
    "reporting": "Reporting",
    "api": "API",
    "mobile_app": "Mobile app",
    "data_import": "Data import",
    "notifications": "Notifications",
    "performance": "Performance",
    "user_management": "User management",
}
_KB_TEMPLATES = (
    "How to configure the {w}",
    "Troubleshooting the {w}",
    "{W} not updating",
    "FAQ: {w}",
    "Known issue: {w} errors after upgrade",
    "Best practices for the {w}",
    "Changing the {w} for a workspace",
    "Why is the {w} missing?",
)
_RUNBOOK_TEMPLATES = (
    "Runbook: {w} outage",
    "Runbook: degraded {w}",
    "Rolling back a bad {w} change",
    "Escalation path for {w} incidents",
    "Customer comms template: {w} incident",
)
_ONBOARDING_TITLES = (
    "Onboarding: first week in Tier {t}",
    "Onboarding: shadowing checklist for Tier {t}",
    "Onboarding: tools and access for Tier {t}",
)
_SYMPTOMS = (
    "Customers report that the {w} shows stale values.",
    "The {w} returns an error for some users but not others.",
    "Admins cannot find the {w} in the settings menu.",
    "The {w} works on desktop but fails on mobile.",
    "After the last release the {w} takes minutes to respond.",
    "Saving changes to the {w} silently does nothing.",
)
_CAUSES = (
    "The workspace still uses the legacy {w}, which was retired in the spring release.",
    "A browser extension blocks the request that loads the {w}.",
    "The customer's identity provider sends an expired certificate along with the {w} request.",
    "The {w} is cached for fifteen minutes; changes appear after the cache expires.",
    "The account is on a plan that does not include the {w}.",
)
_STEPS = (
    "Open Settings and select the {w}.",
    "Confirm the customer is an admin of the workspace.",
    "Ask for a screenshot of the error, including the request ID.",
    "Clear the cached {w} from the admin console.",
    "Check the audit log for recent changes to the {w}.",
    "Re-run the sync and watch the job status page.",
    "If the problem persists, escalate to Tier 3 with the request ID and the workspace URL.",
    "Link the ticket to this article so the resolution is tracked.",
)
_CODE = (
    "curl -s -H 'Authorization: Bearer $TOKEN' https://api.example.com/v2/workspaces/$WS/status",
    "SELECT id, status, updated_at FROM jobs WHERE workspace_id = :ws ORDER BY updated_at DESC LIMIT 20;",
    "kubectl -n support logs deploy/sync-worker --since=1h | grep $REQUEST_ID",
    "supportctl cache purge --workspace $WS --scope reports",
)
_MEETING = "\0meeting:"
_EDIT_MESSAGES = (
    "",
    "",
    "",
    "Fixed typo",
    "Updated screenshots",
    "Clarified the resolution steps",
    "Reviewed by Tier 3",
)


@dataclass(frozen=True, slots=True)
class _Block:
    kind: str
    """h2, p, ul, ol, code, info, table, links, tasks, users."""
    text: str = ""
    items: tuple[str, ...] = ()


def _blocks(c: _Content, author_ids: Sequence[str], titles: Sequence[str]) -> list[_Block]:
    """The body of ``c`` at its current version, as neutral blocks (rendered to storage or ADF)."""
    rng = random.Random(f"confluence-body:{c.id}:{c.version}")
    words = _AREA_WORDS.get(c.area, _AREA_WORDS["billing"])

    def fill(s: str) -> str:
        w = rng.choice(words)
        return s.format(w=w, W=w[:1].upper() + w[1:])

    blocks: list[_Block] = []
    if c.kind in ("home", "section"):
        blocks.append(_Block("p", f"Welcome to {c.title}. Start here, or search the space."))
        blocks.append(_Block("info", "Articles are reviewed every quarter by the Tier 3 team."))
        blocks.append(_Block("h2", "Popular articles"))
        blocks.append(_Block("links", items=tuple(rng.sample(list(titles), min(len(titles), 8)))))
        return blocks
    if c.kind == "meeting":
        blocks.append(_Block("h2", "Attendees"))
        blocks.append(_Block("users", items=tuple(rng.sample(list(author_ids), min(len(author_ids), 5)))))
        blocks.append(_Block("h2", "Discussion"))
        for _ in range(rng.randint(4, 9)):
            blocks.append(_Block("p", fill(rng.choice(_SYMPTOMS)) + " " + fill(rng.choice(_CAUSES))))
        blocks.append(_Block("h2", "Action items"))
        blocks.append(_Block("tasks", items=tuple(fill(rng.choice(_STEPS)) for _ in range(rng.randint(2, 5)))))
        return blocks
    if c.kind in ("release", "digest"):
        blocks.append(_Block("p", f"{c.title}: what changed and what support should know."))
        for _ in range(rng.randint(3, 6)):
            blocks.append(_Block("h2", fill("Changes to the {w}")))
            blocks.append(_Block("p", fill(rng.choice(_CAUSES))))
            blocks.append(_Block("ul", items=tuple(fill(rng.choice(_STEPS)) for _ in range(rng.randint(2, 4)))))
        return blocks
    blocks.append(
        _Block("info", f"Applies to: {rng.choice(('all plans', 'Enterprise', 'Professional and Enterprise'))}.")
    )
    blocks.append(_Block("p", " ".join(fill(rng.choice(_SYMPTOMS)) for _ in range(rng.randint(2, 4)))))
    blocks.append(_Block("h2", "Symptoms"))
    blocks.append(_Block("ul", items=tuple(fill(rng.choice(_SYMPTOMS)) for _ in range(rng.randint(3, 7)))))
    blocks.append(_Block("h2", "Cause"))
    for _ in range(rng.randint(2, 5)):
        blocks.append(_Block("p", " ".join(fill(rng.choice(_CAUSES)) for _ in range(rng.randint(2, 5)))))
    blocks.append(_Block("h2", "Resolution" if c.kind != "runbook" else "Procedure"))
    blocks.append(_Block("ol", items=tuple(fill(rng.choice(_STEPS)) for _ in range(rng.randint(4, 10)))))
    if rng.random() < 0.5:
        blocks.append(_Block("h2", "Workaround"))
        blocks.append(_Block("p", " ".join(fill(rng.choice(_CAUSES)) for _ in range(rng.randint(1, 3)))))
        blocks.append(_Block("ul", items=tuple(fill(rng.choice(_STEPS)) for _ in range(rng.randint(2, 5)))))
    if rng.random() < 0.6:
        blocks.append(_Block("code", rng.choice(_CODE)))
    if rng.random() < 0.5:
        blocks.append(
            _Block(
                "table",
                items=tuple(
                    fill("{W}") + "|" + rng.choice(("on", "off", "15 min", "per workspace"))
                    for _ in range(rng.randint(2, 5))
                ),
            )
        )
    blocks.append(_Block("h2", "Related articles"))
    blocks.append(_Block("links", items=tuple(rng.sample(list(titles), min(len(titles), rng.randint(2, 4))))))
    return blocks


def _storage(blocks: Iterable[_Block], macro_seed: int) -> str:
    e = html.escape
    out: list[str] = []
    for n, b in enumerate(blocks):
        macro_id = hashlib.sha256(f"{macro_seed}:{n}".encode()).hexdigest()
        macro_id = f"{macro_id[:8]}-{macro_id[8:12]}-{macro_id[12:16]}-{macro_id[16:20]}-{macro_id[20:32]}"
        if b.kind == "h2":
            out.append(f"<h2>{e(b.text)}</h2>")
        elif b.kind == "p":
            out.append(f"<p>{e(b.text)}</p>")
        elif b.kind in ("ul", "ol"):
            out.append(f"<{b.kind}>" + "".join(f"<li><p>{e(i)}</p></li>" for i in b.items) + f"</{b.kind}>")
        elif b.kind == "info":
            out.append(
                f'<ac:structured-macro ac:name="info" ac:schema-version="1" ac:macro-id="{macro_id}">'
                f"<ac:rich-text-body><p>{e(b.text)}</p></ac:rich-text-body></ac:structured-macro>"
            )
        elif b.kind == "code":
            out.append(
                f'<ac:structured-macro ac:name="code" ac:schema-version="1" ac:macro-id="{macro_id}">'
                '<ac:parameter ac:name="language">bash</ac:parameter>'
                f"<ac:plain-text-body><![CDATA[{b.text}]]></ac:plain-text-body></ac:structured-macro>"
            )
        elif b.kind == "table":
            rows = "".join(
                "<tr>" + "".join(f"<td><p>{e(cell)}</p></td>" for cell in item.split("|")) + "</tr>" for item in b.items
            )
            out.append(
                '<table data-layout="default"><tbody><tr><th><p>Setting</p></th><th><p>Value</p></th></tr>'
                f"{rows}</tbody></table>"
            )
        elif b.kind == "links":
            out.append(
                "<ul>"
                + "".join(f'<li><ac:link><ri:page ri:content-title="{e(t)}" /></ac:link></li>' for t in b.items)
                + "</ul>"
            )
        elif b.kind == "users":
            out.append(
                "<p>" + ", ".join(f'<ac:link><ri:user ri:account-id="{u}" /></ac:link>' for u in b.items) + "</p>"
            )
        elif b.kind == "tasks":
            out.append(
                "<ac:task-list>"
                + "".join(
                    f"<ac:task><ac:task-id>{k + 1}</ac:task-id><ac:task-status>incomplete</ac:task-status>"
                    f"<ac:task-body>{e(t)}</ac:task-body></ac:task>"
                    for k, t in enumerate(b.items)
                )
                + "</ac:task-list>"
            )
    return "".join(out)


def _adf(blocks: Iterable[_Block]) -> str:
    def text(s: str) -> dict[str, Any]:
        return {"type": "paragraph", "content": [{"type": "text", "text": s}]}

    content: list[dict[str, Any]] = []
    for b in blocks:
        if b.kind == "h2":
            content.append({"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": b.text}]})
        elif b.kind in ("p", "info"):
            content.append(text(b.text))
        elif b.kind == "code":
            content.append(
                {"type": "codeBlock", "attrs": {"language": "bash"}, "content": [{"type": "text", "text": b.text}]}
            )
        else:
            kind = "orderedList" if b.kind == "ol" else "bulletList"
            items = [{"type": "listItem", "content": [text(i.replace("|", ": "))]} for i in b.items]
            content.append({"type": kind, "content": items})
    return json.dumps({"type": "doc", "version": 1, "content": content}, separators=(",", ":"))


# --------------------------------------------------------------------------------------------
# the simulator


class ConfluenceSimulator:
    """A seeded Confluence Cloud site. ``serve()`` puts it on a loopback port.

    ``n_extra_pages`` generated pages come on top of the world's 220 articles and the fixed
    structure (homepages, sections, a legacy space, a few trashed and deleted pages); 20,000 is
    fine: bodies are generated on demand. ``rate_limit`` requests per ``rate_window`` seconds are
    answered, the rest get 429 (``None``: no limit). ``site_url`` is what ``_links.base`` names
    (default: the world's ``https://acme.atlassian.net``, so web links equal the URLs in Zendesk
    comments); next links are site-relative and work against the loopback URL.
    """

    def __init__(
        self,
        seed: int = 1,
        n_extra_pages: int = 600,
        n_blogposts: int = 30,
        *,
        email: str = "sync-bot@supportlake-demo.com",
        api_token: str = "confluence-sim-token",  # noqa: S107 - a fake credential of a local simulator
        oauth_token: str = "confluence-sim-oauth",  # noqa: S107 - a fake credential of a local simulator
        rate_limit: int | None = None,
        rate_window: float = 60.0,
        error_rate: float = 0.0,
        latency_ms: int = 0,
        site_url: str | None = None,
        start: dt.datetime = DEFAULT_START,
        without_scopes: Iterable[str] = (),
    ) -> None:
        self.seed = seed
        self.without_scopes = frozenset(_scope_name(s) for s in without_scopes)
        self.email = email
        self.api_token = api_token
        self.oauth_token = oauth_token
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.error_rate = error_rate
        self.latency_ms = latency_ms
        self.site_url = (site_url or CONFLUENCE_BASE.removesuffix("/wiki")).rstrip("/")
        self.base_url: str | None = None
        self.stats = SimulatorStats()
        self.now = start
        self.world: World = build_world(seed)

        self._lock = threading.RLock()
        self._spaces: dict[str, _Space] = {}
        self._contents: dict[int, _Content] = {}
        self._purged: dict[int, str] = {}
        self._index: dict[tuple[str, str], tuple[list[tuple[Any, ...]], list[_Content]]] = {}
        self._faults: list[tuple[str, deque[Fault]]] = []
        self._fault_rng = random.Random(f"confluence-faults:{seed}")
        self._budget_start = time.monotonic()
        self._budget_used = 0
        self._mutations = 0
        self._next_id = 0
        self._people: dict[str, Agent] = {}
        self._author_pools: dict[str, list[str]] = {}
        self._build(n_extra_pages, n_blogposts)

    # ---------------------------------------------------------------- data generation

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

    def _build(self, n_extra: int, n_blogposts: int) -> None:
        rng = random.Random(f"confluence-sim:{self.seed}")
        w = self.world
        for person in (*w.agents, *w.admins):
            self._people[account_id(person.email)] = person
        admins = self._authors("home")
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
        space_created = self.now - dt.timedelta(days=3 * 365 + 30)
        for n, (key, name, status, desc) in enumerate(space_defs):
            self._spaces[key] = _Space(
                id=1_179_650 + n * 65_537,
                key=key,
                name=name,
                status=status,
                author_id=admins[n % len(admins)],
                created_at=space_created + dt.timedelta(days=n * 3, minutes=n * 17),
                description=desc,
            )

        items: list[_Content] = []
        titles: dict[str, set[str]] = {k: set() for k in self._spaces}

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
        ) -> _Content:
            c = _Content(
                id=cid,
                type=ctype,
                title=title,
                space_key=key,
                status=status,
                parent_id=parent,
                position=None,
                author_id=rng.choice(self._authors(kind)),
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
        homes: dict[str, _Content] = {}
        for key, space in self._spaces.items():
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
        sections: dict[str, _Content] = {}
        for area in PRODUCT_AREAS:
            cid += rng.randint(1, 4000)
            sections[area] = add(
                cid,
                "page",
                _AREA_TITLES[area],
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
            word = rng.choice(_AREA_WORDS[area])
            title = unique("OLD", rng.choice(_KB_TEMPLATES).format(w=word, W=word[:1].upper() + word[1:]))
            add(cid, "page", title, "OLD", "archived", homes["OLD"].id, "legacy", area, ["legacy", area])

        # the world's articles (ids, titles and space keys fixed by the world)
        runbooks: list[_Content] = []
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
        extras: dict[str, list[_Content]] = {"SUP": [], "RUN": [], "TEAM": []}
        onboarding_titles = [t.format(t=tier) for t in _ONBOARDING_TITLES for tier in (1, 2, 3)]
        blog_slots = set(rng.sample(range(n_extra + n_blogposts), n_blogposts)) if n_blogposts else set()
        release = 0
        digest = 0
        for slot in range(n_extra + n_blogposts):
            cid += rng.randint(1, 3000)
            area = rng.choice(PRODUCT_AREAS)
            word = rng.choice(_AREA_WORDS[area])
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
                        unique("SUP", f"Support digest #{digest}: {_AREA_TITLES[area]}"),
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
                title = rng.choice(_KB_TEMPLATES).format(w=word, W=word[:1].upper() + word[1:])
                parent = sections[area].id
                labels = [area, rng.choice(("how-to", "troubleshooting", "faq", "kb-article"))]
            elif roll < 0.72:
                key, kind = "RUN", "runbook"
                title = rng.choice(_RUNBOOK_TEMPLATES).format(w=word)
                parent = homes["RUN"].id
                labels = [area, "runbook"]
            elif roll < 0.95 or not onboarding_titles:
                # titled by their date once creation times are known (below)
                key, kind = "TEAM", "meeting"
                team = rng.choice(
                    ("Support team sync", "Tier 2 weekly review", "Tier 3 escalation review", "CSAT review")
                )
                title = f"{_MEETING}{team}"
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
        first = _ms(self.now - dt.timedelta(days=3 * 365))
        last = _ms(self.now - dt.timedelta(days=1))
        moments = sorted(rng.sample(range(first, last), len(items)))
        positions: Counter[int | None] = Counter()
        for c, ms in zip(items, moments, strict=True):
            c.created_at = _from_ms(ms)
            if c.kind == "meeting" and c.title.startswith(_MEETING):
                c.title = unique(c.space_key, f"{c.created_at.date().isoformat()} {c.title.removeprefix(_MEETING)}")
                titles[c.space_key].add(c.title)
            edits = rng.choice((0, 0, 0, 1, 1, 2, 3, 5, 8))
            c.version = 1 + edits
            c.version_at = c.created_at if not edits else _from_ms(rng.randint(ms, _ms(self.now) - 60_000))
            c.version_author = c.author_id if not edits else rng.choice(self._authors(c.kind))
            c.version_message = "" if not edits else rng.choice(_EDIT_MESSAGES)
            c.minor_edit = bool(edits) and rng.random() < 0.3
            if c.type == "page":
                c.position = positions[c.parent_id]
                positions[c.parent_id] += 1
            self._contents[c.id] = c
        self._next_id = max(self._contents) + 1

    # ---------------------------------------------------------------- JSON forms

    def _space_json(self, s: _Space, description_format: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": str(s.id),
            "key": s.key,
            "name": s.name,
            "type": "global",
            "status": s.status,
            "authorId": s.author_id,
            "createdAt": _iso(s.created_at),
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

    def _webui(self, c: _Content) -> str:
        if c.type == "blogpost":
            d = c.created_at
            return f"/spaces/{c.space_key}/blog/{d:%Y/%m/%d}/{c.id}/{_plus_title(c.title)}"
        return f"/spaces/{c.space_key}/pages/{c.id}/{_plus_title(c.title)}"

    def _body(self, c: _Content, fmt: str) -> dict[str, Any]:
        titles = self._related_titles(c)
        blocks = _blocks(c, self._authors("meeting"), titles)
        value = _storage(blocks, c.id * 1000 + c.version) if fmt == "storage" else _adf(blocks)
        return {fmt: {"representation": fmt, "value": value}}

    def _related_titles(self, c: _Content) -> list[str]:
        rng = random.Random(f"related:{c.id}")
        pool: list[str] = []
        _, items = self._sorted("page", "id")
        if items:
            for _ in range(10):
                pick = items[rng.randrange(len(items))]
                if pick.space_key == c.space_key and pick.id != c.id:
                    pool.append(pick.title)
        return pool or [c.title]

    def _content_json(self, c: _Content, body_format: str | None = None, space: _Space | None = None) -> dict[str, Any]:
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
        out["createdAt"] = _iso(c.created_at)
        out["version"] = {
            "createdAt": _iso(c.version_at),
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
            "tinyui": _tiny(c.id),
        }
        return out

    @staticmethod
    def _label_json(name: str) -> dict[str, Any]:
        return {"id": str(_label_id(name)), "name": name, "prefix": "global"}

    # ---------------------------------------------------------------- indexes

    def _sorted(self, ctype: str, sort: str) -> tuple[list[tuple[Any, ...]], list[_Content]]:
        """All non-purged content of a type in ascending ``sort`` order, and their keys (cached)."""
        cached = self._index.get((ctype, sort))
        if cached is not None:
            return cached
        key: Callable[[_Content], tuple[Any, ...]]
        if sort == "id":
            key = lambda c: (c.id,)  # noqa: E731
        elif sort == "created-date":
            key = lambda c: (_ms(c.created_at), c.id)  # noqa: E731
        elif sort == "modified-date":
            key = lambda c: (_ms(c.version_at), c.id)  # noqa: E731
        else:
            key = lambda c: (c.title, c.id)  # noqa: E731
        items = sorted((c for c in self._contents.values() if c.type == ctype), key=key)
        keys = [key(c) for c in items]
        self._index[(ctype, sort)] = (keys, items)
        return keys, items

    def _changed(self) -> None:
        self._index.clear()

    # ---------------------------------------------------------------- public API

    @contextlib.contextmanager
    def serve(self, port: int = 0, host: str = "127.0.0.1") -> Iterator[str]:
        """Serve on ``host:port`` (0: a free port) in a daemon thread; yields the site URL
        (``http://127.0.0.1:PORT``, without ``/wiki``), also kept as ``base_url``."""
        server = _Server((host, port), self)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="confluence-simulator"
        )
        thread.start()
        self.base_url = f"http://{host}:{server.server_address[1]}"
        try:
            yield self.base_url
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)

    def inject(self, path_prefix: str, faults: Iterable[Fault]) -> None:
        """Queue faults for requests whose path starts with ``path_prefix`` (e.g.
        ``/wiki/api/v2/pages``): each such request takes the next one, in order, until the queue
        is empty. Checked before authentication and rate limits."""
        with self._lock:
            self._faults.append((path_prefix, deque(faults)))

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
                    {owner: str(c.id), **self._label_json(n)} for c in items for n in sorted(c.labels, key=_label_id)
                ]
            if kind == "users":
                return [
                    {"accountId": aid, "email": p.email, "displayName": p.name}
                    for aid, p in sorted(self._people.items())
                ]
        raise ValueError(f"unknown record kind {kind!r}: spaces, pages, blogposts, labels, blogpost_labels, users")

    def purged(self, kind: str | None = None) -> set[str]:
        """Ids (strings) purged so far; ``kind`` ``"pages"`` or ``"blogposts"`` narrows them."""
        with self._lock:
            return {str(i) for i, t in self._purged.items() if kind is None or kind == f"{t}s"}

    def account_id(self, email: str) -> str:
        return account_id(email)

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

            def pick(pool: list[_Content], count: int | None, default: int) -> list[_Content]:
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
                sorted(rng.sample(range(1, _ms(self.now) - _ms(t0)), len(to_edit) + n_create + 1 + len(blog_edit)))
            )

            def at() -> dt.datetime:
                return _from_ms(_ms(t0) + next(moments))

            for c in [*to_edit, *blog_edit]:
                c.version += 1
                c.version_at = at()
                c.version_author = rng.choice(self._authors(c.kind))
                c.version_message = rng.choice(_EDIT_MESSAGES)
                c.minor_edit = rng.random() < 0.3
                if c.type == "page" and not c.world and c.kind in ("kb", "runbook") and rng.random() < 0.15:
                    word = rng.choice(_AREA_WORDS[c.area])
                    taken = {x.title for x in pages if x.space_key == c.space_key}
                    title = rng.choice(_KB_TEMPLATES).format(w=word, W=word[:1].upper() + word[1:])
                    if title not in taken:
                        c.title = title
                (summary.edited if c.type == "page" else summary.blogposts_edited).append(str(c.id))

            spaces_new = ("SUP", "SUP", "SUP", "RUN", "TEAM")
            for _ in range(n_create):
                key = rng.choice(spaces_new)
                area = rng.choice(PRODUCT_AREAS)
                word = rng.choice(_AREA_WORDS[area])
                taken = {x.title for x in self._contents.values() if x.space_key == key}
                if key == "SUP":
                    kind, labels = "kb", [area, "kb-article"]
                    title = rng.choice(_KB_TEMPLATES).format(w=word, W=word[:1].upper() + word[1:])
                    candidates = [c for c in current if c.space_key == key and c.kind in ("section", "kb")]
                elif key == "RUN":
                    kind, labels = "runbook", [area, "runbook"]
                    title = rng.choice(_RUNBOOK_TEMPLATES).format(w=word)
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
                f"Support digest {self.now:%Y-%m-%d %H:%M}: {_AREA_TITLES[area]}",
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
    ) -> _Content:
        self._next_id += rng.randint(1, 5000)
        siblings = sum(1 for c in self._contents.values() if c.type == "page" and c.parent_id == parent)
        c = _Content(
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

    def _purge(self, c: _Content) -> None:
        del self._contents[c.id]
        self._purged[c.id] = c.type
        for child in self._contents.values():
            if child.parent_id == c.id:
                child.parent_id = c.parent_id

    # ---------------------------------------------------------------- request plumbing

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for prefix, queue in self._faults:
                if queue and path.startswith(prefix):
                    return queue.popleft()
            if self.error_rate and self._fault_rng.random() < self.error_rate:
                return self._fault_rng.choice((500, 502, 503, 504))
        return None

    def _authorized(self, header: str | None) -> bool:
        if not header:
            return False
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            return value.strip() == self.oauth_token
        if scheme.lower() == "basic":
            try:
                user, _, secret = base64.b64decode(value.strip(), validate=True).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return False
            return user == self.email and secret == self.api_token
        return False

    def _missing_scope(self, path: str) -> str | None:
        """The scope ``path`` needs that the token lacks (see ``without_scopes``), if any."""
        if not self.without_scopes:
            return None
        for pattern, scope in _SCOPED_ROUTES:
            if scope in self.without_scopes and pattern.match(path):
                return scope
        return None

    def _take_budget(self) -> tuple[bool, dict[str, str]]:
        """Spend one request of the budget: (allowed, rate-limit headers)."""
        if self.rate_limit is None:
            return True, {}
        with self._lock:
            now = time.monotonic()
            if now - self._budget_start >= self.rate_window:
                elapsed_windows = int((now - self._budget_start) // self.rate_window)
                self._budget_start += elapsed_windows * self.rate_window
                self._budget_used = 0
            reset_in = max(0.0, self._budget_start + self.rate_window - now)
            allowed = self._budget_used < self.rate_limit
            if allowed:
                self._budget_used += 1
            remaining = max(0, self.rate_limit - self._budget_used)
        headers = {"X-RateLimit-Limit": str(self.rate_limit), "X-RateLimit-Remaining": str(remaining)}
        if remaining < 0.2 * self.rate_limit:
            headers["X-RateLimit-NearLimit"] = "true"
        if not allowed:
            retry_after = max(1, math.ceil(reset_in))
            reset_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=retry_after)
            headers["Retry-After"] = str(retry_after)
            headers["X-RateLimit-Reset"] = reset_at.strftime("%Y-%m-%dT%H:%MZ")
        return allowed, headers

    # ---------------------------------------------------------------- routes

    def handle(self, path: str, query_string: str) -> tuple[int, Any, dict[str, str]]:
        """Answer one authorised GET: (status, JSON-able body, extra headers). Raises :class:`_ApiError`."""
        query = _Query(query_string)
        if path.startswith("/wiki/rest/api/"):
            return self._v1(path.removeprefix("/wiki/rest/api"), query)
        if not path.startswith("/wiki/api/v2/"):
            raise _ApiError(404, "NOT_FOUND", "Not Found", f"No route for {path}")
        parts = [p for p in path.removeprefix("/wiki/api/v2").split("/") if p]
        with self._lock:
            match parts:
                case ["spaces"]:
                    return self._list_spaces(path, query)
                case ["spaces", sid]:
                    return 200, self._space_json(self._space_by_id(_parse_id(sid)), query.get("description-format")), {}
                case ["spaces", sid, ("pages" | "blogposts") as plural]:
                    space = self._space_by_id(_parse_id(sid))
                    return self._list_content(
                        path, query, plural[:-1], space_ids={space.id}, root_only=query.get("depth") == "root"
                    )
                case [("pages" | "blogposts") as plural]:
                    return self._list_content(path, query, plural[:-1], space_ids=query.ints("space-id"))
                case [("pages" | "blogposts") as plural, cid]:
                    return 200, self._get_content(plural[:-1], _parse_id(cid), query), {}
                case [("pages" | "blogposts") as plural, cid, "labels"]:
                    content = self._content_by_id(plural[:-1], _parse_id(cid), None)
                    return self._list_labels(path, query, content.labels)
                case ["labels"]:
                    names = {n for c in self._contents.values() for n in c.labels}
                    wanted = query.ints("label-id")
                    return self._list_labels(
                        path, query, [n for n in names if wanted is None or _label_id(n) in wanted]
                    )
                case ["labels", lid, ("pages" | "blogposts") as plural]:
                    label = _parse_id(lid)
                    if not any(_label_id(n) == label for c in self._contents.values() for n in c.labels):
                        raise _ApiError(404, "NOT_FOUND", f"No label found with id : {label}")
                    return self._list_content(
                        path, query, plural[:-1], space_ids=query.ints("space-id"), label_id=label, allow_status=False
                    )
        raise _ApiError(404, "NOT_FOUND", "Not Found", f"No route for {path}")

    def _space_by_id(self, sid: int) -> _Space:
        for s in self._spaces.values():
            if s.id == sid:
                return s
        raise _ApiError(404, "NOT_FOUND", f"No space found with id : {sid}")

    def _content_by_id(self, ctype: str, cid: int, statuses: set[str] | None) -> _Content:
        c = self._contents.get(cid)
        if c is None or c.type != ctype or (statuses is not None and c.status not in statuses):
            which = f" and status [{', '.join(sorted(statuses))}]" if statuses else ""
            raise _ApiError(404, "NOT_FOUND", f"No content found with id : {cid}{which}")
        return c

    def _get_content(self, ctype: str, cid: int, query: _Query) -> dict[str, Any]:
        statuses = self._statuses(query, ctype, default=None)
        c = self._content_by_id(ctype, cid, statuses)
        out = self._content_json(c, self._body_format(query))
        if query.boolean("include-labels"):
            labels = sorted(c.labels, key=_label_id)
            out["labels"] = {
                "results": [self._label_json(n) for n in labels[:50]],
                "meta": {"hasMore": len(labels) > 50, "cursor": None},
                "_links": {"self": f"/wiki/api/v2/{ctype}s/{cid}/labels"},
            }
        return out

    @staticmethod
    def _statuses(query: _Query, ctype: str, default: frozenset[str] | None) -> set[str] | None:
        values = query.many("status")
        if not values:
            return set(default) if default is not None else None
        allowed = PAGE_STATUSES if ctype == "page" else BLOGPOST_STATUSES
        for v in values:
            if v not in allowed:
                raise _bad_param(
                    f"Provided value {{{v}}} for 'status' is not valid. Valid values: {', '.join(allowed)}."
                )
        return set(values)

    @staticmethod
    def _body_format(query: _Query) -> str | None:
        fmt = query.get("body-format")
        if not fmt:
            return None
        fmt = fmt.lower()
        if fmt not in ("storage", "atlas_doc_format"):
            raise _bad_param(
                f"Provided value {{{fmt}}} for 'body-format' is not valid. Valid values: storage, atlas_doc_format."
            )
        return fmt

    def _links(self, path: str, query: _Query, cursor: str | None) -> tuple[dict[str, str], dict[str, str]]:
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
        query: _Query,
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
        sort, descending = _sort_param(query, CONTENT_SORTS if ctype == "page" else CONTENT_SORTS[:3], "id")
        field_name = sort.lstrip("-")
        limit = query.limit()
        fmt = self._body_format(query)
        ids = query.ints("id")
        title = query.get("title")
        raw_cursor = query.get("cursor")
        after = _decode_cursor(raw_cursor, sort) if raw_cursor else None
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
                and (label_id is None or any(_label_id(n) == label_id for n in c.labels))
            )

        chosen, more = _keyset_page(keys, descending, after, accept, limit)
        results = [self._content_json(items[i], fmt) for i in chosen]
        cursor = _encode_cursor(sort, keys[chosen[-1]]) if more and chosen else None
        links, headers = self._links(path, query, cursor)
        return 200, {"results": results, "_links": links}, headers

    def _list_labels(self, path: str, query: _Query, names: Iterable[str]) -> tuple[int, Any, dict[str, str]]:
        sort, descending = _sort_param(query, LABEL_SORTS, "id")
        prefix = query.many("prefix")
        wanted = [n for n in set(names) if not prefix or "global" in prefix]
        field_name = sort.lstrip("-")
        if field_name == "name":
            ordered = sorted(wanted, key=lambda n: (n, _label_id(n)))
            keys: list[tuple[Any, ...]] = [(n, _label_id(n)) for n in ordered]
        else:
            ordered = sorted(wanted, key=_label_id)
            keys = [(_label_id(n),) for n in ordered]
        raw_cursor = query.get("cursor")
        after = _decode_cursor(raw_cursor, sort) if raw_cursor else None
        chosen, more = _keyset_page(keys, descending, after, lambda i: True, query.limit())
        cursor = _encode_cursor(sort, keys[chosen[-1]]) if more and chosen else None
        links, headers = self._links(path, query, cursor)
        return 200, {"results": [self._label_json(ordered[i]) for i in chosen], "_links": links}, headers

    def _list_spaces(self, path: str, query: _Query) -> tuple[int, Any, dict[str, str]]:
        sort, descending = _sort_param(query, SPACE_SORTS, "id")
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
        after = _decode_cursor(raw_cursor, sort) if raw_cursor else None
        chosen, more = _keyset_page(keys, descending, after, accept, query.limit())
        cursor = _encode_cursor(sort, keys[chosen[-1]]) if more and chosen else None
        links, headers = self._links(path, query, cursor)
        fmt = query.get("description-format")
        return 200, {"results": [self._space_json(spaces[i], fmt) for i in chosen], "_links": links}, headers

    # ---------------------------------------------------------------- v1: CQL search, users

    def _v1(self, path: str, query: _Query) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            if path == "/search":
                return self._search(query)
            if path == "/user":
                aid = query.get("accountId") or ""
                person = self._people.get(aid)
                if person is None:
                    raise _ApiError(404, "NOT_FOUND", f"No user found with accountId: {aid}")
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
        raise _ApiError(404, "NOT_FOUND", f"No route for /wiki/rest/api{path}")

    def _search(self, query: _Query) -> tuple[int, Any, dict[str, str]]:
        cql = query.get("cql")
        if not cql:
            raise _ApiError(400, "BAD_REQUEST", "CQL query parameter is required")
        predicate, order, descending = _parse_cql(cql, self._spaces)
        limit = query.limit(DEFAULT_LIMIT, SEARCH_MAX_LIMIT)
        sort = ("-" if descending else "") + order
        keys, items = self._sorted_all(order)
        raw_cursor = query.get("cursor")
        after = _decode_cursor(raw_cursor, sort) if raw_cursor else None

        def accept(i: int) -> bool:
            c = items[i]
            return c.status == "current" and predicate(c)

        chosen, more = _keyset_page(keys, descending, after, accept, limit)
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
                ("cursor", _encode_cursor(sort, keys[chosen[-1]])),
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

    def _sorted_all(self, order: str) -> tuple[list[tuple[Any, ...]], list[_Content]]:
        pk, pi = self._sorted("page", order)
        bk, bi = self._sorted("blogpost", order)
        merged = sorted(zip(pk + bk, pi + bi, strict=True), key=lambda kv: kv[0])
        return [k for k, _ in merged], [c for _, c in merged]

    def _search_result(self, c: _Content, with_version: bool) -> dict[str, Any]:
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
                "tinyui": _tiny(c.id),
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
                "when": _iso(c.version_at),
                "number": c.version,
                "message": c.version_message,
                "minorEdit": c.minor_edit,
            }
        return {
            "content": content,
            "title": c.title,
            "excerpt": f"{c.title} — {_AREA_TITLES.get(c.area, c.area)}",
            "url": self._webui(c),
            "resultGlobalContainer": {"title": space.name, "displayUrl": f"/spaces/{space.key}"},
            "breadcrumbs": [],
            "entityType": "content",
            "iconCssClass": f"aui-icon content-type-{c.type}",
            "lastModified": _iso(c.version_at),
            "friendlyLastModified": f"{c.version_at:%b %d, %Y}",
            "score": 0.0,
        }


# --------------------------------------------------------------------------------------------
# CQL (a small subset)

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
            return _ms(dt.datetime.strptime(raw, fmt).replace(tzinfo=dt.UTC))
        except ValueError:
            continue
    raise ValueError(raw)


def _parse_cql(cql: str, spaces: dict[str, _Space]) -> tuple[Callable[[_Content], bool], str, bool]:
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
    tests: list[Callable[[_Content], bool]] = []
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


def _cql_error(cql: str, why: str) -> _ApiError:
    return _ApiError(400, "BAD_REQUEST", f"Could not parse cql : {cql} ({why})")


def _cql_test(cql: str, name: str, op: str, raw: str, spaces: dict[str, _Space]) -> Callable[[_Content], bool]:
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
        return lambda c: check(_ms(getattr(c, attr)))
    raise _cql_error(cql, f"unsupported clause {name} {op} {raw}")


# --------------------------------------------------------------------------------------------
# HTTP


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sim: ConfluenceSimulator) -> None:
        self.sim = sim
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up (timeouts, dropped faults) are normal here: stay quiet."""


def _v2_error(status: int, code: str, title: str, detail: str | None = None) -> bytes:
    return json.dumps({"errors": [{"status": status, "code": code, "title": title, "detail": detail}]}).encode()


def _v1_error(status: int, message: str, reason: str) -> bytes:
    body = {
        "statusCode": status,
        "data": {
            "authorized": status not in (401, 403),
            "valid": status != 400,
            "allowedInReadOnlyMode": True,
            "errors": [],
            "successful": False,
        },
        "message": message,
        "reason": reason,
    }
    return json.dumps(body).encode()


_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
_CODES = {
    400: "INVALID_REQUEST_PARAMETER",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_SERVER_ERROR",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    server_version = "AtlassianEdge"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        # headers and body go out in two writes: without this, Nagle + delayed ACK add ~40 ms a request
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests and the demo read the stats instead."""

    def _send(
        self,
        status: int,
        body: bytes,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json;charset=UTF-8",
        cut: bool = False,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if cut:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if cut else body)
        if cut:
            self.wfile.flush()
            self.close_connection = True

    def _error(
        self,
        status: int,
        title: str,
        detail: str | None,
        headers: dict[str, str] | None = None,
        v1: bool = False,
        code: str | None = None,
    ) -> None:
        if v1:
            body = _v1_error(status, title, _REASONS.get(status, "Error"))
        else:
            body = _v2_error(status, code or _CODES.get(status, "ERROR"), title, detail)
        self._send(status, body, headers)

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _discard_body(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)

    def do_GET(self) -> None:
        sim = self.server.sim
        split = urlsplit(self.path)
        path = split.path
        v1 = path.startswith("/wiki/rest/")
        with sim._lock:
            sim.stats.requests[path] += 1
        if sim.latency_ms:
            time.sleep(sim.latency_ms / 1000)
        cut = False
        fault = sim._take_fault(path)
        if fault is not None:
            if isinstance(fault, float):
                time.sleep(fault)
            elif fault != "ok":
                with sim._lock:
                    sim.stats.faults += 1
                if fault == "drop":
                    self._drop()
                    return
                if fault == "bad_json":
                    self._send(200, b'{"results": [{"id": "1", "status": "current", "title": <html>Service', {})
                    return
                if fault == "truncate":
                    cut = True
                elif isinstance(fault, int):
                    self._fault_status(fault, v1)
                    return
                else:
                    raise ValueError(f"unknown fault {fault!r}")
        if not sim._authorized(self.headers.get("Authorization")):
            with sim._lock:
                sim.stats.unauthorized += 1
            self._error(401, "Unauthorized", "Client must be authenticated to access this resource.", v1=v1)
            return
        if sim._missing_scope(path) is not None:
            with sim._lock:
                sim.stats.unauthorized += 1
                sim.stats.scope_refused += 1
            self._send(401, json.dumps(SCOPE_MISMATCH).encode())
            return
        allowed, rate_headers = sim._take_budget()
        if not allowed:
            with sim._lock:
                sim.stats.rate_limited += 1
            self._error(429, "Too Many Requests", "Rate limit exceeded.", rate_headers, v1=v1)
            return
        try:
            status, payload, headers = sim.handle(path, split.query)
        except _ApiError as exc:
            self._error(exc.status, exc.title, exc.detail, rate_headers, v1=v1, code=exc.code)
            return
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        self._send(status, body, {**rate_headers, **headers}, cut=cut)

    def _fault_status(self, status: int, v1: bool) -> None:
        if status in (502, 504):
            reason = _REASONS[status]
            page = f"<html><head><title>{status} {reason}</title></head><body><h1>{reason}</h1></body></html>"
            self._send(status, page.encode(), {}, content_type="text/html")
        elif status in (429, 503):
            headers = {"Retry-After": "1"}
            if status == 429:
                headers.update(
                    {
                        "X-RateLimit-Limit": str(self.server.sim.rate_limit or 100),
                        "X-RateLimit-Remaining": "0",
                        "X-RateLimit-Reset": (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)).strftime(
                            "%Y-%m-%dT%H:%MZ"
                        ),
                    }
                )
                with self.server.sim._lock:
                    self.server.sim.stats.rate_limited += 1
            self._error(status, _REASONS[status], None, headers, v1=v1)
        else:
            self._error(status, _REASONS.get(status, "Error"), None, v1=v1)

    def _not_allowed(self) -> None:
        self._discard_body()
        self._error(
            405,
            "Method Not Allowed",
            "The simulator is read-only.",
            v1=urlsplit(self.path).path.startswith("/wiki/rest/"),
        )

    do_POST = do_PUT = do_DELETE = do_PATCH = _not_allowed


# --------------------------------------------------------------------------------------------
# command line


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m simulators.confluence [--port 0] [--seed 1] [--pages N] …``: print the
    site URL on the first line of stdout, then serve until interrupted."""
    parser = argparse.ArgumentParser(
        prog="confluence-simulator", description=__doc__.splitlines()[0] if __doc__ else ""
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pages", type=int, default=600, help="generated pages on top of the world's articles")
    parser.add_argument("--blogposts", type=int, default=30)
    parser.add_argument("--email", default="sync-bot@supportlake-demo.com")
    parser.add_argument("--token", default="confluence-sim-token", help="the API token of --email (Basic auth)")
    parser.add_argument("--oauth-token", default="confluence-sim-oauth", help="the Bearer token")
    parser.add_argument("--rate-limit", type=int, default=None, help="requests per --rate-window (default: no limit)")
    parser.add_argument("--rate-window", type=float, default=60.0)
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument(
        "--without-scope",
        action="append",
        default=[],
        metavar="SCOPE",
        help="a scope the token lacks, e.g. read:label (repeatable): its endpoints answer 401",
    )
    args = parser.parse_args(argv)
    sim = ConfluenceSimulator(
        seed=args.seed,
        n_extra_pages=args.pages,
        n_blogposts=args.blogposts,
        email=args.email,
        api_token=args.token,
        oauth_token=args.oauth_token,
        rate_limit=args.rate_limit,
        rate_window=args.rate_window,
        error_rate=args.error_rate,
        latency_ms=args.latency_ms,
        without_scopes=args.without_scope,
    )
    with sim.serve(port=args.port, host=args.host) as base_url:
        print(base_url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
