"""The org's data: compact per-record state, generated on demand from ``(seed, index, version)``.

Every object is a :class:`Table` of parallel ``array`` columns — created, last modified and
system modstamp (Unix seconds), version, state (live, in the recycle bin, purged), parent
index, one auxiliary integer, one value and one flag. Everything else in a record is a pure
function of the seed, the record's index and those columns, built only when a page needs it
(:meth:`Org.build`). 50,000 cases are about half a million records and a few megabytes.

A case follows a *plan* drawn from ``(seed, case index)``: its account, contact, origin,
priority, product area and a list of steps (New → Working → [Waiting on Customer] →
[Escalated] → Closed, then a CSAT score). Its version is the last step applied. The initial
data replays each plan up to the construction clock; :meth:`Org.mutate` applies further steps
at the mutation's time, so what happened before never changes. Applying a step adds the
child records it implies (CaseHistory rows, milestone completions, AgentWork, escalations,
case–article links), so every object stays consistent with the cases.
"""

from __future__ import annotations

import bisect
import datetime as dt
from array import array
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from simulators.clock import HISTORY_DAYS
from simulators.world import COMPANY_DOMAIN, PRODUCT_AREAS, Article, World, build_world, weighted

from . import schema as S
from ._util import DAY, HOUR, MINUTE, index_of, make_id, rng_for, sf_date, sf_datetime

LIVE, RECYCLED, PURGED = 0, 1, 2
STATUS, CSAT = 0, 1

# random stream tags
_ACC, _CON, _USR, _CASE, _COMMENT, _OPP, _KAV, _AW, _ESC, _ART, _INIT, _MUT = (
    101,
    102,
    103,
    110,
    111,
    120,
    130,
    140,
    141,
    142,
    190,
    199,
)

_pick_origin = weighted((("Phone", 0.60), ("Email", 0.17), ("Chat", 0.10), ("Web", 0.08), ("Social", 0.05)))
_pick_priority = weighted((("Low", 0.25), ("Medium", 0.45), ("High", 0.22), ("Critical", 0.08)))
_pick_type = weighted((("Problem", 0.45), ("Question", 0.35), ("Feature Request", 0.08), ("Onboarding", 0.12)))
_pick_tier = weighted(((1, 0.72), (2, 0.20), (3, 0.08)))
_CONTRACT = {"Enterprise": (5_600_000, 11_000_000), "Mid-Market": (650_000, 3_500_000), "Commercial": (40_000, 340_000)}
"""Yearly contract value by segment. With :data:`_AMOUNT_FACTOR` an account's ARR (its won
Opportunities of the last 12 months: one new business or renewal, at most two expansions) stays
in its segment's band of the seeds: Enterprise $5M+, Mid-Market $500K–$5M, Commercial < $500K."""
_AMOUNT_FACTOR = {0: (0.9, 1.0), 1: (0.95, 1.1), 2: (0.05, 0.15)}
"""Opportunity amount as a share of the contract value: new business, renewal, expansion."""
_REOPEN_SHARE = 0.08
"""Cases (of those not closed on creation) that are reopened once after their first close."""
_pick_csat = weighted(((5.0, 0.48), (4.0, 0.30), (3.0, 0.11), (2.0, 0.06), (1.0, 0.05)))
_FR_MINUTES = {"Critical": 60, "High": 240, "Medium": 480, "Low": 1440}
_RES_MINUTES = {"Critical": 1440, "High": 2880, "Medium": 7200, "Low": 14400}
_FR_MEAN = {"Critical": 25, "High": 90, "Medium": 240, "Low": 600}
_RES_MEAN_H = {"Critical": 10, "High": 30, "Medium": 60, "Low": 110}

_SUBJECTS = {
    "billing": ("Invoice shows the wrong amount", "Charged twice this month", "Need to change the billing contact"),
    "login_access": (
        "Cannot log in after password reset",
        "SSO login loops back to the sign-in page",
        "Locked out of the admin account",
    ),
    "integrations": ("Salesforce sync stopped updating", "Webhook deliveries failing", "Slack integration silent"),
    "reporting": ("Dashboard numbers do not match export", "Scheduled report not delivered", "Report is very slow"),
    "api": ("API returns 429 errors", "API key rotation broke our integration", "Unexpected 500 from the API"),
    "mobile_app": ("Mobile app crashes on start", "Push notifications not arriving", "Cannot upload from phone"),
    "data_import": ("CSV import stuck at 90%", "Import created duplicate contacts", "Import rejects dates"),
    "notifications": ("Email notifications delayed", "Too many notification emails", "Digest email missing"),
    "performance": ("Pages load slowly since yesterday", "Search takes over a minute", "Timeouts on large exports"),
    "user_management": ("Cannot add new users", "Role permissions not applied", "Deactivated user still has access"),
}
_INDUSTRY_BY_KIND = {
    "Logistics": "Transportation",
    "Health": "Healthcare",
    "Analytics": "Technology",
    "Retail": "Retail",
    "Energy": "Energy",
    "Labs": "Technology",
    "Systems": "Technology",
    "Foods": "Hospitality",
    "Media": "Media",
    "Financial": "Finance",
    "Insurance": "Insurance",
    "Robotics": "Manufacturing",
    "Travel": "Hospitality",
    "Education": "Education",
    "Manufacturing": "Manufacturing",
    "Software": "Technology",
    "Pharma": "Healthcare",
    "Telecom": "Telecommunications",
    "Motors": "Manufacturing",
    "Studios": "Media",
}
_CITIES = (
    ("New York", "NY", "United States", "10001", 40.7128, -74.0060),
    ("San Francisco", "CA", "United States", "94105", 37.7749, -122.4194),
    ("Chicago", "IL", "United States", "60601", 41.8781, -87.6298),
    ("Austin", "TX", "United States", "73301", 30.2672, -97.7431),
    ("Boston", "MA", "United States", "02108", 42.3601, -71.0589),
    ("Seattle", "WA", "United States", "98101", 47.6062, -122.3321),
    ("Toronto", "ON", "Canada", "M5H 2N2", 43.6532, -79.3832),
    ("London", None, "United Kingdom", "EC1A 1BB", 51.5074, -0.1278),
    ("Berlin", None, "Germany", "10115", 52.5200, 13.4050),
    ("Amsterdam", None, "Netherlands", "1012", 52.3676, 4.9041),
    ("Sydney", "NSW", "Australia", "2000", -33.8688, 151.2093),
    ("Bangalore", "KA", "India", "560001", 12.9716, 77.5946),
)
_STREETS = ("Market St", "Main St", "Oak Ave", "Harbor Blvd", "King St", "Elm St", "Park Ave", "River Rd")
_CONTACT_TITLES = (
    "IT Manager",
    "Operations Lead",
    "Office Manager",
    "Developer",
    "VP Engineering",
    "Analyst",
    "Customer Success Lead",
    "Director of IT",
    "Administrator",
    "Product Manager",
)
_AGENT_TITLES = {
    0: "Support Operations Coordinator",
    1: "Support Specialist",
    2: "Support Engineer",
    3: "Support Architect",
}
_GROUPS = (
    ("Tier 1 Support", "Tier_1_Support", "Queue", "tier1-support@" + COMPANY_DOMAIN),
    ("Tier 2 Support", "Tier_2_Support", "Queue", "tier2-support@" + COMPANY_DOMAIN),
    ("Tier 3 Support", "Tier_3_Support", "Queue", "tier3-support@" + COMPANY_DOMAIN),
    ("Support Operations", "Support_Operations", "Regular", None),
)
_BUSINESS_HOURS = (
    ("Default", True, "America/Los_Angeles", (0, 1, 2, 3, 4, 5, 6), ("00:00:00.000Z", "00:00:00.000Z")),
    ("Support Hours (US)", False, "America/New_York", (1, 2, 3, 4, 5), ("08:00:00.000Z", "18:00:00.000Z")),
    ("Enterprise 24x5", False, "America/New_York", (1, 2, 3, 4, 5), ("00:00:00.000Z", "00:00:00.000Z")),
)
_MILESTONE_TYPES = (
    ("First Response", "Time to the first response by an agent"),
    ("Resolution Time", "Time to close the case"),
)
_CHANNELS = {"Phone": 0, "Email": 1, "Chat": 2, "Web": 3, "Social": 4}
_CACHED_IDS = frozenset({"User", "Group", "BusinessHours", "MilestoneType", "Contact", "Knowledge__kav", "Case"})
"""Objects whose Ids other records refer to all the time: their Ids are computed once."""
_QUIET = 2 * MINUTE
"""A mutation's changes fall before the last two minutes of the time it covers."""
_PLAN_CACHE = 65_536
"""Case plans kept in memory (about 1 kB each); beyond that they are regenerated on demand."""


