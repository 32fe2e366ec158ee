"""Each ticket's life, generated on demand from ``(seed, ticket id, version)``.

Two levels keep a million tickets cheap:

* :func:`~.plan.plan_ticket` — a handful of numbers per ticket (creation time, last update,
  outcome kind, channel, resolution offset) computed for every ticket at construction and
  kept in compact ``array`` columns. They fix the ticket's ordering in the exports.
* :func:`build_history` — the full timeline of one ticket (audits, comments, status changes,
  satisfaction ratings, calls), generated only when a page needs it. It fits inside the
  planned ``[created, updated]`` window, so both levels always agree.

A simulator mutation appends :class:`Action` items to a ticket; the history of a later version
is the history of version 0 with those actions applied in order, so what was already exported
never changes.
"""

from __future__ import annotations

from collections.abc import Callable

from simulators.world import Article, weighted

from . import catalog as cat
from ._util import DAY, HOUR, rng_for
from .plan import (
    CLOSED,
    CLOSED_UNSOLVED,
    DELETED,
    FLAG_OFFERED,
    FLAG_RATED,
    FLAG_RERATED,
    HOLD,
    KIND_MASK,
    MERGED,
    NEW,
    OPEN,
    PENDING,
    REOPENED,
    SOLVED,
    VOICE,
    log1m,
    offer_delay,
    rate_delay,
    rerate_delay,
)
from .texts import (
    BAD_COMMENTS,
    BAD_REASONS,
    CLOSINGS,
    GOOD_COMMENTS,
    PROBLEM_KEYS,
    PROBLEMS,
    article,
)
from .timeline import (
    ACT_DELETE,
    ACT_RERATE,
    Action,
    Audit,
    Call,
    Comment,
    Context,
    Rating,
    TicketHistory,
    customer_user_id,
    organization_id,
)

_MEAN_FIRST_REPLY = 45 * 60
"""When the first reply does not solve the ticket, it comes sooner than the resolution."""

_pick_priority = weighted((("low", 0.2), ("normal", 0.55), ("high", 0.18), ("urgent", 0.07)))
_pick_type = weighted((("question", 0.4), ("incident", 0.35), ("problem", 0.05), ("task", 0.1), (None, 0.1)))
_pick_tier = weighted(((1, 0.85), (2, 0.12), (3, 0.03)))


