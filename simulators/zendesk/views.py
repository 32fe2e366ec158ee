"""API representations of a ticket's history, in the shapes of the Zendesk reference docs.

* Tickets — https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/
* Ticket metrics (side-loaded ``metric_sets``) — .../tickets/ticket_metrics/
* Ticket events with ``comment_events`` — .../ticket-management/incremental_exports/
  (#incremental-ticket-event-export) and the Ticket Audit events reference
* Ticket metric events — .../tickets/ticket_metric_events/ and the ticket metric event
  types reference (activate, pause, fulfill, apply_sla, breach, update_status)
* Satisfaction ratings — .../ticket-management/satisfaction_ratings/
* Talk incremental calls — https://developer.zendesk.com/api-reference/voice/talk-api/incremental_exports/
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import catalog as cat
from ._util import business_before, business_seconds, iso, minutes
from .plan import VOICE
from .timeline import Audit, Call, Comment, Rating, TicketHistory

_VIA_NAMES = {
    "web": "Web form",
    "email": "Mail",
    "voice": "Voice",
    "chat": "Chat",
    "api": "Web service",
    "twitter": "Twitter",
    "facebook": "Facebook",
    "whatsapp": "WhatsApp",
    "rule": "Rule",
}
_CUSTOM_STATUS = {"new": 1, "open": 2, "pending": 3, "hold": 4, "solved": 5, "closed": 5, "deleted": 5}


def _source(h: TicketHistory) -> dict[str, Any]:
    if h.channel == VOICE:
        to: dict[str, Any] = {"formatted_phone": "+1 (800) 555-0100", "phone": cat.SUPPORT_LINE}
        return {"from": h.via_from, "to": to, "rel": "inbound"}
    if h.channel in (1, 8):
        return {"from": h.via_from, "to": {"address": "support@supportlake-demo.com", "name": "Support"}, "rel": None}
    return {"from": h.via_from, "to": {}, "rel": None}


def satisfaction_summary(h: TicketHistory) -> dict[str, Any]:
    """The ticket's ``satisfaction_rating`` property."""
    if not h.ratings:
        return {"score": "offered"} if h.offered_at else {"score": "unoffered"}
    last = h.ratings[-1]
    if last.score == "offered":
        return {"id": last.id, "score": "offered"}
    return {"id": last.id, "score": last.score, "comment": last.comment, "reason": last.reason}


def custom_fields(h: TicketHistory) -> list[dict[str, Any]]:
    return [
        {"id": cat.FIELD_PRODUCT_AREA, "value": h.product_area},
        {"id": cat.FIELD_SF_ACCOUNT, "value": h.sf_account_value},
        {"id": cat.FIELD_ONBOARDING, "value": h.onboarding},
        {"id": cat.FIELD_ESCALATION, "value": h.escalation},
    ]


def ticket_json(h: TicketHistory) -> dict[str, Any]:
    """A ticket as the incremental ticket export returns it (deleted ones with status ``deleted``)."""
    fields = custom_fields(h)
    updated = h.updated
    return {
        "url": f"{cat.SUBDOMAIN_URL}/api/v2/tickets/{h.id}.json",
        "id": h.id,
        "external_id": None,
        "via": {"channel": h.via_channel, "source": _source(h)},
        "created_at": iso(h.created),
        "updated_at": iso(updated),
        "generated_timestamp": updated,
        "type": h.type,
        "subject": h.subject,
        "raw_subject": h.subject,
        "description": h.description,
        "priority": h.priority,
        "status": h.status,
        "recipient": "support@supportlake-demo.com" if h.channel in (1, 8) else None,
        "requester_id": h.requester_id,
        "submitter_id": h.submitter_id,
        "assignee_id": h.assignee_id,
        "organization_id": h.organization_id,
        "group_id": h.group_id,
        "collaborator_ids": [],
        "follower_ids": [],
        "email_cc_ids": [],
        "forum_topic_id": None,
        "problem_id": None,
        "has_incidents": False,
        "is_public": any(c.public for c in h.comments),
        "due_at": None,
        "tags": list(h.tags),
        "custom_fields": fields,
        "fields": fields,
        "satisfaction_rating": satisfaction_summary(h),
        "sharing_agreement_ids": [],
        "custom_status_id": cat.FORM_BASE + 100 + _CUSTOM_STATUS[h.status],
        "followup_ids": [],
        "ticket_form_id": h.form_id,
        "brand_id": cat.BRAND_ID,
        "allow_channelback": False,
        "allow_attachments": True,
        "from_messaging_channel": h.channel in (2, 7),
    }