def _anniversary(ts: int, years: int) -> int:
    """``ts`` moved on by whole calendar years (29 February → 28 February)."""
    t = dt.datetime.fromtimestamp(ts, tz=dt.UTC)
    try:
        moved = t.replace(year=t.year + years)
    except ValueError:
        moved = t.replace(year=t.year + years, day=28)
    return int(moved.timestamp())


class Table:
    """One object's records as parallel arrays; record ``i`` is row ``i`` of every column."""

    def __init__(self, spec: S.ObjectSpec, fixed_ids: list[str] | None = None) -> None:
        self.spec = spec
        self.name = spec.name
        self.created = array("q")
        self.modified = array("q")
        self.sysmod = array("q")
        self.version = array("i")
        self.state = array("b")
        self.parent = array("i")
        self.aux = array("i")
        self.val = array("q")
        self.flag = array("b")
        self.deleted_at: dict[int, int] = {}
        """Row → when it was deleted (moved to the recycle bin, or purged without passing through it)."""
        self._fixed_ids = fixed_ids
        self._id_cache: list[str] | None = [] if spec.name in _CACHED_IDS else None
        self._id_index: dict[str, int] | None = None
        self._first: array[int] | None = None
        self._sealed = False
        self._extra: dict[int, list[int]] = {}

    def __len__(self) -> int:
        return len(self.created)

    def add(
        self,
        created: int,
        modified: int | None = None,
        *,
        parent: int = -1,
        aux: int = 0,
        val: int = 0,
        flag: int = 0,
        version: int = 0,
    ) -> int:
        idx = len(self.created)
        self.created.append(created)
        self.modified.append(created if modified is None else modified)
        self.sysmod.append(created if modified is None else modified)
        self.version.append(version)
        self.state.append(LIVE)
        self.parent.append(parent)
        self.aux.append(aux)
        self.val.append(val)
        self.flag.append(flag)
        if self._sealed and parent >= 0:
            self._extra.setdefault(parent, []).append(idx)
        return idx

    # Children of a parent: rows added while the initial parents were generated are contiguous
    # blocks (two integers per parent); rows added later are listed in a small dict.
    def begin_blocks(self) -> None:
        self._first = array("i")

    def open_block(self) -> None:
        assert self._first is not None
        self._first.append(len(self.created))

    def seal(self) -> None:
        assert self._first is not None
        self._first.append(len(self.created))
        self._sealed = True

    def children(self, parent: int) -> list[int]:
        out: list[int] = []
        first = self._first
        if first is not None and parent < len(first) - (1 if self._sealed else 0):
            end = first[parent + 1] if parent + 1 < len(first) else len(self.created)
            out.extend(range(first[parent], end))
        out.extend(self._extra.get(parent, ()))
        return out

    def id(self, idx: int) -> str:
        if self._fixed_ids is not None:
            return self._fixed_ids[idx]
        cache = self._id_cache
        if cache is not None:
            if idx >= len(cache):
                prefix = self.spec.key_prefix
                cache.extend(make_id(prefix, i) for i in range(len(cache), max(idx + 1, len(self.created))))
            return cache[idx]
        return make_id(self.spec.key_prefix, idx)

    def index(self, record_id: str) -> int | None:
        """The row of an 18- or 15-character Id of this object, or None."""
        if self._fixed_ids is None:
            idx = index_of(record_id, self.spec.key_prefix)
            return idx if idx is not None and idx < len(self) else None
        if self._id_index is None:
            self._id_index = {rid[:15]: i for i, rid in enumerate(self._fixed_ids)}
        return self._id_index.get(record_id[:15])

    def touch(self, idx: int, t: int, modified: bool = True) -> None:
        """A change at ``t``: SystemModstamp always, LastModifiedDate unless it is automation."""
        if modified:
            self.modified[idx] = max(self.modified[idx], t)
        self.sysmod[idx] = max(self.sysmod[idx], t, self.modified[idx])

    def alive(self) -> Iterator[int]:
        """Rows still in the org (live or in the recycle bin)."""
        state = self.state
        return (i for i in range(len(state)) if state[i] != PURGED)


@dataclass(slots=True)
class CasePlan:
    account: int
    contact: int
    origin: str
    priority: str
    ctype: str
    area: str
    reason: str
    subject: str
    closed_on_create: bool
    steps: tuple[tuple[int, str, int, int], ...]
    """``(kind, status, owner, offset seconds)``; owner ≥ 0 is a User row, < 0 is queue ``-owner - 1``."""
    article: int
    n_comments: int
    fcr: bool
    csat: float | None