class _Builder:
    """Appends audits to a history and keeps its state and metrics up to date."""

    def __init__(self, ctx: Context, h: TicketHistory, draw: Callable[[], float]) -> None:
        self.ctx = ctx
        self.h = h
        self.draw = draw

    # --- bookkeeping ------------------------------------------------------------------------
    def audit(self, t: int, author: int, via: str, changes: list[tuple[str, object, object]]) -> Audit:
        h = self.h
        t = max(t, h.audits[-1].time) if h.audits else t
        audit = Audit(len(h.audits), t, author, via, changes)
        h.audits.append(audit)
        return audit

    def status(self, audit: Audit, new: str) -> None:
        h = self.h
        old = h.status
        if old == new:
            return
        audit.changes.append(("status", new, old))
        if old == "solved" and new == "open":
            h.reopens += 1
        if new == "solved":
            h.solved_at = audit.time
            if h.first_solved_at is None:
                h.first_solved_at = audit.time
        h.status = new
        h.status_updated_at = audit.time
        h.status_log.append((audit.time, new))

    def comment(self, audit: Audit, public: bool, parts: list[str | Article], voice: bool = False) -> None:
        h = self.h
        seq = len(h.comments)
        c = Comment(
            cat.COMMENT_BASE + (h.id << cat.SEQ_BITS) + seq,
            audit.seq,
            audit.time,
            audit.author_id,
            public,
            parts,
            audit.via,
            voice,
        )
        audit.comment = c
        h.comments.append(c)
        h.latest_comment_added_at = audit.time
        if audit.author_id == h.requester_id:
            h.requester_updated_at = audit.time
        elif audit.author_id in self.ctx.all_agent_ids:
            if public:
                h.replies += 1
                if h.first_reply_at is None:
                    h.first_reply_at = audit.time
            if audit.author_id == h.assignee_id:
                h.assignee_updated_at = audit.time

    def assign(self, audit: Audit, tier: int) -> None:
        h = self.h
        agents = self.ctx.agent_ids[tier]
        group_id = cat.TIER_GROUP_IDS[tier]
        assignee = agents[int(self.draw() * len(agents)) % len(agents)]
        if group_id != h.group_id:
            audit.changes.append(("group_id", group_id, h.group_id))
            h.group_id = group_id
            h.group_stations += 1
        if assignee != h.assignee_id:
            audit.changes.append(("assignee_id", assignee, h.assignee_id))
            h.assignee_id = assignee
            h.assignee_stations += 1
            h.assigned_at = audit.time
            if h.initially_assigned_at is None:
                h.initially_assigned_at = audit.time
            h.assignee_updated_at = audit.time

    # --- steps ----------------------------------------------------------------------------
    def agent_reply(self, t: int, new_status: str, links: bool = True) -> Audit:
        h = self.h
        author = h.assignee_id or self.ctx.agent_ids[1][0]
        audit = self.audit(t, author, "web", [])
        name = self.ctx.world.customers[h.requester_id - cat.USER_BASE - cat.CUSTOMER_OFFSET].name.split()[0]
        parts: list[str | Article] = [f"Hi {name},\n\n"]
        if new_status == "solved":
            parts.append("This should now be fixed on our side. ")
        elif new_status == "pending":
            parts.append("Thanks for the details. Could you confirm whether this still happens after a fresh sign-in? ")
        else:
            parts.append("We are looking into this with our engineers and will update you shortly. ")
        if links:
            u1, u2 = self.draw(), self.draw()
            if u1 < 0.35:
                parts += ["This article walks through it: ", article(u2, self.ctx.kb, h.product_area), " "]
            if u2 < 0.25:
                parts += ["See also our help center: ", article(u1, self.ctx.guide, h.product_area), " "]
        parts.append(f"\n\n{CLOSINGS[int(self.draw() * 4) % 4]},\nSupport")
        self.comment(audit, True, parts)
        self.status(audit, new_status)
        return audit

    def customer_reply(self, t: int) -> Audit:
        h = self.h
        via = "email" if h.channel == VOICE else h.via_channel
        audit = self.audit(t, h.requester_id, via, [])
        if h.status == "solved":
            text = "Sorry, this is happening again since this morning."
        else:
            text = "Thanks. Yes, it still happens. I attached a screenshot."
        self.comment(audit, True, [text])
        self.status(audit, "open")
        return audit

    def internal_note(self, t: int, text: str, runbook: bool) -> Audit:
        h = self.h
        audit = self.audit(t, h.assignee_id or self.ctx.agent_ids[1][0], "web", [])
        parts: list[str | Article] = [text]
        if runbook:
            parts += [" Following ", article(self.draw(), self.ctx.runbooks, h.product_area)]
        self.comment(audit, False, parts)
        return audit


def _start(ctx: Context, ticket_id: int, created: int, channel: int) -> tuple[TicketHistory, _Builder]:
    r = rng_for(ctx.seed, 7, ticket_id).random
    account = ctx.pick_account(r())
    customers = ctx.customers_by_account[account.index]
    customer = ctx.world.customers[customers[int(r() * len(customers)) % len(customers)]]
    priority: str = _pick_priority(r())
    ticket_type: str | None = _pick_type(r())
    area = PROBLEM_KEYS[int(r() * len(PROBLEM_KEYS)) % len(PROBLEM_KEYS)]
    onboarding = r() < 0.08
    requester = customer_user_id(customer.index)
    via_from: dict[str, object] = {}
    if channel == VOICE:
        via_from = {"formatted_phone": customer.phone, "phone": customer.phone, "name": customer.name}
    elif channel in (1, 8):
        via_from = {"address": customer.email, "name": customer.name}
    sf_value = None if account.index in ctx.sf_unset else account.salesforce_id
    h = TicketHistory(
        id=ticket_id,
        created=created,
        channel=channel,
        account=account,
        requester_id=requester,
        submitter_id=requester,
        organization_id=organization_id(account.index),
        priority=priority,
        type=ticket_type,
        subject=PROBLEMS[area][0],
        product_area=area,
        onboarding=onboarding,
        sf_account_value=sf_value,
        form_id=cat.FORM_TECHNICAL if area in ("api", "integrations") else cat.FORM_DEFAULT,
        via_from=via_from,
    )
    return h, _Builder(ctx, h, r)