_NONE_PAIR = {"calendar": None, "business": None}


class _Business:
    """Business seconds before each time, computed once per time (metric sets reuse boundaries)."""

    def __init__(self) -> None:
        self.seen: dict[int, int] = {}

    def before(self, t: int) -> int:
        value = self.seen.get(t)
        if value is None:
            value = self.seen[t] = business_before(t)
        return value

    def pair(self, start: int, end: int | None) -> dict[str, int | None]:
        """Calendar and business minutes from ``start`` to ``end`` (nulls when it has not happened)."""
        if end is None:
            return dict(_NONE_PAIR)
        return {"calendar": minutes(end - start), "business": minutes(self.before(end) - self.before(start))}


def _time_in_statuses(h: TicketHistory, end: int, business: _Business) -> dict[str, list[int]]:
    """Calendar and business seconds the ticket spent in each status up to ``end``."""
    spent: dict[str, list[int]] = {}
    log = h.status_log
    last = len(log) - 1
    for i, (start, status) in enumerate(log):
        stop = min(log[i + 1][0] if i < last else end, end)
        if stop > start:
            acc = spent.setdefault(status, [0, 0])
            acc[0] += stop - start
            acc[1] += business.before(stop) - business.before(start)
    return spent


def _minutes_in(spent: dict[str, list[int]], *statuses: str) -> dict[str, int | None]:
    cal = bus = 0
    for status in statuses:
        acc = spent.get(status)
        if acc is not None:
            cal += acc[0]
            bus += acc[1]
    return {"calendar": minutes(cal), "business": minutes(bus)}


def metric_set_json(h: TicketHistory) -> dict[str, Any]:
    """The ticket's metric set (Ticket Metrics JSON), side-loaded by ``include=metric_sets``."""
    c = h.created
    solved = h.solved_at if h.status in ("solved", "closed") else None
    reply = h.first_reply_at
    business = _Business()
    spent = _time_in_statuses(h, solved or h.updated, business)
    set_id = cat.METRIC_SET_BASE + h.id
    return {
        "url": f"{cat.SUBDOMAIN_URL}/api/v2/ticket_metrics/{set_id}.json",
        "id": set_id,
        "ticket_id": h.id,
        "created_at": iso(c),
        "updated_at": iso(h.updated),
        "group_stations": h.group_stations,
        "assignee_stations": h.assignee_stations,
        "reopens": h.reopens,
        "replies": h.replies,
        "assignee_updated_at": _iso_or_none(h.assignee_updated_at),
        "requester_updated_at": _iso_or_none(h.requester_updated_at),
        "status_updated_at": iso(h.status_updated_at),
        "initially_assigned_at": _iso_or_none(h.initially_assigned_at),
        "assigned_at": _iso_or_none(h.assigned_at),
        "solved_at": _iso_or_none(solved),
        "latest_comment_added_at": iso(h.latest_comment_added_at),
        "custom_status_updated_at": iso(h.status_updated_at),
        "reply_time_in_seconds": {"calendar": None if reply is None else reply - c},
        "reply_time_in_minutes": business.pair(c, reply),
        "first_resolution_time_in_minutes": business.pair(c, h.first_solved_at),
        "full_resolution_time_in_minutes": business.pair(c, solved),
        "agent_wait_time_in_minutes": _minutes_in(spent, "pending"),
        "requester_wait_time_in_minutes": _minutes_in(spent, "new", "open", "hold"),
        "on_hold_time_in_minutes": _minutes_in(spent, "hold"),
    }


def _iso_or_none(ts: int | None) -> str | None:
    return None if ts is None else iso(ts)


def audit_id(ticket_id: int, seq: int) -> int:
    return cat.AUDIT_BASE + (ticket_id << cat.SEQ_BITS) + seq


