"""The simulated account's data: compact per-ticket columns, export indexes, users and organizations.

Tickets are never held as JSON or dicts. Each ticket is a few numbers in ``array`` columns
(creation time, last update, outcome kind, channel, resolution offset) plus, once a mutation
touched it, a tuple of :class:`~.history.Action`; everything else is regenerated on demand by
:func:`~.history.build_history` (with a small LRU cache).

Export orders are sorted ``array('q')`` keys:

* tickets: ``updated << 24 | id`` — the version-0 keys sorted once at construction, plus the
  keys of tickets changed by mutations (which are always newer than every version-0 key);
* ticket events, metric events, calls and ratings: ``time << 32 | ticket_id << 10 | seq`` —
  the version-0 part built on first use, mutations appending (their items are always newer
  than the clock before the mutation, so the arrays stay sorted).
"""

from __future__ import annotations

import bisect
import logging
import math
import random
import threading
from array import array
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from simulators.clock import HISTORY_DAYS
from simulators.world import World

from . import catalog as cat
from ._util import DAY, iso
from .history import build_history
from .plan import (
    CLOSED,
    CLOSED_UNSOLVED,
    DELETED,
    HOLD,
    KIND_MASK,
    MERGED,
    NEW,
    OPEN,
    PENDING,
    REOPENED,
    SOLVED,
    plan_ticket,
)
from .timeline import (
    ACT_DELETE,
    ACT_RERATE,
    ACT_UPDATE,
    Action,
    Context,
    TicketHistory,
    agent_user_id,
    customer_user_id,
    organization_id,
)
from .views import MetricEvent, metric_events

log = logging.getLogger(__name__)

TICKET_SHIFT = 24
TICKET_MASK = (1 << TICKET_SHIFT) - 1
EVENT_SHIFT = 32
SPAN = HISTORY_DAYS * DAY
"""Tickets were created over the two years before the clock, more of them recently."""

_V0_STATUS = {
    NEW: "new",
    OPEN: "open",
    PENDING: "pending",
    HOLD: "hold",
    SOLVED: "solved",
    CLOSED: "closed",
    REOPENED: "closed",
    MERGED: "closed",
    CLOSED_UNSOLVED: "closed",
    DELETED: "deleted",
}


class EventIndex:
    """A sorted key array: a version-0 part (built lazily) followed by the mutations' part."""

    def __init__(self) -> None:
        self.v0: array[int] | None = None
        self.extra: array[int] = array("q")

    def first_at_or_after(self, key: int) -> int:
        """Global position of the first key ``>= key``."""
        assert self.v0 is not None
        pos = bisect.bisect_left(self.v0, key)
        if pos < len(self.v0):
            return pos
        return len(self.v0) + bisect.bisect_left(self.extra, key)

    def __len__(self) -> int:
        return (len(self.v0) if self.v0 is not None else 0) + len(self.extra)

    def __getitem__(self, pos: int) -> int:
        assert self.v0 is not None
        n0 = len(self.v0)
        return self.v0[pos] if pos < n0 else self.extra[pos - n0]