def _create(b: _Builder, tier: int) -> None:
    """The creating audit: requester's description, or the agent's call note for phone tickets."""
    h = b.h
    area_detail = PROBLEMS[h.product_area][1]
    h.tags = [cat.SEGMENT_TAGS[h.segment], h.product_area]
    if h.segment == "Enterprise":
        h.tags.append("vip")
    if h.onboarding:
        h.tags.append("onboarding")
    h.tags.sort()
    if h.channel == VOICE:
        agents = b.ctx.agent_ids[tier]
        agent = agents[int(b.draw() * len(agents)) % len(agents)]
        h.submitter_id = agent
        audit = b.audit(h.created, agent, "voice", [])
        audit.create = True
        _initial_status(audit, h, "open")
        _assign_to(b, audit, tier, agent)
        _create_fields(audit, h)
        b.comment(audit, False, [f"Call from {h.via_from['phone']}. Caller reports: {area_detail}."], voice=True)
    else:
        via = h.via_channel
        audit = b.audit(h.created, h.requester_id, via, [])
        audit.create = True
        _initial_status(audit, h, "new")
        group_id = cat.TIER_GROUP_IDS[tier]
        audit.changes.append(("group_id", group_id, None))
        h.group_id = group_id
        h.group_stations = 1
        _create_fields(audit, h)
        name = b.ctx.world.customers[h.requester_id - cat.USER_BASE - cat.CUSTOMER_OFFSET].name
        b.comment(audit, True, [f"Hello,\n\n{area_detail[0].upper()}{area_detail[1:]}. Can you help?\n\n{name}"])


def _initial_status(audit: Audit, h: TicketHistory, status: str) -> None:
    audit.changes.append(("status", status, None))
    h.status = status
    h.status_updated_at = audit.time
    h.status_log.append((audit.time, status))


def _create_fields(audit: Audit, h: TicketHistory) -> None:
    audit.changes += [
        ("subject", h.subject, None),
        ("priority", h.priority, None),
        ("type", h.type, None),
        ("requester_id", h.requester_id, None),
        ("tags", list(h.tags), None),
    ]


def _assign_to(b: _Builder, audit: Audit, tier: int, agent: int) -> None:
    h = b.h
    group_id = cat.TIER_GROUP_IDS[tier]
    audit.changes.append(("group_id", group_id, None))
    audit.changes.append(("assignee_id", agent, None))
    h.group_id = group_id
    h.assignee_id = agent
    h.group_stations = 1
    h.assignee_stations = 1
    h.assigned_at = h.initially_assigned_at = h.assignee_updated_at = audit.time


def _at(created: int, offset: int, fraction: float) -> int:
    return created + int(offset * fraction)


def build_history(
    ctx: Context,
    ticket_id: int,
    created: int,
    kind_byte: int,
    channel: int,
    solve: int,
    last: int,
    actions: tuple[Action, ...] = (),
    floor: int = 0,
) -> TicketHistory:
    """The full history of a ticket at the version given by ``actions``.

    ``floor`` is the earliest time anything of the ticket may carry (tickets a mutation
    creates must not have calls from before the mutation).
    """
    h, b = _start(ctx, ticket_id, created, channel)
    kind = kind_byte & KIND_MASK
    tier: int = _pick_tier(b.draw())
    fcr = b.draw() < (0.8 if channel == VOICE else 0.62)
    escalate = (not fcr) and b.draw() < 0.25 and tier < 3
    _create(b, tier)
    c = created
    if kind == NEW:
        pass
    elif kind in (OPEN, PENDING, HOLD):
        _unsolved(b, kind, c, last)
    elif kind in (SOLVED, CLOSED, REOPENED):
        _solved(b, kind, c, solve, tier, fcr, escalate)
        _rate(b, kind_byte, c + solve)
        if kind != SOLVED:
            audit = b.audit(c + last, -1, "rule", [])
            b.status(audit, "closed")
    elif kind == MERGED:
        _assign_if_needed(b, _at(c, last, 0.3), tier)
        target = ticket_id - 1 - int(b.draw() * 50) if ticket_id > 51 else ticket_id + 1
        audit = b.audit(c + last, h.assignee_id or -1, "web", [])
        audit.merged_into = target
        h.merged_into = target
        h.tags = sorted({*h.tags, "closed_by_merge"})
        audit.changes.append(("tags", list(h.tags), None))
        b.comment(audit, False, [f"This request was closed and merged into request #{target}."])
        b.status(audit, "closed")
    elif kind == CLOSED_UNSOLVED:
        _assign_if_needed(b, _at(c, last, 0.2), tier)
        audit = b.audit(c + last, h.assignee_id or -1, "web", [])
        h.tags = sorted({*h.tags, "spam"})
        audit.changes.append(("tags", list(h.tags), None))
        b.status(audit, "closed")
    elif kind == DELETED:
        _assign_if_needed(b, _at(c, last, 0.5), tier)
        audit = b.audit(c + last, h.assignee_id or -1, "web", [])
        b.status(audit, "deleted")
    if h.updated < c + last:  # nothing else happened: an agent looked at it at the planned time
        b.internal_note(c + last, "Investigating.", False)
    _calls(h, b.draw, floor)
    for action in actions:
        apply_action(ctx, b, action)
    return h


