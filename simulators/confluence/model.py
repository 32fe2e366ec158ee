"""The Confluence simulator's records, constants and small helpers."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field

from simulators.clock import NOW
from simulators.shared import Stats

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
SCOPED_ROUTES: tuple[tuple[re.Pattern[str], str], ...] = (
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
class Space:
    id: int
    key: str
    name: str
    status: str
    author_id: str
    created_at: dt.datetime
    description: str
    homepage_id: int | None = None


@dataclass(slots=True)
class Content:
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
class SimulatorStats(Stats):
    """What the simulator served: requests per path (every request, answered or not), statuses,
    429s sent, faults served by kind (``faults_served``: how many), 401s sent
    (``scope_refused``: of those, for a missing scope)."""

    unauthorized: int = 0
    scope_refused: int = 0

    def count_unauthorized(self, scope: bool = False) -> None:
        with self._lock:
            self.unauthorized += 1
            self.scope_refused += scope

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.statuses.clear()
            self.faults.clear()
            self.rate_limited = self.unauthorized = self.scope_refused = 0


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


class ApiError(Exception):
    def __init__(self, status: int, code: str, title: str, detail: str | None = None) -> None:
        super().__init__(title)
        self.status, self.code, self.title, self.detail = status, code, title, detail


def bad_param(title: str) -> ApiError:
    return ApiError(400, "INVALID_REQUEST_PARAMETER", title)


# --------------------------------------------------------------------------------------------
# small helpers


def to_ms(t: dt.datetime) -> int:
    return int(t.timestamp() * 1000)


def iso_ms(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def scope_name(scope: str) -> str:
    """``read:label:confluence`` → ``read:label`` (the simulator's name of a scope)."""
    return scope.strip().removesuffix(":confluence")


def from_ms(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


def plus_title(title: str) -> str:
    """The title as the world writes it in page URLs (runs of other characters become ``+``)."""
    return re.sub(r"[^A-Za-z0-9]+", "+", title).strip("+")


def tiny(content_id: int) -> str:
    """A Confluence-style tiny link: the id's little-endian bytes, base64, trimmed."""
    raw = content_id.to_bytes(8, "little").rstrip(b"\0")
    return "/x/" + base64.b64encode(raw).decode().rstrip("=").replace("/", "-").replace("+", "_").rstrip("A")


def account_id(email: str) -> str:
    """The simulated Atlassian account id of a person (24 hex characters, stable per email)."""
    return hashlib.sha256(f"atlassian-account:{email.lower()}".encode()).hexdigest()[:24]


def label_id_of(name: str) -> int:
    return 1_000_000 + int(hashlib.sha256(f"label:{name}".encode()).hexdigest()[:8], 16) % 900_000_000
