"""Records built on demand: every field of record ``idx`` of an object, a pure function of the
seed, the index and the table's columns (:meth:`Records.build`), and their REST JSON form.

Here: what every builder shares, and the builders of the accounts, contacts, users, set-up objects
(Group, BusinessHours, MilestoneType), knowledge articles and opportunities. The case and its
children are built in :mod:`simulators.salesforce.case_records`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulators.world import COMPANY_DOMAIN, Article, World

from . import schema as S
from ._util import make_id, rng_for, sf_date, sf_datetime
from .specs import ObjectSpec
from .tables import (
    ACC,
    AGENT_TITLES,
    AMOUNT_FACTOR,
    BUSINESS_HOURS,
    CITIES,
    CON,
    CONTACT_TITLES,
    CONTRACT,
    GROUPS,
    INDUSTRY_BY_KIND,
    KAV,
    LIVE,
    MILESTONE_TYPES,
    OPP,
    STREETS,
    USR,
    CasePlan,
    Table,
)


class Records:
    """The record builders of :class:`simulators.salesforce.data.Org` (a mixin: the org's state is its;
    the builders of cases and their children are :class:`simulators.salesforce.case_records.CaseRecords`)."""

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


def render_json(spec: ObjectSpec, rec: dict[str, Any], fields: list[str] | None = None) -> dict[str, Any]:
    """A built record in the REST API's JSON form (dateTime values formatted), in field order."""
    out: dict[str, Any] = {}
    by_name = spec.by_name
    for name in fields if fields is not None else spec.field_names():
        value = rec.get(name)
        if value is not None and by_name[name].type == "datetime":
            value = sf_datetime(value)
        out[name] = value
    return out