class Store:
    """All the data of one simulated Zendesk account, and how it changes."""

    def __init__(
        self, seed: int, world: World, n_tickets: int, now: int, cache_size: int = 4096, crowd: int = 0
    ) -> None:
        self.seed = seed
        self.world = world
        self.ctx = Context(seed, world)
        self.now = now
        self.now0 = now
        self.export_page = 1000
        self.time_exports = "whole_seconds"
        """``whole_seconds``: a time-based export page never splits a second (it grows past
        ``export_page``); ``faithful``: as documented, pages of at most ``export_page`` items."""
        """Items per page of the incremental exports (at most, and by default)."""
        self.metric_sets_shape = "embedded"
        """How ``include=metric_sets`` is answered: ``embedded`` (``tickets[].metric_set``),
        ``top_level`` (a ``metric_sets`` array beside ``tickets``) or ``missing`` (not at all)."""
        self.lock = threading.RLock()
        self.mutations = 0
        self.n0 = n_tickets
        self.created: array[int] = array("q", [0])
        self.updated: array[int] = array("q", [0])
        self.solve: array[int] = array("l", [0])
        self.last0: array[int] = array("l", [0])
        self.kind = bytearray(1)
        self.channel = bytearray(1)
        self.actions: dict[int, tuple[Action, ...]] = {}
        self.floor: dict[int, int] = {}
        self._cache: OrderedDict[int, tuple[int, TicketHistory, list[MetricEvent] | None]] = OrderedDict()
        self._cache_size = cache_size
        self.crowd = crowd
        """The first ``crowd`` tickets are created in the same second (a crowded second in every
        time-based export: their creation audits, events and metric events share it)."""
        self._plan(n_tickets)
        self.base_keys = self._sorted_ticket_keys(range(1, n_tickets + 1))
        self.tail_keys: array[int] = array("q")
        self.indexes = {name: EventIndex() for name in ("ticket_events", "metric_events", "calls", "ratings")}
        self.users: dict[int, dict[str, Any]] = {}
        self.organizations: dict[int, dict[str, Any]] = {}
        self._build_users()
        self._build_organizations()

    # ---------------------------------------------------------------------------------------
    # tickets

    @property
    def n_tickets(self) -> int:
        return len(self.created) - 1

    def _plan(self, n: int) -> None:
        rnd = random.Random(f"zendesk-plan:{self.seed}").random
        end = self.now - 600
        start = end - SPAN
        limit = self.now
        created, updated, solve, last0 = self.created, self.updated, self.solve, self.last0
        kinds, channels = bytearray(n), bytearray(n)
        for i in range(1, n + 1):
            c = start + int(SPAN * math.sqrt(((1 if i <= self.crowd else i) - 0.5) / n))
            kind, channel, s, last = plan_ticket(i, c, limit, rnd(), rnd(), rnd(), rnd())
            created.append(c)
            updated.append(c + last)
            solve.append(s)
            last0.append(last)
            kinds[i - 1] = kind
            channels[i - 1] = channel
        self.kind += kinds
        self.channel += channels

    def _sorted_ticket_keys(self, ids: Any) -> array[int]:
        updated = self.updated
        return array("q", sorted((updated[i] << TICKET_SHIFT) | i for i in ids))

    def history(self, ticket_id: int) -> TicketHistory:
        """The ticket's current history (cached)."""
        return self._entry(ticket_id)[1]

    def metric_events(self, ticket_id: int) -> list[MetricEvent]:
        version, h, events = self._entry(ticket_id)
        if events is None:
            events = metric_events(h)
            self._cache[ticket_id] = (version, h, events)
        return events

    def _entry(self, ticket_id: int) -> tuple[int, TicketHistory, list[MetricEvent] | None]:
        actions = self.actions.get(ticket_id, ())
        hit = self._cache.get(ticket_id)
        if hit is not None and hit[0] == len(actions):
            self._cache.move_to_end(ticket_id)
            return hit
        entry = (len(actions), self._build(ticket_id, actions), None)
        self._cache[ticket_id] = entry
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return entry

    def _build(self, ticket_id: int, actions: tuple[Action, ...]) -> TicketHistory:
        return build_history(
            self.ctx,
            ticket_id,
            self.created[ticket_id],
            self.kind[ticket_id],
            self.channel[ticket_id],
            self.solve[ticket_id],
            self.last0[ticket_id],
            actions,
            self.floor.get(ticket_id, 0),
        )

    def ticket_keys_from(self, key: int) -> Iterator[int]:
        """Current ticket keys ``>= key`` in export order (stale version-0 keys skipped)."""
        updated = self.updated
        base = self.base_keys
        for pos in range(bisect.bisect_left(base, key), len(base)):
            k = base[pos]
            if updated[k & TICKET_MASK] == k >> TICKET_SHIFT:
                yield k
        tail = self.tail_keys
        for pos in range(bisect.bisect_left(tail, key), len(tail)):
            yield tail[pos]

    def status_of(self, ticket_id: int) -> str:
        if ticket_id in self.actions or ticket_id > self.n0:
            return self.history(ticket_id).status
        return _V0_STATUS[self.kind[ticket_id] & KIND_MASK]

    # ---------------------------------------------------------------------------------------
    # event indexes

    def index(self, name: str) -> EventIndex:
        idx = self.indexes[name]
        if idx.v0 is None:
            self._build_indexes()
        return idx

    def _build_indexes(self) -> None:
        """Keys of every version-0 event, call and rating (the first time any is asked for)."""
        log.info("indexing the events of %d tickets", self.n0)
        events: list[int] = []
        metrics: list[int] = []
        calls: list[int] = []
        ratings: list[int] = []
        for tid in range(1, self.n0 + 1):
            h = self._build(tid, ())
            _collect(h, metric_events(h), events, metrics, calls, ratings, 0)
        for name, keys in (
            ("ticket_events", events),
            ("metric_events", metrics),
            ("calls", calls),
            ("ratings", ratings),
        ):
            keys.sort()
            self.indexes[name].v0 = array("q", keys)
        log.info("indexed %d ticket events, %d metric events", len(events), len(metrics))

    # ---------------------------------------------------------------------------------------
    # users and organizations

    def _build_users(self) -> None:
        rng = random.Random(f"zendesk-users:{self.seed}")
        w = self.world
        for admin in w.admins:
            uid = cat.USER_BASE + cat.ADMIN_OFFSET + (admin.index - len(w.agents))
            self.users[uid] = _user(
                uid, admin.name, admin.email, "admin", None, None, True, 1_577_836_800, 1_600_000_000
            )
        staff_start = self.now0 - 4 * 365 * DAY
        for agent in w.agents:
            uid = agent_user_id(agent.index)
            created = staff_start + int(rng.random() * 3 * 365 * DAY)
            updated = created + int(rng.random() * (self.now0 - created))
            active = rng.random() > 0.03
            group = cat.TIER_GROUP_IDS[agent.tier]
            self.users[uid] = _user(uid, agent.name, agent.email, "agent", None, group, active, created, updated)
        for customer in w.customers:
            uid = customer_user_id(customer.index)
            created = self.now0 - SPAN - 30 * DAY + int(rng.random() * SPAN)
            updated = created + int(rng.random() * (self.now0 - created))
            active = rng.random() > 0.02
            org = organization_id(customer.account_index)
            record = _user(uid, customer.name, customer.email, "end-user", org, None, active, created, updated)
            record["phone"] = customer.phone
            self.users[uid] = record

    def _build_organizations(self) -> None:
        rng = random.Random(f"zendesk-orgs:{self.seed}")
        for account in self.world.accounts:
            oid = organization_id(account.index)
            roll = rng.random()
            external: str | None = account.salesforce_id
            field_value: str | None = account.salesforce_id
            if roll < 0.06:
                external = None
                field_value = account.salesforce_id if rng.random() < 0.5 else None
            elif roll < 0.10:
                external = account.salesforce_id15
            name = account.name
            if rng.random() < 0.08:
                name = f"{name}, Inc."
            created = self.now0 - SPAN - 60 * DAY + int(rng.random() * SPAN * 0.8)
            updated = created + int(rng.random() * (self.now0 - created))
            self.organizations[oid] = _organization(
                oid, name, account.domain, account.segment, external, field_value, created, updated
            )
        internal = cat.ORG_BASE + 9_000
        self.organizations[internal] = _organization(
            internal, "SupportLake Demo (internal)", self.world.company_domain, None,
            None, None, self.now0 - SPAN, self.now0 - SPAN,
        )  # fmt: skip

    def sorted_by_update(self, records: dict[int, dict[str, Any]]) -> list[tuple[int, int]]:
        """``(updated_at, id)`` of each record, in export order."""
        return sorted((r["_updated"], rid) for rid, r in records.items())

    # ---------------------------------------------------------------------------------------
    # mutations

    def mutate(
        self,
        seed: int,
        update_fraction: float,
        insert_count: int | None,
        delete_count: int | None,
        advance_seconds: int,
    ) -> dict[str, int]:
        """Advance the clock and change data; returns how many of each change were made."""
        if advance_seconds < 60:
            raise ValueError("a mutation advances the clock by at least 60 seconds")
        with self.lock:
            self.mutations += 1
            rng = random.Random(f"zendesk-mutate:{self.seed}:{seed}:{self.mutations}")
            old_now, new_now = self.now, self.now + advance_seconds
            done = {"updated": 0, "rerated": 0, "deleted": 0, "inserted": 0, "users": 0, "organizations": 0}
            touched: dict[int, TicketHistory] = {}
            n_existing = self.n_tickets
            want_updates = round(update_fraction * n_existing)
            candidates = self._open_ticket_ids()
            rng.shuffle(candidates)
            done["rerated"] = self._change_a_rating(candidates, rng, old_now, advance_seconds, touched)
            for tid in candidates:
                if done["updated"] >= want_updates:
                    break
                if tid not in touched and self._try_action(tid, ACT_UPDATE, rng, old_now, advance_seconds, touched):
                    done["updated"] += 1
            n_delete = max(1, n_existing // 500) if delete_count is None else delete_count
            attempts = 0
            while done["deleted"] < n_delete and attempts < n_delete * 20:
                attempts += 1
                tid = rng.randint(1, n_existing)
                if tid in touched or self.status_of(tid) == "deleted":
                    continue
                if self._try_action(tid, ACT_DELETE, rng, old_now, advance_seconds, touched):
                    done["deleted"] += 1
            n_insert = max(1, n_existing // 100) if insert_count is None else insert_count
            for _ in range(n_insert):
                touched[self._insert_ticket(rng, old_now, advance_seconds)] = self.history(self.n_tickets)
                done["inserted"] += 1
            self._index_mutation(touched, old_now)
            done["users"] = self._mutate_users(rng, old_now, advance_seconds)
            done["organizations"] = self._mutate_organizations(rng, old_now, advance_seconds)
            self.now = new_now
            log.info("mutation %d at %s: %s", self.mutations, iso(new_now), done)
            return done

    def _open_ticket_ids(self) -> list[int]:
        """Tickets that can still change (not closed, not deleted), in id order."""
        kinds, actions = self.kind, self.actions
        open_kinds = {NEW, OPEN, PENDING, HOLD, SOLVED}
        ids = [i for i in range(1, self.n0 + 1) if i not in actions and kinds[i] & KIND_MASK in open_kinds]
        later = sorted({*actions, *range(self.n0 + 1, self.n_tickets + 1)})
        ids += [i for i in later if self.status_of(i) in ("new", "open", "pending", "hold", "solved")]
        return sorted(ids)

    def _try_action(
        self, tid: int, code: int, rng: random.Random, old_now: int, advance: int, touched: dict[int, TicketHistory]
    ) -> bool:
        """Give ticket ``tid`` one action, unless that would put an event before ``old_now``."""
        old_actions = self.actions.get(tid, ())
        if len(self.history(tid).audits) > 1000:
            return False
        old_events = self.metric_events(tid)
        action = Action(old_now + 1 + rng.randrange(advance), code, self.mutations * 1_000_003 + rng.randrange(1 << 30))
        new_actions = (*old_actions, action)
        h = self._build(tid, new_actions)
        events = metric_events(h)
        if events[: len(old_events)] != old_events or any(e.time <= old_now for e in events[len(old_events) :]):
            return False
        self.actions[tid] = new_actions
        self._cache[tid] = (len(new_actions), h, events)
        self.updated[tid] = h.updated
        touched[tid] = h
        return True

    def _change_a_rating(
        self, candidates: list[int], rng: random.Random, old_now: int, advance: int, touched: dict[int, TicketHistory]
    ) -> int:
        """Rate one solved ticket again (or for the first time): a new rating record."""
        solved = [t for t in candidates if t not in touched and self.status_of(t) == "solved"]
        solved.sort(key=lambda t: (not self.history(t).ratings, t))
        for tid in solved[:20]:
            if self._try_action(tid, ACT_RERATE, rng, old_now, advance, touched):
                return 1
        return 0

    def _insert_ticket(self, rng: random.Random, old_now: int, advance: int) -> int:
        tid = self.n_tickets + 1
        created = old_now + advance // 4 + rng.randrange(max(1, advance // 2))
        kind, channel, solve, last = plan_ticket(
            tid, created, old_now + advance, rng.random(), rng.random(), rng.random(), rng.random()
        )
        self.created.append(created)
        self.updated.append(created + last)
        self.solve.append(solve)
        self.last0.append(last)
        self.kind.append(kind)
        self.channel.append(channel)
        self.floor[tid] = old_now + 1
        return tid

    def _index_mutation(self, touched: dict[int, TicketHistory], old_now: int) -> None:
        events: list[int] = []
        metrics: list[int] = []
        calls: list[int] = []
        ratings: list[int] = []
        for tid in sorted(touched):
            _collect(self.history(tid), self.metric_events(tid), events, metrics, calls, ratings, old_now)
        for name, keys in (
            ("ticket_events", events),
            ("metric_events", metrics),
            ("calls", calls),
            ("ratings", ratings),
        ):
            keys.sort()
            self.indexes[name].extra.extend(keys)
        changed = {k & TICKET_MASK for k in self.tail_keys} | set(touched)
        self.tail_keys = self._sorted_ticket_keys(changed)

    def _mutate_users(self, rng: random.Random, old_now: int, advance: int) -> int:
        changes = 0
        end_users = sorted(uid for uid, u in self.users.items() if u["role"] == "end-user" and u["active"])
        victim = end_users[rng.randrange(len(end_users))]
        self._touch(self.users[victim], old_now + 1 + rng.randrange(advance), active=False)
        changes += 1
        accounts = self.world.accounts
        for _ in range(1 + len(self.users) // 500):
            account = accounts[rng.randrange(len(accounts))]
            uid = (
                cat.USER_BASE
                + cat.NEW_USER_OFFSET
                + sum(1 for u in self.users if u >= cat.USER_BASE + cat.NEW_USER_OFFSET)
            )
            t = old_now + 1 + rng.randrange(advance)
            name = f"New User {uid - cat.USER_BASE - cat.NEW_USER_OFFSET + 1}"
            email = f"new.user{uid - cat.USER_BASE - cat.NEW_USER_OFFSET + 1}@{account.domain}"
            self.users[uid] = _user(uid, name, email, "end-user", organization_id(account.index), None, True, t, t)
            changes += 1
        return changes

    def _mutate_organizations(self, rng: random.Random, old_now: int, advance: int) -> int:
        ids = sorted(self.organizations)
        target = self.organizations[ids[rng.randrange(len(ids))]]
        self._touch(target, old_now + 1 + rng.randrange(advance), notes=f"Reviewed in mutation {self.mutations}")
        oid = cat.ORG_BASE + 10_000 + self.mutations
        t = old_now + 1 + rng.randrange(advance)
        self.organizations[oid] = _organization(
            oid, f"Prospect {self.mutations} Ltd", f"prospect{self.mutations}.example", "Commercial", None, None, t, t
        )
        return 2

    @staticmethod
    def _touch(record: dict[str, Any], t: int, **changes: Any) -> None:
        record.update(changes)
        record["_updated"] = t
        record["updated_at"] = iso(t)


def _collect(
    h: TicketHistory,
    events_m: list[MetricEvent],
    events: list[int],
    metrics: list[int],
    calls: list[int],
    ratings: list[int],
    after: int,
) -> None:
    """Index keys of the ticket's items newer than ``after``."""
    tid = h.id
    for a in h.audits:
        if a.time > after:
            events.append((a.time << EVENT_SHIFT) | (tid << 10) | a.seq)
    for e in events_m:
        if e.time > after:
            metrics.append((e.time << EVENT_SHIFT) | (tid << 10) | e.seq)
    for call in h.calls:
        if call.updated > after:
            calls.append((call.updated << EVENT_SHIFT) | (tid << 10) | call.k)
    for r in h.ratings:
        if r.time > after:
            ratings.append((r.time << EVENT_SHIFT) | (tid << 10) | r.k)


def _user(
    uid: int,
    name: str,
    email: str,
    role: str,
    org: int | None,
    group: int | None,
    active: bool,
    created: int,
    updated: int,
) -> dict[str, Any]:
    """A user in the shape of the Users API (``_updated`` is internal and never served)."""
    return {
        "_updated": updated,
        "id": uid,
        "url": f"{cat.SUBDOMAIN_URL}/api/v2/users/{uid}.json",
        "name": name,
        "email": email,
        "created_at": iso(created),
        "updated_at": iso(updated),
        "time_zone": "UTC" if role == "end-user" else "Europe/Dublin",
        "iana_time_zone": "Etc/UTC" if role == "end-user" else "Europe/Dublin",
        "phone": None,
        "shared_phone_number": None,
        "photo": None,
        "locale_id": 1,
        "locale": "en-US",
        "organization_id": org,
        "role": role,
        "verified": True,
        "external_id": None,
        "tags": [],
        "alias": None,
        "active": active,
        "shared": False,
        "shared_agent": False,
        "last_login_at": iso(updated) if role != "end-user" else None,
        "two_factor_auth_enabled": role != "end-user",
        "signature": None,
        "details": None,
        "notes": None,
        "role_type": None,
        "custom_role_id": None,
        "moderator": role != "end-user",
        "ticket_restriction": "requested" if role == "end-user" else None,
        "only_private_comments": False,
        "restricted_agent": role == "agent",
        "suspended": False,
        "default_group_id": group,
        "report_csv": role == "admin",
        "user_fields": {},
    }


def _organization(
    oid: int,
    name: str,
    domain: str,
    segment: str | None,
    external_id: str | None,
    sf_field: str | None,
    created: int,
    updated: int,
) -> dict[str, Any]:
    """An organization in the shape of the Organizations API (``_updated`` is internal)."""
    tags = [cat.SEGMENT_TAGS[segment]] if segment else ["internal"]
    return {
        "_updated": updated,
        "url": f"{cat.SUBDOMAIN_URL}/api/v2/organizations/{oid}.json",
        "id": oid,
        "name": name,
        "shared_tickets": False,
        "shared_comments": False,
        "external_id": external_id,
        "created_at": iso(created),
        "updated_at": iso(updated),
        "domain_names": [domain],
        "details": None,
        "notes": None,
        "group_id": None,
        "tags": tags,
        "organization_fields": {"salesforce_account_id": sf_field, "segment": segment.lower() if segment else None},
    }


def public(record: dict[str, Any]) -> dict[str, Any]:
    """A stored user or organization without its internal keys."""
    return {k: v for k, v in record.items() if not k.startswith("_")}
