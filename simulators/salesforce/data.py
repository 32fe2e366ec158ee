"""The org's data: compact per-record state, generated on demand from ``(seed, index, version)``.

Every object is a :class:`Table` of parallel ``array`` columns — created, last modified and
system modstamp (Unix seconds), version, state (live, in the recycle bin, purged), parent
index, one auxiliary integer, one value and one flag. Everything else in a record is a pure
function of the seed, the record's index and those columns, built only when a page needs it
(:meth:`Org.build`: :mod:`simulators.salesforce.records`, :mod:`simulators.salesforce.case_records`).
50,000 cases are about half a million records and a few megabytes.

A case follows a *plan* drawn from ``(seed, case index)`` (:mod:`simulators.salesforce.cases`).
Its version is the last step applied. The initial data (here) replays each plan up to the
construction clock; :meth:`Org.mutate` applies further steps at the mutation's time, so what
happened before never changes. Applying a step adds the child records it implies, so every
object stays consistent with the cases.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from simulators.clock import HISTORY_DAYS
from simulators.world import Article, World, build_world

from . import schema as S
from ._util import DAY, HOUR, MINUTE, rng_for
from .cases import CaseLifecycle
from .records import render_json
from .tables import (
    ACC,
    BUSINESS_HOURS,
    CON,
    GROUPS,
    INIT,
    KAV,
    LIVE,
    MILESTONE_TYPES,
    MUT,
    OPP,
    PURGED,
    QUIET,
    RECYCLED,
    CasePlan,
    Table,
    anniversary,
)

__all__ = ["LIVE", "PURGED", "RECYCLED", "CasePlan", "Org", "Table", "render_json"]


class Org(CaseLifecycle):
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
        r = rng_for(self.seed, INIT)
        setup = self.setup_time
        cap = self.now0 - 2 * MINUTE
        for i in range(self.n_users):
            created = setup + i * HOUR
            self.tables["User"].add(created, version=0)
        for _ in GROUPS:
            self.tables["Group"].add(setup)
        for _ in BUSINESS_HOURS:
            self.tables["BusinessHours"].add(setup)
        for _ in MILESTONE_TYPES:
            self.tables["MilestoneType"].add(setup)
        # a few agents left the company: their user is inactive (version 1)
        users = self.tables["User"]
        for u in r.sample(range(1, 1 + len(w.agents)), 3):
            users.version[u] = 1
            users.touch(u, cap - r.randint(2, 90) * DAY)
        accounts = self.tables["Account"]
        for a in w.accounts:
            ra = rng_for(self.seed, ACC, a.index)
            since = self.now0 - int(ra.uniform(1.2, 7.0) * 365 * DAY)
            accounts.add(since, min(cap, since + ra.randint(1, 400) * DAY))
        contacts = self.tables["Contact"]
        for c in w.customers:
            created = accounts.created[c.account_index] + rng_for(self.seed, CON, c.index).randint(0, 300) * DAY
            contacts.add(min(created, cap - DAY))
        for k, _art in enumerate(self.kav_articles):
            rk = rng_for(self.seed, KAV, k)
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
            r = rng_for(self.seed, OPP, a.index)
            # new business, closed won when the account became a customer
            self._add_opportunity(a.index, 0, since - r.randint(30, 120) * DAY, since, True, cap)
            year = 1
            last = cap - DAY
            while True:
                close = anniversary(since, year)
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
        r = rng_for(self.seed, MUT, seed, self.n_mutations)
        clock_rng = rng_for(self.seed, MUT + 1, seed, self.n_mutations)  # so what changes never depends on when
        self.n_mutations += 1
        hi = max(self.clock + 1, end - QUIET)
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
