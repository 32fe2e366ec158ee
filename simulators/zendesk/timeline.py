"""One ticket's history as data: its audits, comments, ratings and calls, the actions a mutation
appends, and the :class:`Context` (world, id ranges) a history is built in."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from simulators.world import Account, Article, World

from . import catalog as cat
from .plan import (
    CHANNELS,
)
from .texts import (
    by_area,
    link,
    render_html,
)

# --------------------------------------------------------------------------------------------
# The full history of one ticket


@dataclass(slots=True)
class Comment:
    id: int
    audit_seq: int
    time: int
    author_id: int
    public: bool
    parts: list[str | Article]
    channel: str
    voice: bool = False
    _body: str | None = None

    @property
    def body(self) -> str:
        if self._body is None:
            self._body = "".join(link(p)[0] if isinstance(p, Article) else p for p in self.parts)
        return self._body

    @property
    def html_body(self) -> str:
        return render_html(self.parts)


@dataclass(slots=True)
class Audit:
    seq: int
    time: int
    author_id: int
    via: str
    """The via channel (``web``, ``email``, ``voice``, ``rule``, ...)."""
    changes: list[tuple[str, object, object]]
    create: bool = False
    comment: Comment | None = None
    rating: Rating | None = None
    merged_into: int | None = None


@dataclass(slots=True)
class Rating:
    k: int
    id: int
    score: str
    comment: str | None
    reason: str | None
    reason_code: int | None
    time: int
    assignee_id: int | None
    group_id: int | None


@dataclass(slots=True)
class Call:
    k: int
    id: int
    created: int
    updated: int
    agent_id: int | None
    ticket_id: int | None
    completion_status: str
    direction: str
    wait_time: int
    talk_time: int
    hold_time: int
    wrap_up_time: int
    ivr_time_spent: int
    customer_id: int
    phone: str
    outside_business_hours: bool


@dataclass(frozen=True, slots=True)
class Action:
    """A change a simulator mutation makes to a ticket."""

    time: int
    code: int
    salt: int


ACT_UPDATE, ACT_DELETE, ACT_RERATE = 1, 2, 3


@dataclass(slots=True)
class TicketHistory:
    id: int
    created: int
    channel: int
    account: Account
    requester_id: int
    submitter_id: int
    organization_id: int
    priority: str
    type: str | None
    subject: str
    product_area: str
    onboarding: bool
    sf_account_value: str | None
    form_id: int
    via_from: dict[str, object]
    status: str = "new"
    group_id: int | None = None
    assignee_id: int | None = None
    escalation: str | None = None
    tags: list[str] = field(default_factory=list)
    audits: list[Audit] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    status_log: list[tuple[int, str]] = field(default_factory=list)
    ratings: list[Rating] = field(default_factory=list)
    offered_at: int | None = None
    calls: list[Call] = field(default_factory=list)
    replies: int = 0
    reopens: int = 0
    group_stations: int = 0
    assignee_stations: int = 0
    first_reply_at: int | None = None
    first_solved_at: int | None = None
    solved_at: int | None = None
    initially_assigned_at: int | None = None
    assigned_at: int | None = None
    assignee_updated_at: int | None = None
    requester_updated_at: int | None = None
    status_updated_at: int = 0
    latest_comment_added_at: int = 0
    merged_into: int | None = None

    @property
    def updated(self) -> int:
        return self.audits[-1].time

    @property
    def via_channel(self) -> str:
        return "web" if self.channel == 8 else CHANNELS[self.channel]

    @property
    def description(self) -> str:
        return self.comments[0].body

    @property
    def segment(self) -> str:
        return self.account.segment


class Context:
    """Everything :func:`build_history` needs besides the ticket's own numbers."""

    def __init__(self, seed: int, world: World) -> None:
        self.seed = seed
        self.world = world
        weights = {"Enterprise": 6.0, "Mid-Market": 2.5, "Commercial": 1.0}
        self.account_bounds: list[float] = []
        acc = 0.0
        for account in world.accounts:
            acc += weights[account.segment]
            self.account_bounds.append(acc)
        self.customers_by_account: dict[int, list[int]] = {}
        for c in world.customers:
            self.customers_by_account.setdefault(c.account_index, []).append(c.index)
        self.agent_ids = {tier: [agent_user_id(a.index) for a in world.agents_in_tier(tier)] for tier in (1, 2, 3)}
        self.all_agent_ids = frozenset(agent_user_id(a.index) for a in world.agents)
        self.kb = by_area(world.articles_in("confluence", "SUP"))
        self.runbooks = by_area(world.articles_in("confluence", "RUN"))
        self.guide = by_area(world.articles_in("zendesk_guide"))
        self.sf_unset = frozenset(a.index for a in world.accounts if (a.index * 2_654_435_761 + seed) % 100 < 6)

    def pick_account(self, u: float) -> Account:
        i = bisect.bisect_right(self.account_bounds, u * self.account_bounds[-1])
        return self.world.accounts[min(i, len(self.world.accounts) - 1)]


def agent_user_id(agent_index: int) -> int:
    return cat.USER_BASE + cat.AGENT_OFFSET + agent_index


def customer_user_id(customer_index: int) -> int:
    return cat.USER_BASE + cat.CUSTOMER_OFFSET + customer_index


def organization_id(account_index: int) -> int:
    return cat.ORG_BASE + 1 + account_index