def comment_child(c: Comment) -> dict[str, Any]:
    return {
        "id": c.id,
        "via": {"channel": c.channel, "source": {"from": {}, "to": {}, "rel": None}},
        "via_reference_id": None,
        "type": "VoiceComment" if c.voice else "Comment",
        "author_id": c.author_id,
        "body": c.body,
        "html_body": c.html_body,
        "plain_body": c.body,
        "public": c.public,
        "attachments": [],
        "audit_id": None,  # filled by audit_json
        "created_at": iso(c.time),
        "event_type": "Comment",
    }


def audit_json(h: TicketHistory, audit: Audit, include_comments: bool) -> dict[str, Any]:
    """One ticket event (an audit and its child events) of the incremental ticket event export."""
    a_id = audit_id(h.id, audit.seq)
    via = _VIA_NAMES[audit.via]
    child_base = cat.CHILD_BASE + (((h.id << cat.SEQ_BITS) + audit.seq) << 5)
    children: list[dict[str, Any]] = []
    kind = "Create" if audit.create else "Change"
    for j, (field_name, value, previous) in enumerate(audit.changes):
        child: dict[str, Any] = {"id": child_base + j, "via": via, "via_reference_id": None, field_name: value}
        if not audit.create:
            child["previous_value"] = previous
        child["event_type"] = kind
        children.append(child)
    if audit.comment is not None:
        if include_comments:
            comment = comment_child(audit.comment)
            comment["audit_id"] = a_id
            children.append(comment)
        elif children:
            children[0]["comment_present"] = True
            children[0]["comment_public"] = audit.comment.public
        else:
            children.append(
                {
                    "id": child_base + 30,
                    "via": via,
                    "via_reference_id": None,
                    "comment_present": True,
                    "comment_public": audit.comment.public,
                    "event_type": "Change",
                }
            )
    if audit.rating is not None and audit.rating.score != "offered":
        r = audit.rating
        children.append(
            {
                "id": child_base + 31,
                "via": via,
                "via_reference_id": None,
                "type": "SatisfactionRating",
                "score": r.score,
                "assignee_id": r.assignee_id,
                "body": r.comment or "",
                "event_type": "SatisfactionRating",
            }
        )
    event: dict[str, Any] = {
        "id": a_id,
        "ticket_id": h.id,
        "timestamp": audit.time,
        "created_at": iso(audit.time),
        "updater_id": audit.author_id,
        "via": via,
        "via_reference_id": None,
        # the browser and address of a web update; unknown (null) for mail, API and other channels
        "system": {
            "client": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)" if audit.via == "web" else None,
            "ip_address": f"203.0.113.{audit.author_id % 250 + 1}" if audit.via == "web" and audit.author_id else None,
        },
        "event_type": "Audit",
        "child_events": children,
    }
    if audit.merged_into is not None:
        event["merged_ticket_ids"] = [audit.merged_into]
    return event


def comment_record(h: TicketHistory, c: Comment) -> dict[str, Any]:
    """The flat comment row :meth:`ZendeskSimulator.records` gives for ``comments``."""
    return {
        "id": c.id,
        "ticket_id": h.id,
        "author_id": c.author_id,
        "body": c.body,
        "public": c.public,
        "created_at": iso(c.time),
    }


def rating_json(h: TicketHistory, r: Rating) -> dict[str, Any]:
    return {
        "url": f"{cat.SUBDOMAIN_URL}/api/v2/satisfaction_ratings/{r.id}.json",
        "id": r.id,
        "assignee_id": r.assignee_id,
        "group_id": r.group_id,
        "requester_id": h.requester_id,
        "ticket_id": h.id,
        "score": r.score,
        "comment": r.comment,
        "reason": r.reason,
        "reason_code": r.reason_code,
        "reason_id": r.reason_code,
        "created_at": iso(r.time),
        "updated_at": iso(r.time),
    }