def _assign_if_needed(b: _Builder, t: int, tier: int) -> None:
    if b.h.assignee_id is None:
        audit = b.audit(t, -1, "web", [])
        b.assign(audit, tier)
        audit.author_id = b.h.assignee_id or -1  # the agent took the ticket
        b.status(audit, "open")


def _unsolved(b: _Builder, kind: int, c: int, last: int) -> None:
    h = b.h
    replied = kind != OPEN or b.draw() < 0.6
    if not replied:
        _assign_if_needed(b, c + last, _tier_of(h))
        return
    _assign_if_needed(b, _at(c, last, 0.1), _tier_of(h))
    if kind == PENDING:
        b.agent_reply(c + last, "pending")
        return
    b.agent_reply(_at(c, last, 0.4), "pending")
    if kind == OPEN:
        b.customer_reply(c + last)
        return
    b.customer_reply(_at(c, last, 0.7))
    audit = b.internal_note(c + last, "Waiting for engineering; putting this on hold.", b.draw() < 0.5)
    b.status(audit, "hold")


def _tier_of(h: TicketHistory) -> int:
    for tier, group_id in cat.TIER_GROUP_IDS.items():
        if group_id == h.group_id:
            return tier
    return 1


_PORTAL_CHANNELS = (3, 8)
"""web and help_center (see plan.CHANNELS)."""
_SELF_SERVICE_SHARE = 0.6
"""Of the portal tickets solved at first contact, those the requester solves alone."""


def _solved(b: _Builder, kind: int, c: int, solve: int, tier: int, fcr: bool, escalate: bool) -> None:
    h = b.h
    _assign_if_needed(b, _at(c, solve, 0.05), tier)
    if kind == REOPENED:
        b.agent_reply(_at(c, solve, 0.3), "solved")
        b.customer_reply(_at(c, solve, 0.55))
        b.agent_reply(_at(c, solve, 0.75), "pending")
        b.customer_reply(_at(c, solve, 0.85))
    elif fcr and h.channel in _PORTAL_CHANNELS and b.draw() < _SELF_SERVICE_SHARE:
        # Self-service: the requester finds the answer in the help center and marks the request
        # solved; no agent ever replies (answer bot / help-center deflection).
        audit = b.audit(c + solve, h.requester_id, h.via_channel, [])
        b.comment(
            audit, True, ["Found it in the help center, thanks: ", article(b.draw(), b.ctx.guide, h.product_area)]
        )
        b.status(audit, "solved")
        return
    elif not fcr:
        first_reply = 120 + int(-_MEAN_FIRST_REPLY * log1m(b.draw()))
        b.agent_reply(c + min(int(solve * 0.25), first_reply), "pending")
        b.customer_reply(_at(c, solve, 0.5))
        if escalate:
            audit = b.internal_note(_at(c, solve, 0.6), "Escalating to the next tier.", b.draw() < 0.6)
            b.assign(audit, tier + 1)
            h.escalation = cat.ESCALATION_REASONS[int(b.draw() * 4) % 4]
            audit.changes.append((str(cat.FIELD_ESCALATION), h.escalation, None))
            b.status(audit, "open")
        if b.draw() < 0.3:
            audit = b.internal_note(_at(c, solve, 0.7), "Checked the logs; waiting on a fix.", b.draw() < 0.4)
            b.status(audit, "hold")
    b.agent_reply(c + solve, "solved")


def _rate(b: _Builder, kind_byte: int, solved: int) -> None:
    h = b.h
    if kind_byte & FLAG_OFFERED or kind_byte & FLAG_RATED:
        audit = b.audit(solved + offer_delay(h.id), -1, "rule", [("satisfaction_score", "offered", "unoffered")])
        h.offered_at = audit.time
        if not kind_byte & FLAG_RATED:
            _add_rating(b, audit, "offered")
    if kind_byte & FLAG_RATED:
        good = b.draw() < 0.88
        audit = b.audit(solved + rate_delay(h.id), h.requester_id, "web", [])
        _add_rating(b, audit, "good" if good else "bad")
    if kind_byte & FLAG_RERATED:
        audit = b.audit(solved + rerate_delay(h.id), h.requester_id, "web", [])
        previous = h.ratings[-1].score
        _add_rating(b, audit, "bad" if previous == "good" else "good")


