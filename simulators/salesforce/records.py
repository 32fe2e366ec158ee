"""Records built on demand: every field of record ``idx`` of an object, a pure function of the
seed, the index and the table's columns (:meth:`Records.build`), and their REST JSON form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulators.world import COMPANY_DOMAIN, Article, World

from . import schema as S
from ._util import MINUTE, make_id, rng_for, sf_date, sf_datetime
from .tables import (
    ACC,
    AGENT_TITLES,
    AMOUNT_FACTOR,
    ART,
    AW,
    BUSINESS_HOURS,
    CHANNELS,
    CITIES,
    COMMENT,
    CON,
    CONTACT_TITLES,
    CONTRACT,
    ESC,
    FR_MINUTES,
    GROUPS,
    INDUSTRY_BY_KIND,
    KAV,
    LIVE,
    MILESTONE_TYPES,
    OPP,
    RES_MINUTES,
    STATUS,
    STREETS,
    USR,
    CasePlan,
    Table,
)


class Records:
    """The record builders of :class:`simulators.salesforce.data.Org` (a mixin: the org's state is its)."""

    seed: int
    world: World
    tables: dict[str, Table]
    t_case: Table
    t_comment: Table
    t_hist: Table
    t_ms: Table
    t_aw: Table
    t_esc: Table
    t_art: Table
    t_kav: Table
    t_opp: Table
    n_users: int
    user_tier: list[int]
    tier_users: dict[int, list[int]]
    admin_users: list[int]
    kav_articles: list[Article]
    merged: dict[int, int]
    _builders: dict[str, Callable[[int], dict[str, Any]]]
    _parent_account: dict[str, int]
    _articles_by_area: dict[str, tuple[list[Article], list[Article], list[Article]]]

    def plan(self, i: int) -> CasePlan:  # pragma: no cover - the org's
        raise NotImplementedError

    def _first_response_status(self, status: str) -> bool:
        return status in ("Working", "Closed", "Escalated", "Waiting on Customer")

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
        r = rng_for(self.seed, ACC, a)
        r.random()
        return CITIES[r.randrange(len(CITIES))] + (f"{r.randint(1, 9999)} {r.choice(STREETS)}",)

    def _b_account(self, i: int) -> dict[str, Any]:
        table = self.tables["Account"]
        a = self.world.accounts[i]
        r = rng_for(self.seed, ACC, i)
        r.random()
        city, state, country, postal, lat, lon = CITIES[r.randrange(len(CITIES))]
        street = f"{r.randint(1, 9999)} {r.choice(STREETS)}"
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
            "Industry": INDUSTRY_BY_KIND.get(kind, "Other"),
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
        r = rng_for(self.seed, CON, i)
        r.random()
        first, _, last = c.name.partition(" ")
        city, state, country, postal, _lat, _lon, street = self._account_place(c.account_index)
        v = table.version[i]
        title = CONTACT_TITLES[(r.randrange(len(CONTACT_TITLES)) + v) % len(CONTACT_TITLES)]
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
            title = AGENT_TITLES[tier]
            department = "Customer Support" if tier else "Support Operations"
        r = rng_for(self.seed, USR, u)
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
        name, developer, kind, email = GROUPS[g]
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
        name, default, tz, days, (start, end) = BUSINESS_HOURS[b]
        rec: dict[str, Any] = {"Id": table.id(b), "Name": name, "IsActive": True, "IsDefault": default}
        for d, day in enumerate(("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")):
            rec[f"{day}StartTime"] = start if d in days else None
            rec[f"{day}EndTime"] = end if d in days else None
        rec["TimeZoneSidKey"] = tz
        rec.update(self._sys(table, b, self.user_id(0)))
        return rec

    def _b_milestone_type(self, m: int) -> dict[str, Any]:
        table = self.tables["MilestoneType"]
        name, description = MILESTONE_TYPES[m]
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

    def _b_kav(self, k: int) -> dict[str, Any]:
        table = self.t_kav
        art = self.kav_articles[k]
        r = rng_for(self.seed, KAV, k)
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
        """The account's yearly contract value, within its segment's ARR band (see :data:`CONTRACT`)."""
        low, high = CONTRACT[self.world.accounts[account].segment]
        return int(rng_for(self.seed, OPP, 2_000_000 + account).uniform(low, high))

    def _b_opportunity(self, o: int) -> dict[str, Any]:
        table = self.t_opp
        a = self.world.accounts[table.parent[o]]
        kind = table.aux[o]
        r = rng_for(self.seed, OPP, 1_000_000 + o)
        stage_index = table.version[o]
        won = bool(table.flag[o])
        closed = stage_index >= 4
        stage = S.OPP_STAGES[stage_index] if not closed else ("Closed Won" if won else "Closed Lost")
        low, high = AMOUNT_FACTOR[kind]
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