def call_json(h: TicketHistory, call: Call) -> dict[str, Any]:
    duration = call.ivr_time_spent + call.wait_time + call.talk_time + call.hold_time
    return {
        "id": call.id,
        "created_at": iso(call.created),
        "updated_at": iso(call.updated),
        "agent_id": call.agent_id,
        "call_channel": "phone",
        "call_charge": "0.0",
        "call_group_id": h.group_id if call.agent_id else None,
        "call_recording_consent": "always",
        "call_recording_consent_action": None,
        "call_recording_consent_keypress": None,
        "callback": False,
        "callback_source": None,
        "completion_status": call.completion_status,
        "consultation_time": 0,
        "customer_id": call.customer_id,
        "customer_requested_voicemail": False,
        "default_group": True,
        "direction": call.direction,
        "duration": duration,
        "exceeded_queue_wait_time": call.wait_time > 180,
        "hold_time": call.hold_time,
        "ivr_action": "group",
        "ivr_destination_group_name": "Tier 1 Support",
        "ivr_hops": 1,
        "ivr_routed_to": cat.SUPPORT_LINE,
        "ivr_time_spent": call.ivr_time_spent,
        "line": cat.SUPPORT_LINE,
        "line_type": "phone",
        "minutes_billed": minutes(duration),
        "not_recording_time": 0,
        "outside_business_hours": call.outside_business_hours,
        "overflowed": False,
        "overflowed_to": None,
        "phone_number": cat.SUPPORT_LINE,
        "phone_number_id": cat.BRAND_ID + 7,
        "quality_issues": [],
        "recording_control_interactions": 0,
        "recording_time": call.talk_time,
        "talk_time": call.talk_time,
        "ticket_id": call.ticket_id,
        "time_to_answer": call.ivr_time_spent + call.wait_time if call.agent_id else None,
        "voicemail": False,
        "wait_time": call.wait_time,
        "wrap_up_time": call.wrap_up_time,
    }


# --------------------------------------------------------------------------------------------
# Ticket metric events


@dataclass(slots=True)
class MetricEvent:
    seq: int
    time: int
    metric: str
    instance_id: int
    type: str
    sla: dict[str, Any] | None = None
    status: dict[str, int] | None = None


class _Clock:
    """A pausable metric clock (requester wait, agent work)."""

    def __init__(self, start: int) -> None:
        self.running = True
        self.since = start
        self.calendar = 0
        self.business = 0
        self.fulfilled = False

    def stop(self, t: int) -> None:
        if self.running:
            self.calendar += t - self.since
            self.business += business_seconds(self.since, t)
            self.running = False

    def crossing(self, target: int, horizon: int) -> int | None:
        """When the running clock reaches ``target`` seconds, if by ``horizon``."""
        if not self.running:
            return None
        at = self.since + (target - self.calendar)
        return at if self.calendar < target and at <= horizon else None