def _add_rating(b: _Builder, audit: Audit, score: str) -> None:
    h = b.h
    k = len(h.ratings)
    comment = reason = None
    reason_code: int | None = None
    if score in ("good", "bad") and b.draw() < 0.4:
        pool = GOOD_COMMENTS if score == "good" else BAD_COMMENTS
        comment = pool[int(b.draw() * 3) % 3]
    if score == "bad":
        reason, reason_code = BAD_REASONS[int(b.draw() * 3) % 3]
    rating = Rating(
        k, cat.RATING_BASE + (h.id << 3) + k, score, comment, reason, reason_code, audit.time, h.assignee_id, h.group_id
    )
    h.ratings.append(rating)
    audit.rating = rating
    previous = h.ratings[-2].score if k else ("offered" if h.offered_at else "unoffered")
    if previous != score:
        audit.changes.append(("satisfaction_score", score, previous))


def _calls(h: TicketHistory, r: Callable[[], float], floor: int) -> None:
    """Talk calls: the call that created a phone ticket, and now and then an abandoned one before it."""
    if h.channel != VOICE:
        return
    if r() < 0.04:
        return  # created from a voicemail transcript forwarded by email: no call record
    phone = str(h.via_from["phone"])
    ivr = 10 + int(r() * 40)
    wait = 5 + int(r() * 240)
    talk = 90 + int(r() * 900)
    hold = int(r() * 120) if r() < 0.3 else 0
    wrap = 30 + int(r() * 240)
    if h.created - ivr - wait - 30 < floor:  # a ticket created right after a mutation began
        ivr, wait = 10, 5
    start = max(h.created - ivr - wait - 30, floor)
    # the call ends, and is wrapped up, before the ticket's next update
    room = (h.audits[1].time if len(h.audits) > 1 else h.created + talk + hold + wrap) - h.created
    if talk + hold + wrap - 30 > room:
        talk, hold, wrap = max(30, room // 2), 0, max(1, room // 4)
    end = start + ivr + wait + talk + hold
    h.calls.append(_call(h, 0, start, end + wrap, h.submitter_id, "completed", wait, talk, hold, wrap, ivr, phone))
    if r() < 0.06 and start - 3600 > floor:
        early = start - 1800 - int(r() * 1800)
        q_wait = 60 + int(r() * 300)
        h.calls.append(
            _call(h, 1, early, early + ivr + q_wait, None, "abandoned_in_queue", q_wait, 0, 0, 0, ivr, phone)
        )
        h.calls.sort(key=lambda call: call.updated)


def _call(
    h: TicketHistory, k: int, start: int, updated: int, agent: int | None, status: str,
    wait: int, talk: int, hold: int, wrap: int, ivr: int, phone: str,
) -> Call:  # fmt: skip
    seconds = start % DAY
    weekday = (start // DAY + 3) % 7
    outside = weekday >= 5 or not 9 * HOUR <= seconds < 17 * HOUR
    return Call(
        k, cat.CALL_BASE + (h.id << 2) + k, start, updated, agent, h.id if agent else None, status, "inbound",
        wait, talk, hold, wrap, ivr, h.requester_id, phone, outside,
    )  # fmt: skip


def apply_action(ctx: Context, b: _Builder, action: Action) -> None:
    """One mutation step, at ``action.time``: a reply, a solve, a reopen, a close, a rating, a deletion."""
    h = b.h
    r = rng_for(ctx.seed, 11, h.id, action.salt).random
    t = action.time
    if action.code == ACT_DELETE:
        audit = b.audit(t, cat.USER_BASE + cat.ADMIN_OFFSET, "web", [])
        b.status(audit, "deleted")
        return
    if action.code == ACT_RERATE:
        audit = b.audit(t, h.requester_id, "web", [])
        previous = h.ratings[-1].score if h.ratings else "offered"
        _add_rating(b, audit, "bad" if previous == "good" else "good")
        return
    status = h.status
    if status == "new":
        _assign_if_needed(b, t, _tier_of(h))
        b.agent_reply(t, "solved" if r() < 0.4 else "pending")
    elif status == "open":
        b.agent_reply(t, "solved" if r() < 0.5 else "pending")
    elif status == "pending":
        b.customer_reply(t)
    elif status == "hold":
        b.agent_reply(t, "solved" if r() < 0.6 else "open")
    elif status == "solved":
        if r() < 0.5:
            b.customer_reply(t)
        else:
            audit = b.audit(t, -1, "rule", [])
            b.status(audit, "closed")
