"""How a case evolves (:class:`CaseLifecycle`): its *plan*, drawn from ``(seed, case index)`` —
account, contact, origin, priority, product area and a list of steps (New → Working →
[Waiting on Customer] → [Escalated] → Closed, then a CSAT score) — and the steps applied, each
adding the child records it implies (CaseHistory rows, milestone completions, AgentWork,
escalations, case–article links); the automation that marks milestones violated; and the
recycle bin and purges, which cascade to a case's children.
"""

from __future__ import annotations

import bisect

from simulators.world import PRODUCT_AREAS

from . import schema as S
from ._util import HOUR, MINUTE, rng_for
from .case_records import CaseRecords
from .tables import (
    AW,
    CASE,
    CSAT,
    FR_MEAN,
    FR_MINUTES,
    LIVE,
    PLAN_CACHE,
    PURGED,
    RECYCLED,
    REOPEN_SHARE,
    RES_MEAN_H,
    RES_MINUTES,
    STATUS,
    SUBJECTS,
    CasePlan,
    Table,
    pick_csat,
    pick_origin,
    pick_priority,
    pick_tier,
    pick_type,
)


class CaseLifecycle(CaseRecords):
    """The cases' plans and steps (a mixin of :class:`simulators.salesforce.data.Org`, whose
    generation and mutations apply them)."""

    _plans: dict[int, CasePlan]
    _open: set[int]
    """The cases not yet at their plan's last step."""
    _account_cdf: list[float]
    _customers_of: list[list[int]]
    _kav_by_area: dict[str, list[int]]

    def plan(self, i: int) -> CasePlan:
        plan = self._plans.get(i)
        if plan is None:
            if len(self._plans) >= PLAN_CACHE:
                self._plans.clear()
            plan = self._plans[i] = self._make_plan(i)
        return plan

    def _make_plan(self, i: int) -> CasePlan:
        r = rng_for(self.seed, CASE, i)
        w = self.world
        account = bisect.bisect_right(self._account_cdf, r.random() * self._account_cdf[-1])
        account = min(account, len(w.accounts) - 1)
        customers = self._customers_of[account]
        contact = customers[r.randrange(len(customers))]
        origin = pick_origin(r.random())
        priority = pick_priority(r.random())
        ctype = pick_type(r.random())
        area = PRODUCT_AREAS[min(len(PRODUCT_AREAS) - 1, int(r.random() * len(PRODUCT_AREAS)))]
        tier = pick_tier(r.random())
        subject = r.choice(SUBJECTS[area])
        if ctype == "Onboarding":
            subject = "Onboarding: " + subject.lower()
        agent = r.choice(self.tier_users[tier])
        fr = int(r.expovariate(1 / FR_MEAN[priority]) * MINUTE) + MINUTE
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
            t += int(r.expovariate(1 / RES_MEAN_H[priority]) * HOUR) + 10 * MINUTE
            steps.append((STATUS, "Closed", agent, t))
            if r.random() < REOPEN_SHARE:
                # the customer answers that it is not fixed: reopened, worked on, closed again
                reopened = True
                t += r.randint(2, 120) * HOUR
                steps.append((STATUS, "Working", agent, t))
                t += int(r.expovariate(1 / RES_MEAN_H[priority]) * HOUR) + 10 * MINUTE
                steps.append((STATUS, "Closed", agent, t))
        csat = None
        if r.random() < 0.35:
            csat = pick_csat(r.random())
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
        minutes = (FR_MINUTES if self.t_ms.aux[m] == 0 else RES_MINUTES)[plan.priority]
        return start + minutes * MINUTE

    def _add_agent_work(self, i: int, aux: int, t: int, owner: int) -> None:
        """Work routed to a user (``aux`` 0: the first response, 1: an escalation), ``val`` the user + 1."""
        w = len(self.t_aw)
        r = rng_for(self.seed, AW, w)
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