class _MetricPass:
    """Derives the ticket metric events from a history, in time order."""

    def __init__(self, h: TicketHistory) -> None:
        self.h = h
        self.events: list[MetricEvent] = []
        targets = cat.SLA_TARGETS[h.segment]
        p = cat.PRIORITIES.index(h.priority)
        self.first_reply = targets.first_reply[p] * 60
        self.next_reply = targets.next_reply[p] * 60
        self.wait_target = targets.requester_wait[p] * 60
        policy_id = cat.SLA_POLICY_IDS[h.segment]
        self.policy = {
            "id": policy_id,
            "title": f"{h.segment} SLA",
            "description": f"Targets for {h.segment} customers",
        }
        self.reply_instance = 1
        self.reply_start: int | None = h.created
        self.reply_target = self.first_reply
        self.reply_breached = False
        self.wait = _Clock(h.created)
        self.wait_breached = False
        self.work = _Clock(h.created)
        self.updates_open = True

    def emit(self, t: int, metric: str, instance: int, kind: str, **extra: Any) -> None:
        self.events.append(MetricEvent(len(self.events), t, metric, instance, kind, **extra))

    def sla(self, target: int) -> dict[str, Any]:
        return {"target": target // 60, "target_in_seconds": target, "business_hours": False, "policy": self.policy}

    def run(self) -> list[MetricEvent]:
        h = self.h
        c = h.created
        for metric in (
            "agent_work_time",
            "pausable_update_time",
            "periodic_update_time",
            "reply_time",
            "requester_wait_time",
        ):
            self.emit(c, metric, 1, "activate")
        self.emit(c, "reply_time", 1, "apply_sla", sla=self.sla(self.first_reply))
        self.emit(c, "requester_wait_time", 1, "apply_sla", sla=self.sla(self.wait_target))
        for audit in h.audits:
            if any(f == "status" and v == "deleted" for f, v, _ in audit.changes):
                return self.events  # a deleted ticket measures nothing more
            self.breaches(audit.time, inclusive=False)
            self.step(audit)
        self.breaches(h.updated, inclusive=True)
        return self.events

    def breaches(self, t: int, inclusive: bool) -> None:
        if self.reply_start is not None and not self.reply_breached:
            deadline = self.reply_start + self.reply_target
            if deadline < t or (inclusive and deadline <= t):
                self.emit(deadline, "reply_time", self.reply_instance, "breach")
                self.reply_breached = True
        if not self.wait_breached and not self.wait.fulfilled:
            at = self.wait.crossing(self.wait_target, t if inclusive else t - 1)
            if at is not None:
                self.emit(at, "requester_wait_time", 1, "breach")
                self.wait_breached = True

    def step(self, audit: Audit) -> None:
        """Apply one audit: replies fulfil the reply clock, requester comments start the next one."""
        h = self.h
        t = audit.time
        comment = audit.comment
        if comment is not None and comment.public and audit.seq > 0:
            if comment.author_id == h.requester_id:
                if self.reply_start is None:
                    self.reply_instance += 1
                    self.reply_start = t
                    self.reply_target = self.next_reply
                    self.reply_breached = False
                    self.emit(t, "reply_time", self.reply_instance, "activate")
                    self.emit(t, "reply_time", self.reply_instance, "apply_sla", sla=self.sla(self.next_reply))
            elif self.reply_start is not None:
                elapsed = t - self.reply_start
                self.emit(t, "reply_time", self.reply_instance, "fulfill")
                self.emit(
                    t,
                    "reply_time",
                    self.reply_instance,
                    "update_status",
                    status={"calendar": minutes(elapsed), "business": minutes(business_seconds(self.reply_start, t))},
                )
                self.reply_start = None
        for field_name, value, _previous in audit.changes:
            if field_name == "status" and not audit.create:
                self.status(t, str(value))

    def status(self, t: int, new: str) -> None:
        wait, work = self.wait, self.work
        if new in ("solved", "closed"):
            self.reply_start = None  # a solved ticket waits for no reply
            for name, clock in (("requester_wait_time", wait), ("agent_work_time", work)):
                if not clock.fulfilled:
                    clock.stop(t)
                    clock.fulfilled = True
                    self.emit(t, name, 1, "fulfill")
                    self.emit(
                        t,
                        name,
                        1,
                        "update_status",
                        status={"calendar": minutes(clock.calendar), "business": minutes(clock.business)},
                    )
            if self.updates_open:
                self.updates_open = False
                self.emit(t, "pausable_update_time", 1, "fulfill")
                self.emit(t, "periodic_update_time", 1, "fulfill")
            return
        if new == "open" and wait.fulfilled:  # reopened
            wait.fulfilled = work.fulfilled = False
            wait.running = work.running = False
        wait_runs = new in ("new", "open", "hold")
        work_runs = new in ("new", "open")
        for name, clock, runs in (("requester_wait_time", wait, wait_runs), ("agent_work_time", work, work_runs)):
            if runs and not clock.running:
                clock.running = True
                clock.since = t
                self.emit(t, name, 1, "activate")
            elif not runs and clock.running:
                clock.stop(t)
                self.emit(t, name, 1, "pause")


def metric_events(h: TicketHistory) -> list[MetricEvent]:
    """The ticket's metric events, oldest first (ties in the order they happened).

    A later version of the ticket only appends to this list: its new audits come after the
    clock of the previous version, and so do the breaches they reveal.
    """
    events = sorted(_MetricPass(h).run(), key=lambda e: (e.time, e.seq))[: 1 << cat.SEQ_BITS]
    for seq, event in enumerate(events):
        event.seq = seq
    return events


def metric_event_id(ticket_id: int, seq: int) -> int:
    return cat.METRIC_EVENT_BASE + (ticket_id << cat.SEQ_BITS) + seq


def metric_event_json(ticket_id: int, e: MetricEvent) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": metric_event_id(ticket_id, e.seq),
        "ticket_id": ticket_id,
        "metric": e.metric,
        "instance_id": e.instance_id,
        "type": e.type,
        "time": iso(e.time),
    }
    if e.sla is not None:
        out["sla"] = e.sla
    if e.status is not None:
        out["status"] = e.status
    if e.type == "breach":
        out["deleted"] = False
    return out