class Org:
    """Every object's records, consistent with :mod:`simulators.world`."""

    def __init__(self, seed: int, n_cases: int, now: int, history_days: int = HISTORY_DAYS) -> None:
        self.seed = seed
        self.world: World = build_world(seed)
        self.now0 = now
        self.clock = now
        self.history_days = history_days
        self.n_mutations = 0
        self.merged: dict[int, int] = {}
        self._plans: dict[int, CasePlan] = {}
        self._open: set[int] = set()
        w = self.world
        self.tables: dict[str, Table] = {}
        for spec in S.OBJECTS:
            ids = [a.salesforce_id for a in w.accounts] if spec.name == "Account" else None
            self.tables[spec.name] = Table(spec, ids)
        t = self.tables
        self.t_case, self.t_comment, self.t_hist = t["Case"], t["CaseComment"], t["CaseHistory"]
        self.t_ms, self.t_aw, self.t_esc, self.t_art = (
            t["CaseMilestone"],
            t["AgentWork"],
            t["Support_Escalation__c"],
            t["CaseArticle"],
        )
        self.t_kav, self.t_opp = t["Knowledge__kav"], t["Opportunity"]
        self._builders: dict[str, Callable[[int], dict[str, Any]]] = {
            "Account": self._b_account,
            "Contact": self._b_contact,
            "User": self._b_user,
            "Group": self._b_group,
            "BusinessHours": self._b_business_hours,
            "MilestoneType": self._b_milestone_type,
            "Case": self._b_case,
            "CaseComment": self._b_comment,
            "CaseHistory": self._b_history,
            "CaseMilestone": self._b_milestone,
            "Knowledge__kav": self._b_kav,
            "CaseArticle": self._b_case_article,
            "Opportunity": self._b_opportunity,
            "AgentWork": self._b_agent_work,
            "Support_Escalation__c": self._b_escalation,
        }
        # users: 0 = the integration user, then the world's agents and admins by their index
        self.n_users = 1 + len(w.agents) + len(w.admins)
        self.user_tier = [0] + [a.tier for a in w.agents] + [0 for _ in w.admins]
        self.tier_users = {tier: [1 + a.index for a in w.agents_in_tier(tier)] for tier in (1, 2, 3)}
        self.admin_users = [1 + a.index for a in w.admins]
        self._customers_of = [[c.index for c in w.customers_of(a.index)] for a in w.accounts]
        weights = {"Enterprise": 6.0, "Mid-Market": 3.0, "Commercial": 1.0}
        acc = 0.0
        self._account_cdf: list[float] = []
        for a in w.accounts:
            acc += weights[a.segment]
            self._account_cdf.append(acc)
        self._articles_by_area: dict[str, tuple[list[Article], list[Article], list[Article]]] = {}
        for area in {a.product_area for a in w.articles}:
            self._articles_by_area[area] = (
                [a for a in w.articles_in("confluence", "SUP") if a.product_area == area]
                or list(w.articles_in("confluence", "SUP")),
                [a for a in w.articles_in("confluence", "RUN") if a.product_area == area]
                or list(w.articles_in("confluence", "RUN")),
                [a for a in w.articles_in("zendesk_guide") if a.product_area == area]
                or list(w.articles_in("zendesk_guide")),
            )
        self.kav_articles = list(w.articles_in("confluence", "SUP"))[:80]
        self._kav_by_area: dict[str, list[int]] = {}
        for k, art in enumerate(self.kav_articles):
            self._kav_by_area.setdefault(art.product_area, []).append(k)
        self._parent_account = {a.name: a.index for a in w.accounts}
        self._generate(n_cases)

    # ------------------------------------------------------------------ generation

    @property
    def setup_time(self) -> int:
        """When the org was configured: before every case."""
        return self.now0 - (self.history_days + 400) * DAY

    def _generate(self, n_cases: int) -> None:
        w = self.world
        r = rng_for(self.seed, _INIT)
        setup = self.setup_time
        cap = self.now0 - 2 * MINUTE
        for i in range(self.n_users):
            created = setup + i * HOUR
            self.tables["User"].add(created, version=0)
        for _ in _GROUPS:
            self.tables["Group"].add(setup)
        for _ in _BUSINESS_HOURS:
            self.tables["BusinessHours"].add(setup)
        for _ in _MILESTONE_TYPES:
            self.tables["MilestoneType"].add(setup)
        # a few agents left the company: their user is inactive (version 1)
        users = self.tables["User"]
        for u in r.sample(range(1, 1 + len(w.agents)), 3):
            users.version[u] = 1
            users.touch(u, cap - r.randint(2, 90) * DAY)
        accounts = self.tables["Account"]
        for a in w.accounts:
            ra = rng_for(self.seed, _ACC, a.index)
            since = self.now0 - int(ra.uniform(1.2, 7.0) * 365 * DAY)
            accounts.add(since, min(cap, since + ra.randint(1, 400) * DAY))
        contacts = self.tables["Contact"]
        for c in w.customers:
            created = accounts.created[c.account_index] + rng_for(self.seed, _CON, c.index).randint(0, 300) * DAY
            contacts.add(min(created, cap - DAY))
        for k, _art in enumerate(self.kav_articles):
            rk = rng_for(self.seed, _KAV, k)
            created = self.now0 - rk.randint(60, 900) * DAY
            self.t_kav.add(created, min(cap, created + rk.randint(0, 50) * DAY))
        self._generate_opportunities(cap)

        for table in (self.t_comment, self.t_hist, self.t_ms, self.t_aw, self.t_esc, self.t_art):
            table.begin_blocks()
        start = self.now0 - self.history_days * DAY
        span = self.history_days * DAY - HOUR
        for i in range(n_cases):
            for table in (self.t_comment, self.t_hist, self.t_ms, self.t_aw, self.t_esc, self.t_art):
                table.open_block()
            created = start + int((i + r.random()) * span / n_cases)
            self._new_case(created)
            plan = self.plan(i)
            last = created
            for k in range(1, len(plan.steps)):
                at = created + plan.steps[k][3]
                if at > cap:
                    break
                self._apply_step(i, k, at)
                last = at
            # comments between creation and the last step (or a little after, for open cases)
            end = max(last, min(cap, created + 2 * HOUR))
            for n in range(plan.n_comments):
                ct = created + (end - created) * (n + 1) // (plan.n_comments + 1)
                self.t_comment.add(ct, parent=i, aux=n)
        for table in (self.t_comment, self.t_hist, self.t_ms, self.t_aw, self.t_esc, self.t_art):
            table.seal()
        self._sweep_violations(cap)
        self._initial_deletions(r, n_cases, cap)

    def _generate_opportunities(self, cap: int) -> None:
        """Per account: the new business won when it became a customer, a renewal on every
        anniversary until one is lost (the account churns), and now and then an expansion while it
        is a customer (its ARR ending before the churn). Amounts (:meth:`_contract_size`) keep the
        ARR in the account's segment band."""
        for a in self.world.accounts:
            since = self.tables["Account"].created[a.index]
            r = rng_for(self.seed, _OPP, a.index)
            # new business, closed won when the account became a customer
            self._add_opportunity(a.index, 0, since - r.randint(30, 120) * DAY, since, True, cap)
            year = 1
            last = cap - DAY
            while True:
                close = _anniversary(since, year)
                created = close - 90 * DAY
                if created > cap:
                    break
                won = r.random() < 0.87
                self._add_opportunity(a.index, 1, created, close, won, cap)
                if not won:
                    # an expansion counts as ARR for the 12 months from its close: none after churn
                    last = min(last, close - 365 * DAY - 120 * DAY)
                    break
                year += 1
            for _ in range(r.choice((0, 0, 1, 1, 2))):
                if last <= since + 61 * DAY:
                    break
                created = r.randint(since + 60 * DAY, last)
                self._add_opportunity(a.index, 2, created, created + r.randint(30, 120) * DAY, r.random() < 0.6, cap)

    def _add_opportunity(self, account: int, kind: int, created: int, close: int, won: bool, cap: int) -> None:
        created = min(created, cap)
        if close <= cap:
            stage, modified = 4, close
        else:
            progress = (cap - created) / max(1, close - created)
            stage, modified = min(3, int(progress * 4)), min(cap, created + int(progress * (close - created) * 0.9))
        self.t_opp.add(
            created, max(created, modified), parent=account, aux=kind, val=close, flag=int(won), version=stage
        )

    def _initial_deletions(self, r: Any, n_cases: int, cap: int) -> None:
        """A few cases already in the recycle bin (some merged), a few purged, a purged opportunity."""
        closed = [i for i in range(n_cases) if i not in self._open]
        if len(closed) < 8:
            return
        picks = r.sample(closed, min(len(closed), max(2, n_cases // 400) + max(1, n_cases // 1000) * 2))
        n_soft = max(2, n_cases // 400)
        n_merge = max(1, n_cases // 1000)
        for pos, i in enumerate(picks):
            when = max(self.t_case.modified[i] + HOUR, cap - r.randint(1, 10 * 24) * HOUR)
            if when > cap:
                continue
            if pos < n_soft:
                self._recycle_case(i, when)
            elif pos < n_soft + n_merge:
                chosen = set(picks)
                survivor = next((c for c in closed[pos:] + closed if c not in chosen), picks[0])
                self.merged[i] = survivor
                self._recycle_case(i, when)
            else:
                self._purge_case(i, when)
        live_opps = [o for o in range(len(self.t_opp)) if self.t_opp.modified[o] < cap - 2 * DAY]
        if live_opps:
            o = r.choice(live_opps)
            self._purge(self.t_opp, o, cap - r.randint(1, 5) * DAY)

    # ------------------------------------------------------------------ cases

    def plan(self, i: int) -> CasePlan:
        plan = self._plans.get(i)
        if plan is None:
            if len(self._plans) >= _PLAN_CACHE:
                self._plans.clear()
            plan = self._plans[i] = self._make_plan(i)
        return plan

    def _make_plan(self, i: int) -> CasePlan:
        r = rng_for(self.seed, _CASE, i)
        w = self.world
        account = bisect.bisect_right(self._account_cdf, r.random() * self._account_cdf[-1])
        account = min(account, len(w.accounts) - 1)
        customers = self._customers_of[account]
        contact = customers[r.randrange(len(customers))]
        origin = _pick_origin(r.random())
        priority = _pick_priority(r.random())
        ctype = _pick_type(r.random())
        area = PRODUCT_AREAS[min(len(PRODUCT_AREAS) - 1, int(r.random() * len(PRODUCT_AREAS)))]
        tier = _pick_tier(r.random())
        subject = r.choice(_SUBJECTS[area])
        if ctype == "Onboarding":
            subject = "Onboarding: " + subject.lower()
        agent = r.choice(self.tier_users[tier])
        fr = int(r.expovariate(1 / _FR_MEAN[priority]) * MINUTE) + MINUTE
        closed_on_create = origin == "Phone" and ctype != "Onboarding" and r.random() < 0.3
        steps: list[tuple[int, str, int, int]]
        escalated = reopened = False
        if closed_on_create:
            steps = [(STATUS, "Closed", agent, 0)]
        else:
            owner0 = agent if origin == "Phone" else -tier
            steps = [(STATUS, "New", owner0, 0), (STATUS, "Working", agent, fr)]
            t = fr
            if r.random() < 0.3:
                t += r.randint(1, 48) * HOUR
                steps.append((STATUS, "Waiting on Customer", agent, t))
            if tier < 3 and r.random() < 0.15:
                # escalated: moved to the next tier's queue, picked up there by one of its agents;
                # now and then on from Tier 2 to Tier 3 the same way
                escalated = True
                while True:
                    tier += 1
                    t += r.randint(1, 24) * HOUR
                    steps.append((STATUS, "Escalated", -tier, t))
                    t += r.randint(5, 240) * MINUTE
                    agent = r.choice(self.tier_users[tier])
                    steps.append((STATUS, "Escalated", agent, t))
                    if tier == 3 or r.random() >= 0.2:
                        break
            t += int(r.expovariate(1 / _RES_MEAN_H[priority]) * HOUR) + 10 * MINUTE
            steps.append((STATUS, "Closed", agent, t))
            if r.random() < _REOPEN_SHARE:
                # the customer answers that it is not fixed: reopened, worked on, closed again
                reopened = True
                t += r.randint(2, 120) * HOUR
                steps.append((STATUS, "Working", agent, t))
                t += int(r.expovariate(1 / _RES_MEAN_H[priority]) * HOUR) + 10 * MINUTE
                steps.append((STATUS, "Closed", agent, t))
        csat = None
        if r.random() < 0.35:
            csat = _pick_csat(r.random())
            if escalated and csat > 2:
                csat -= 1.0
            steps.append((CSAT, "Closed", agent, steps[-1][3] + r.randint(2, 72) * HOUR))
        candidates = self._kav_by_area.get(area) or list(range(len(self.kav_articles)))
        article = r.choice(candidates) if candidates and r.random() < 0.3 else -1
        return CasePlan(
            account=account,
            contact=contact,
            origin=origin,
            priority=priority,
            ctype=ctype,
            area=area,
            reason=r.choice(S.CASE_REASONS),
            subject=subject,
            closed_on_create=closed_on_create,
            steps=tuple(steps),
            article=article,
            n_comments=r.randint(0, 1) if closed_on_create else r.randint(1, 5),
            fcr=closed_on_create or (not escalated and not reopened and r.random() < 0.6),
            csat=csat,
        )

    def _new_case(self, created: int) -> int:
        i = self.t_case.add(created)
        self._open.add(i)
        self._apply_step(i, 0, created)
        return i

    def _first_response_status(self, status: str) -> bool:
        return status in ("Working", "Closed", "Escalated", "Waiting on Customer")

    def _apply_step(self, i: int, k: int, t: int) -> None:
        cases = self.t_case
        plan = self.plan(i)
        kind, status, owner, _ = plan.steps[k]
        cases.version[i] = k
        cases.touch(i, t)
        if k == len(plan.steps) - 1:
            self._open.discard(i)
        if kind == CSAT:
            return
        if k == 0:
            self.t_hist.add(t, parent=i, aux=0)
            fr = self.t_ms.add(t, parent=i, aux=0)
            self.t_ms.add(t, parent=i, aux=1)
            assert fr == 2 * i, "milestones are two rows per case, in case order"
        else:
            _, prev_status, prev_owner, _ = plan.steps[k - 1]
            if status != prev_status:
                self.t_hist.add(t, parent=i, aux=k * 4 + 1)
            if owner != prev_owner:
                self.t_hist.add(t, parent=i, aux=k * 4 + 2)
        previous = plan.steps[k - 1] if k else None
        if self._first_response_status(status) and self.t_ms.val[2 * i] == 0:
            self._complete_milestone(2 * i, t, plan)
            self._add_agent_work(i, 0, t, owner)
        if status == "Escalated" and (previous is None or previous[1] != "Escalated"):
            self.t_esc.add(t, parent=i)
        if status == "Escalated" and owner >= 0 and previous is not None and previous[2] < 0:
            self._add_agent_work(i, 1, t, owner)  # an agent of the higher tier takes it from the queue
        if status == "Closed":
            cases.val[i] = t  # ClosedDate: the latest close
            first_close = not any(st == "Closed" for kd, st, _, _ in plan.steps[:k] if kd == STATUS)
            if self.t_ms.val[2 * i + 1] == 0:
                self._complete_milestone(2 * i + 1, t, plan)
            for e in self.t_esc.children(i):
                if self.t_esc.val[e] == 0:
                    self.t_esc.val[e] = t
                    self.t_esc.touch(e, t)
            if plan.article >= 0 and first_close:
                self.t_art.add(t, parent=i, aux=plan.article, val=self.t_kav.version[plan.article] + 1)

    def _complete_milestone(self, m: int, t: int, plan: CasePlan) -> None:
        ms = self.t_ms
        target = self._milestone_target(m, plan)
        ms.val[m] = t
        if t > target:
            ms.flag[m] = 1
        ms.touch(m, t)

    def _milestone_target(self, m: int, plan: CasePlan) -> int:
        start = self.t_case.created[self.t_ms.parent[m]]
        minutes = (_FR_MINUTES if self.t_ms.aux[m] == 0 else _RES_MINUTES)[plan.priority]
        return start + minutes * MINUTE

    def _add_agent_work(self, i: int, aux: int, t: int, owner: int) -> None:
        """Work routed to a user (``aux`` 0: the first response, 1: an escalation), ``val`` the user + 1."""
        w = len(self.t_aw)
        r = rng_for(self.seed, _AW, w)
        handle = r.randint(3 * MINUTE, 40 * MINUTE)
        speed = r.randint(5, 10 * MINUTE)
        wait = r.randint(0, 5 * MINUTE)
        self.t_aw.add(t - handle - speed - wait, t, parent=i, aux=aux, val=owner + 1 if owner >= 0 else 0)

    def _sweep_violations(self, t: int, floor: int = 0) -> int:
        """Automation: milestones past their target become violated (SystemModstamp only, stamped
        when the violation was noticed: shortly after the target, but never before ``floor``)."""
        n = 0
        for i in list(self._open):
            if self.t_case.state[i] != LIVE:
                continue
            plan = self.plan(i)
            for m in (2 * i, 2 * i + 1):
                if self.t_ms.val[m] == 0 and not self.t_ms.flag[m]:
                    target = self._milestone_target(m, plan)
                    if target < t:
                        self.t_ms.flag[m] = 1
                        self.t_ms.touch(m, max(floor, min(t, target + 5 * MINUTE)), modified=False)
                        n += 1
        return n

    _CASCADE = ("CaseComment", "CaseMilestone", "CaseArticle", "Support_Escalation__c")

    def _recycle(self, table: Table, idx: int, t: int) -> None:
        if table.state[idx] == LIVE:
            table.state[idx] = RECYCLED
            table.deleted_at[idx] = t
            table.touch(idx, t)

    def _purge(self, table: Table, idx: int, t: int) -> None:
        if table.state[idx] == LIVE:
            table.deleted_at[idx] = t
        table.state[idx] = PURGED

    def _recycle_case(self, i: int, t: int) -> None:
        self._recycle(self.t_case, i, t)
        self._open.discard(i)
        for name in self._CASCADE:
            table = self.tables[name]
            for c in table.children(i):
                self._recycle(table, c, t)

    def _purge_case(self, i: int, t: int) -> None:
        self._purge(self.t_case, i, t)
        self._open.discard(i)
        for name in (*self._CASCADE, "CaseHistory"):
            table = self.tables[name]
            for c in table.children(i):
                self._purge(table, c, t)

    # ------------------------------------------------------------------ mutation

    def mutate(
        self,
        seed: int,
        end: int,
        update_fraction: float = 0.01,
        insert_count: int | None = None,
        delete_count: int | None = None,
    ) -> dict[str, int]:
        """Changes between the clock and ``end``, after which the clock reads ``end``: updates,
        inserts, soft and hard deletes, automation.

        Every change is stamped with one of a handful of seconds in the half minute before the last
        two minutes of ``(clock, end]`` (all at the first second when the period is shorter), so
        several records share the exact same SystemModstamp and the server's time, rounded down to
        the minute, is past them all.
        """
        r = rng_for(self.seed, _MUT, seed, self.n_mutations)
        clock_rng = rng_for(self.seed, _MUT + 1, seed, self.n_mutations)  # so what changes never depends on when
        self.n_mutations += 1
        hi = max(self.clock + 1, end - _QUIET)
        lo = max(self.clock + 1, hi - 30)
        pool = sorted({clock_rng.randint(lo, hi) for _ in range(6)} | {hi})

        def at() -> int:
            return int(clock_rng.choice(pool))

        out: Counter[str] = Counter()
        cases = self.t_case
        n = len(cases)
        live_open = sorted(i for i in self._open if cases.state[i] == LIVE)
        for i in r.sample(live_open, min(len(live_open), max(5, int(n * update_fraction)))):
            self._apply_step(i, cases.version[i] + 1, at())
            out["Case.updated"] += 1
        for _ in range(insert_count if insert_count is not None else max(3, n // 200)):
            t = at()
            i = self._new_case(t)
            if r.random() < 0.5:
                self.t_comment.add(t, parent=i, aux=0)
                out["CaseComment.inserted"] += 1
            out["Case.inserted"] += 1
        live_open = sorted(i for i in self._open if cases.state[i] == LIVE)
        for i in r.sample(live_open, min(len(live_open), max(5, n // 100))):
            self.t_comment.add(at(), parent=i, aux=len(self.t_comment.children(i)))
            out["CaseComment.inserted"] += 1
        for c in self._pick(r, self.t_comment, 2):
            self.t_comment.version[c] += 1
            self.t_comment.touch(c, at())
            out["CaseComment.updated"] += 1

        def closed_live() -> int | None:
            for _ in range(200):
                i = r.randrange(n)
                if cases.state[i] == LIVE and i not in self._open:
                    return i
            return None

        n_delete = delete_count if delete_count is not None else max(4, n // 600)
        n_merge = max(1, n_delete // 5) if n_delete >= 3 else 0
        n_purge = max(1, n_delete // 3) if n_delete >= 2 else 0
        for _ in range(max(0, n_delete - n_merge - n_purge)):
            victim = closed_live()
            if victim is not None:
                self._recycle_case(victim, at())
                out["Case.recycled"] += 1
        for _ in range(n_merge):
            victim, survivor = closed_live(), closed_live()
            if victim is not None and survivor is not None and victim != survivor:
                self.merged[victim] = survivor
                self._recycle_case(victim, at())
                out["Case.merged"] += 1
        recycled = sorted(i for i in cases.deleted_at if cases.state[i] == RECYCLED)
        for k in range(n_purge):
            victim = recycled[r.randrange(len(recycled))] if k < len(recycled) // 2 else closed_live()
            if victim is None or cases.state[victim] == PURGED:
                continue
            self._purge_case(victim, at())
            out["Case.purged"] += 1
        for c in self._pick(r, self.t_comment, 1, parent_live=True):
            self._recycle(self.t_comment, c, at())
            out["CaseComment.recycled"] += 1
        for c in self._pick(r, self.t_comment, 1, parent_live=True):
            self._purge(self.t_comment, c, at())
            out["CaseComment.purged"] += 1

        opps = self.t_opp
        open_opps = [o for o in range(len(opps)) if opps.state[o] == LIVE and opps.version[o] < 4]
        for o in r.sample(open_opps, min(len(open_opps), max(2, len(opps) // 50))):
            t = at()
            opps.version[o] += 1
            if opps.version[o] == 4:
                opps.val[o] = t
            opps.touch(o, t)
            out["Opportunity.updated"] += 1
        for _ in range(2):
            t = at()
            opps.add(
                t,
                parent=r.randrange(len(self.world.accounts)),
                aux=2,
                val=t + r.randint(30, 90) * DAY,
                flag=int(r.random() < 0.6),
            )
            out["Opportunity.inserted"] += 1
        for o in self._pick(r, opps, 1):
            self._purge(opps, o, at())
            out["Opportunity.purged"] += 1
        for o in self._pick(r, opps, 1):
            self._recycle(opps, o, at())
            out["Opportunity.recycled"] += 1

        for name, count in (("Account", 2), ("Contact", 3), ("User", 1), ("Knowledge__kav", 1)):
            table = self.tables[name]
            lo_row = 1 if name == "User" else 0
            for idx in r.sample(range(lo_row, len(table)), min(count, len(table) - lo_row)):
                table.version[idx] += 1
                table.touch(idx, at())
                out[f"{name}.updated"] += 1
        accounts = self.tables["Account"]
        for idx in r.sample(range(len(accounts)), min(2, len(accounts))):
            accounts.touch(idx, at(), modified=False)
            out["Account.automation"] += 1
        for e in self._pick(r, self.t_esc, 2):
            if self.t_esc.val[e] == 0 and not self.t_esc.flag[e]:
                self.t_esc.flag[e] = 1
                self.t_esc.touch(e, at())
                out["Support_Escalation__c.updated"] += 1
        for _ in range(max(2, n // 500)):
            i = r.randrange(n)
            if cases.state[i] == LIVE:
                cases.touch(i, at(), modified=False)
                out["Case.automation"] += 1
        out["CaseMilestone.automation"] += self._sweep_violations(at(), floor=lo)
        self.clock = max(self.clock, end)
        return dict(out)

    def _pick(self, r: Any, table: Table, count: int, parent_live: bool = False) -> list[int]:
        out: list[int] = []
        if not len(table):
            return out
        for _ in range(count * 50):
            if len(out) >= count:
                break
            idx = r.randrange(len(table))
            if table.state[idx] != LIVE or idx in out:
                continue
            if parent_live and self.t_case.state[table.parent[idx]] != LIVE:
                continue
            out.append(idx)
        return out

    # ------------------------------------------------------------------ records

    def build(self, name: str, idx: int) -> dict[str, Any]:
        """Record ``idx`` of object ``name``: every field; dateTime values as Unix seconds."""
        return self._builders[name](idx)

    def user_id(self, u: int) -> str:
        return self.tables["User"].id(u)

    def owner_id(self, owner: int) -> str:
        return self.user_id(owner) if owner >= 0 else self.tables["Group"].id(-owner - 1)

    def _sys(self, table: Table, idx: int, created_by: str, modified_by: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"CreatedDate": table.created[idx], "CreatedById": created_by}
        spec = table.spec
        if spec.has("LastModifiedDate"):
            out["LastModifiedDate"] = table.modified[idx]
            out["LastModifiedById"] = modified_by or created_by
        if spec.has("SystemModstamp"):
            out["SystemModstamp"] = table.sysmod[idx]
        if spec.has("IsDeleted"):
            out["IsDeleted"] = table.state[idx] != LIVE
        return out

    def _account_place(self, a: int) -> tuple[Any, ...]:
        r = rng_for(self.seed, _ACC, a)
        r.random()
        return _CITIES[r.randrange(len(_CITIES))] + (f"{r.randint(1, 9999)} {r.choice(_STREETS)}",)

    def _b_account(self, i: int) -> dict[str, Any]:
        table = self.tables["Account"]
        a = self.world.accounts[i]
        r = rng_for(self.seed, _ACC, i)
        r.random()
        city, state, country, postal, lat, lon = _CITIES[r.randrange(len(_CITIES))]
        street = f"{r.randint(1, 9999)} {r.choice(_STREETS)}"
        v = table.version[i]
        low, high = {"Enterprise": (5e8, 5e9), "Mid-Market": (5e7, 5e8), "Commercial": (2e6, 5e7)}[a.segment]
        revenue = round(r.uniform(low, high) * (1 + 0.02 * v), -3)
        employees = int(revenue / r.uniform(150_000, 400_000))
        owner = self.user_id(self.admin_users[i % len(self.admin_users)] if self.admin_users else 0)
        parent = None
        if a.name.endswith(" EMEA"):
            p = self._parent_account.get(a.name[: -len(" EMEA")])
            parent = self.world.accounts[p].salesforce_id if p is not None else None
        words = a.name.split()
        kind = words[-2] if a.name.endswith(" EMEA") else words[-1]
        hq_lat, hq_lon = round(lat + r.uniform(-0.05, 0.05), 6), round(lon + r.uniform(-0.05, 0.05), 6)
        geo = r.choice(("Address", "Street", "Zip"))
        rec: dict[str, Any] = {
            "Id": a.salesforce_id,
            "MasterRecordId": None,
            "Name": a.name,
            "Type": "Customer - Channel" if r.random() < 0.15 else "Customer - Direct",
            "ParentId": parent,
            "BillingStreet": street,
            "BillingCity": city,
            "BillingState": state,
            "BillingPostalCode": postal,
            "BillingCountry": country,
            "BillingLatitude": hq_lat,
            "BillingLongitude": hq_lon,
            "BillingGeocodeAccuracy": geo,
            "BillingAddress": {
                "city": city,
                "country": country,
                "geocodeAccuracy": geo,
                "latitude": hq_lat,
                "longitude": hq_lon,
                "postalCode": postal,
                "state": state,
                "street": street,
            },
            "Phone": f"+1{r.randint(201, 989)}{r.randint(200, 999)}{r.randint(1000, 9999)}",
            "Website": f"https://www.{a.domain}",
            "Industry": _INDUSTRY_BY_KIND.get(kind, "Other"),
            "AnnualRevenue": revenue,
            "NumberOfEmployees": employees,
            "Description": f"{a.segment} customer since {sf_date(table.created[i])[:4]}.",
            "OwnerId": owner,
            **self._sys(table, i, self.user_id(0), owner),
            "Segment__c": a.segment,
            "Customer_Since__c": sf_date(table.created[i]),
            "Health_Score__c": float(40 + (r.randint(0, 59) + 7 * v) % 60),
            "HQ_Location__Latitude__s": hq_lat,
            "HQ_Location__Longitude__s": hq_lon,
            "HQ_Location__c": {"latitude": hq_lat, "longitude": hq_lon},
        }
        return rec

    def _b_contact(self, i: int) -> dict[str, Any]:
        table = self.tables["Contact"]
        c = self.world.customers[i]
        r = rng_for(self.seed, _CON, i)
        r.random()
        first, _, last = c.name.partition(" ")
        city, state, country, postal, _lat, _lon, street = self._account_place(c.account_index)
        v = table.version[i]
        title = _CONTACT_TITLES[(r.randrange(len(_CONTACT_TITLES)) + v) % len(_CONTACT_TITLES)]
        owner = self.user_id(self.admin_users[c.account_index % len(self.admin_users)] if self.admin_users else 0)
        return {
            "Id": table.id(i),
            "MasterRecordId": None,
            "AccountId": self.world.accounts[c.account_index].salesforce_id,
            "LastName": last,
            "FirstName": first,
            "Name": c.name,
            "MailingStreet": street,
            "MailingCity": city,
            "MailingState": state,
            "MailingPostalCode": postal,
            "MailingCountry": country,
            "MailingLatitude": None,
            "MailingLongitude": None,
            "MailingGeocodeAccuracy": None,
            "MailingAddress": {
                "city": city,
                "country": country,
                "geocodeAccuracy": None,
                "latitude": None,
                "longitude": None,
                "postalCode": postal,
                "state": state,
                "street": street,
            },
            "Phone": c.phone,
            "Email": c.email,
            "Title": title,
            "Department": r.choice(("IT", "Operations", "Finance", "Engineering", None)),
            "OwnerId": owner,
            **self._sys(table, i, self.user_id(0), owner),
            "Preferred_Channel__c": r.choice(("Phone", "Phone", "Email", "Chat", "Web")),
        }

    def _b_user(self, u: int) -> dict[str, Any]:
        table = self.tables["User"]
        w = self.world
        if u == 0:
            first, last, email, tier = "Integration", "User", "integration@" + COMPANY_DOMAIN, 0
            title, department = "API Integration", "IT"
        else:
            agent = w.agents[u - 1] if u - 1 < len(w.agents) else w.admins[u - 1 - len(w.agents)]
            first, _, last = agent.name.partition(" ")
            email, tier = agent.email, agent.tier
            title = _AGENT_TITLES[tier]
            department = "Customer Support" if tier else "Support Operations"
        r = rng_for(self.seed, _USR, u)
        return {
            "Id": table.id(u),
            "Username": email,
            "LastName": last,
            "FirstName": first,
            "Name": f"{first} {last}",
            "CompanyName": "SupportLake Demo",
            "Department": department,
            "Title": title,
            "Email": email,
            "Alias": (first[:1] + last.replace("'", "")[:4]).lower()[:8],
            "IsActive": table.version[u] % 2 == 0,
            "TimeZoneSidKey": r.choice(S.TIME_ZONES),
            "UserType": "Standard",
            "ManagerId": None,
            **self._sys(table, u, self.user_id(0)),
            "Tier__c": f"Tier {tier}" if tier else None,
        }

    def _b_group(self, g: int) -> dict[str, Any]:
        table = self.tables["Group"]
        name, developer, kind, email = _GROUPS[g]
        return {
            "Id": table.id(g),
            "Name": name,
            "DeveloperName": developer,
            "RelatedId": None,
            "Type": kind,
            "Email": email,
            "OwnerId": self.user_id(0),
            "DoesSendEmailToMembers": kind == "Queue",
            "DoesIncludeBosses": kind == "Regular",
            **self._sys(table, g, self.user_id(0)),
        }

    def _b_business_hours(self, b: int) -> dict[str, Any]:
        table = self.tables["BusinessHours"]
        name, default, tz, days, (start, end) = _BUSINESS_HOURS[b]
        rec: dict[str, Any] = {"Id": table.id(b), "Name": name, "IsActive": True, "IsDefault": default}
        for d, day in enumerate(("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")):
            rec[f"{day}StartTime"] = start if d in days else None
            rec[f"{day}EndTime"] = end if d in days else None
        rec["TimeZoneSidKey"] = tz
        rec.update(self._sys(table, b, self.user_id(0)))
        return rec

    def _b_milestone_type(self, m: int) -> dict[str, Any]:
        table = self.tables["MilestoneType"]
        name, description = _MILESTONE_TYPES[m]
        return {
            "Id": table.id(m),
            "Name": name,
            "Description": description,
            "RecurrenceType": "none",
            **self._sys(table, m, self.user_id(0)),
        }

    def _status_at(self, plan: CasePlan, version: int) -> tuple[str, int, bool, bool]:
        status, owner, escalated, csat = "New", -1, False, False
        for kind, st, own, _ in plan.steps[: version + 1]:
            owner = own
            if kind == STATUS:
                status = st
                escalated = escalated or st == "Escalated"
            else:
                csat = True
        return status, owner, escalated, csat

    def _owner_tier(self, owner: int) -> int:
        return self.user_tier[owner] if owner >= 0 else -owner

    def _business_hours_for(self, account: int) -> str:
        segment = self.world.accounts[account].segment
        return self.tables["BusinessHours"].id(2 if segment == "Enterprise" else 1)

    def _b_case(self, i: int) -> dict[str, Any]:
        table = self.t_case
        plan = self.plan(i)
        status, owner, escalated, csat = self._status_at(plan, table.version[i])
        closed = status == "Closed"
        contact = self.world.customers[plan.contact]
        web = plan.origin in ("Web", "Email")
        first_owner = plan.steps[0][2]
        creator = self.user_id(first_owner) if plan.origin == "Phone" and first_owner >= 0 else self.user_id(0)
        modifier = self.user_id(owner) if owner >= 0 else self.user_id(0)
        master = self.merged.get(i)
        return {
            "Id": table.id(i),
            "MasterRecordId": table.id(master) if master is not None else None,
            "CaseNumber": f"{i + 1001:08d}",
            "ContactId": self.tables["Contact"].id(plan.contact),
            "AccountId": self.world.accounts[plan.account].salesforce_id,
            "ParentId": None,
            "SuppliedName": contact.name if web else None,
            "SuppliedEmail": contact.email if web else None,
            "SuppliedPhone": contact.phone if plan.origin == "Phone" else None,
            "Type": plan.ctype,
            "Status": status,
            "Reason": plan.reason if closed else None,
            "Origin": plan.origin,
            "Subject": plan.subject,
            "Priority": plan.priority,
            "Description": f"{contact.name} ({self.world.accounts[plan.account].name}) reports: {plan.subject}.",
            "IsClosed": closed,
            "ClosedDate": table.val[i] if closed and table.val[i] else None,
            "IsEscalated": escalated,
            "OwnerId": self.owner_id(owner),
            "IsClosedOnCreate": plan.closed_on_create,
            "BusinessHoursId": self._business_hours_for(plan.account),
            "SlaStartDate": table.created[i],
            "IsStopped": status == "Waiting on Customer",
            **self._sys(table, i, creator, modifier),
            "Product_Area__c": plan.area,
            "Tier__c": f"Tier {self._owner_tier(owner)}",
            "CSAT_Score__c": plan.csat if csat else None,
            "First_Contact_Resolution__c": closed and plan.fcr and not escalated,
        }

    def _b_comment(self, j: int) -> dict[str, Any]:
        table = self.t_comment
        i = table.parent[j]
        plan = self.plan(i)
        r = rng_for(self.seed, _COMMENT, j)
        agents = [own for _, _, own, _ in plan.steps if own >= 0] or [self.tier_users[1][0]]
        agent = agents[min(len(agents) - 1, table.aux[j] % len(agents))]
        sup, run, guide = self._articles_by_area[plan.area]
        u = r.random()
        if u < 0.35:
            author, published = self.user_id(0), True
            body = r.choice(
                (
                    "Thanks, that worked.",
                    "Still seeing the problem this morning.",
                    "Attached the screenshot you asked for.",
                    "Any update on this?",
                )
            )
        elif u < 0.8:
            author, published = self.user_id(agent), True
            body = r.choice(("Thanks for reaching out. ", "I've looked into this. ", "Following up on your case. "))
            if r.random() < 0.35:
                article = r.choice(sup) if r.random() < 0.6 else r.choice(guide)
                body += f"This article walks through the fix: {article.url}"
            else:
                body += "Could you confirm whether the issue still happens after a refresh?"
        else:
            author, published = self.user_id(agent), False
            body = "Internal note: reproduced on staging."
            if r.random() < 0.4:
                body += f" Following runbook {r.choice(run).url}"
        if table.version[j]:
            body += " (edited)"
        return {
            "Id": table.id(j),
            "ParentId": self.t_case.id(i),
            "IsPublished": published,
            "CommentBody": body,
            **self._sys(table, j, author),
        }

    def _b_history(self, h: int) -> dict[str, Any]:
        table = self.t_hist
        i = table.parent[h]
        plan = self.plan(i)
        k, kind = divmod(table.aux[h], 4)
        _, status, owner, _ = plan.steps[k]
        actor = owner if owner >= 0 or k == 0 else plan.steps[k - 1][2]  # who moved it to a queue
        field, data_type, old, new = "created", "Text", None, None
        if kind == 1:
            field, old, new = "Status", plan.steps[k - 1][1], status
        elif kind == 2:
            field, data_type = "Owner", "EntityId"
            old, new = self.owner_id(plan.steps[k - 1][2]), self.owner_id(owner)
        return {
            "Id": table.id(h),
            "IsDeleted": table.state[h] != LIVE,
            "CaseId": self.t_case.id(i),
            "CreatedDate": table.created[h],
            "CreatedById": self.user_id(actor) if actor >= 0 else self.user_id(0),
            "Field": field,
            "DataType": data_type,
            "OldValue": old,
            "NewValue": new,
        }

    def _b_milestone(self, m: int) -> dict[str, Any]:
        table = self.t_ms
        i = table.parent[m]
        plan = self.plan(i)
        start = self.t_case.created[i]
        minutes = (_FR_MINUTES if table.aux[m] == 0 else _RES_MINUTES)[plan.priority]
        done = table.val[m] or None
        return {
            "Id": table.id(m),
            "CaseId": self.t_case.id(i),
            "StartDate": start,
            "TargetDate": start + minutes * MINUTE,
            "CompletionDate": done,
            "MilestoneTypeId": self.tables["MilestoneType"].id(table.aux[m]),
            "IsCompleted": done is not None,
            "IsViolated": bool(table.flag[m]),
            "TargetResponseInMins": minutes,
            "ElapsedTimeInMins": (done - start) // MINUTE if done is not None else None,
            "BusinessHoursId": self._business_hours_for(plan.account),
            **self._sys(table, m, self.user_id(0)),
        }

    def _b_agent_work(self, w: int) -> dict[str, Any]:
        table = self.t_aw
        i = table.parent[w]
        plan = self.plan(i)
        r = rng_for(self.seed, _AW, w)
        handle = r.randint(3 * MINUTE, 40 * MINUTE)
        speed = r.randint(5, 10 * MINUTE)
        r.randint(0, 5 * MINUTE)
        close = table.modified[w]
        accept = close - handle
        if table.val[w]:
            user = int(table.val[w]) - 1
        elif table.aux[w] == 0:
            user = next((own for _, st, own, _ in plan.steps if own >= 0 and self._first_response_status(st)), 0)
        else:
            user = next((own for _, st, own, _ in plan.steps if own >= 0 and st == "Escalated"), 0)
        tier = self._owner_tier(user) if user else 1
        return {
            "Id": table.id(w),
            "OwnerId": self.user_id(user),
            "IsDeleted": table.state[w] != LIVE,
            "Name": f"{w + 1:08d}",
            **self._sys(table, w, self.user_id(0)),
            "UserId": self.user_id(user),
            "WorkItemId": self.t_case.id(i),
            "ServiceChannelId": make_id("0N9", _CHANNELS[plan.origin]),
            "Status": "Closed",
            "RequestDateTime": table.created[w],
            "AssignedDateTime": accept - speed,
            "AcceptDateTime": accept,
            "CloseDateTime": close,
            "HandleTime": handle,
            "ActiveTime": int(handle * r.uniform(0.6, 0.95)),
            "SpeedToAnswer": speed,
            "CapacityWeight": 1.0,
            "OriginalQueueId": self.tables["Group"].id(tier - 1),
        }

    def _b_escalation(self, e: int) -> dict[str, Any]:
        table = self.t_esc
        i = table.parent[e]
        plan = self.plan(i)
        r = rng_for(self.seed, _ESC, e)
        agent = next((own for _, st, own, _ in plan.steps if own >= 0 and st == "Escalated"), 0)
        resolved = table.val[e] or None
        status = "Resolved" if resolved else ("In Engineering" if table.flag[e] else "Open")
        return {
            "Id": table.id(e),
            "OwnerId": self.user_id(agent),
            "IsDeleted": table.state[e] != LIVE,
            "Name": f"ESC-{e + 1:06d}",
            **self._sys(table, e, self.user_id(agent)),
            "Case__c": self.t_case.id(i),
            "Account__c": self.world.accounts[plan.account].salesforce_id,
            "Severity__c": {"Critical": "Sev 1", "High": "Sev 2"}.get(plan.priority, "Sev 3"),
            "Status__c": status,
            "Escalated_To__c": self.user_id(agent),
            "Resolved_Date__c": resolved,
            "Root_Cause__c": r.choice(
                (
                    "Product bug, fixed in the next release.",
                    "Misconfigured SSO certificate.",
                    "Data import mapping error.",
                    "Third-party outage.",
                )
            )
            if resolved
            else None,
            "Jira_Key__c": f"ENG-{4000 + e}",
        }

    def _b_case_article(self, a: int) -> dict[str, Any]:
        table = self.t_art
        i = table.parent[a]
        k = table.aux[a]
        r = rng_for(self.seed, _ART, a)
        owner = self._status_at(self.plan(i), self.t_case.version[i])[1]
        return {
            "Id": table.id(a),
            "CaseId": self.t_case.id(i),
            "KnowledgeArticleId": make_id("kA0", k),
            "KnowledgeArticleVersionId": self.t_kav.id(k),
            "ArticleLanguage": "en_US",
            "ArticleVersionNumber": table.val[a],
            "IsSharedByEmail": r.random() < 0.4,
            **self._sys(table, a, self.user_id(owner) if owner >= 0 else self.user_id(0)),
        }

    def _b_kav(self, k: int) -> dict[str, Any]:
        table = self.t_kav
        art = self.kav_articles[k]
        r = rng_for(self.seed, _KAV, k)
        draft = k >= len(self.kav_articles) - max(1, len(self.kav_articles) // 20)
        author = self.user_id(self.admin_users[k % len(self.admin_users)] if self.admin_users else 0)
        return {
            "Id": table.id(k),
            "KnowledgeArticleId": make_id("kA0", k),
            "OwnerId": author,
            "IsDeleted": table.state[k] != LIVE,
            "PublishStatus": "Draft" if draft else "Online",
            "VersionNumber": table.version[k] + 1,
            "IsLatestVersion": True,
            "IsVisibleInApp": True,
            "IsVisibleInPkb": not draft and r.random() < 0.7,
            "IsVisibleInCsp": not draft,
            "Language": "en_US",
            "Title": art.title,
            "UrlName": art.slug,
            "ArticleNumber": f"{k + 1:09d}",
            "FirstPublishedDate": None if draft else table.created[k],
            "LastPublishedDate": None if draft else table.modified[k],
            "ArticleCreatedDate": table.created[k],
            "Summary": f"{art.title}: a step-by-step guide for {art.product_area.replace('_', ' ')} questions.",
            **self._sys(table, k, author),
            "Product_Area__c": art.product_area,
            "Source_URL__c": art.url,
            "Body__c": f'<p>{art.title}.</p><p>Full procedure: <a href="{art.url}">{art.url}</a></p>',
        }

    def _contract_size(self, account: int) -> int:
        """The account's yearly contract value, within its segment's ARR band (see :data:`_CONTRACT`)."""
        low, high = _CONTRACT[self.world.accounts[account].segment]
        return int(rng_for(self.seed, _OPP, 2_000_000 + account).uniform(low, high))

    def _b_opportunity(self, o: int) -> dict[str, Any]:
        table = self.t_opp
        a = self.world.accounts[table.parent[o]]
        kind = table.aux[o]
        r = rng_for(self.seed, _OPP, 1_000_000 + o)
        stage_index = table.version[o]
        won = bool(table.flag[o])
        closed = stage_index >= 4
        stage = S.OPP_STAGES[stage_index] if not closed else ("Closed Won" if won else "Closed Lost")
        low, high = _AMOUNT_FACTOR[kind]
        amount = round(self._contract_size(a.index) * r.uniform(low, high), -2)
        close = table.val[o]
        close_date = sf_date(close)
        year, month = int(close_date[:4]), int(close_date[5:7])
        owner = self.user_id(self.admin_users[table.parent[o] % len(self.admin_users)] if self.admin_users else 0)
        type_name = S.OPP_TYPES[kind]
        return {
            "Id": table.id(o),
            "IsDeleted": table.state[o] != LIVE,
            "AccountId": a.salesforce_id,
            "Name": f"{a.name} - {type_name} {year}",
            "Description": None,
            "StageName": stage,
            "Amount": amount,
            "Probability": (100.0 if won else 0.0) if closed else (10.0, 20.0, 50.0, 75.0)[stage_index],
            "CloseDate": close_date,
            "Type": type_name,
            "LeadSource": "Customer Success"
            if kind
            else r.choice(("Web", "Partner Referral", "Sales Outreach", "Event")),
            "IsClosed": closed,
            "IsWon": closed and won,
            "ForecastCategoryName": ("Closed" if won else "Omitted")
            if closed
            else ("Pipeline", "Pipeline", "Best Case", "Commit")[stage_index],
            "OwnerId": owner,
            **self._sys(table, o, owner),
            "FiscalYear": year,
            "FiscalQuarter": (month - 1) // 3 + 1,
        }


def render_json(spec: S.ObjectSpec, rec: dict[str, Any], fields: list[str] | None = None) -> dict[str, Any]:
    """A built record in the REST API's JSON form (dateTime values formatted), in field order."""
    out: dict[str, Any] = {}
    by_name = spec.by_name
    for name in fields if fields is not None else spec.field_names():
        value = rec.get(name)
        if value is not None and by_name[name].type == "datetime":
            value = sf_datetime(value)
        out[name] = value
    return out
