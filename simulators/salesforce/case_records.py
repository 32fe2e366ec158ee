"""The records of a case and of its children, built on demand (:class:`CaseRecords`): Case,
CaseComment, CaseHistory, CaseMilestone, AgentWork, Support_Escalation__c and CaseArticle, each a
pure function of the seed, the record's index, the table's columns and the case's plan."""

from __future__ import annotations

from typing import Any

from ._util import MINUTE, make_id, rng_for
from .records import Records
from .tables import (
    ART,
    AW,
    CHANNELS,
    COMMENT,
    ESC,
    FR_MINUTES,
    LIVE,
    RES_MINUTES,
    STATUS,
    CasePlan,
)


class CaseRecords(Records):
    """The builders of cases and their children (a mixin of :class:`simulators.salesforce.data.Org`,
    over the builders of :class:`simulators.salesforce.records.Records`)."""

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
        r = rng_for(self.seed, COMMENT, j)
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
        minutes = (FR_MINUTES if table.aux[m] == 0 else RES_MINUTES)[plan.priority]
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
        r = rng_for(self.seed, AW, w)
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
            "ServiceChannelId": make_id("0N9", CHANNELS[plan.origin]),
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
        r = rng_for(self.seed, ESC, e)
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
        r = rng_for(self.seed, ART, a)
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
