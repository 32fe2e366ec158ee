"""A seeded, deterministic "company world" shared by the three simulators.

The Zendesk, Salesforce and Confluence simulators all describe the same company: the same
customer accounts (with their Salesforce Account Ids and email domains), the same support
agents (by lower-cased email, in the tier groups of ``seeds/support-operations-org.md``:
45 Tier 1, 15 Tier 2, 8 Tier 3), the same knowledge articles (Confluence pages in the
``SUP`` knowledge base and ``RUN`` runbooks, Zendesk Guide articles) and the same end users.
That shared world is what lets the warehouse link records across systems.

Everything here is a pure function of the seed (:func:`build_world` is cached), small
(hundreds of accounts, ~70 agents, a few hundred articles, a few thousand end users) and
immutable.
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

COMPANY_NAME = "SupportLake Demo"
COMPANY_DOMAIN = "supportlake-demo.com"
CONFLUENCE_BASE = "https://acme.atlassian.net/wiki"
GUIDE_BASE = "https://acme.zendesk.com/hc/en-us/articles"

SEGMENTS = ("Enterprise", "Mid-Market", "Commercial")
TIER_SIZES = {1: 45, 2: 15, 3: 8}
"""Agents per tier group, as in seeds/support-operations-org.md."""

PRODUCT_AREAS = (
    "billing",
    "login_access",
    "integrations",
    "reporting",
    "api",
    "mobile_app",
    "data_import",
    "notifications",
    "performance",
    "user_management",
)

# fmt: off
_FIRST = (
    "Ava", "Liam", "Maya", "Noah", "Zoe", "Ethan", "Isla", "Lucas", "Mia", "Omar", "Priya", "Mateo", "Chloe",
    "Arjun", "Elena", "Kai", "Sofia", "Leo", "Hana", "Jonas", "Amara", "Felix", "Nora", "Diego", "Grace",
    "Yusuf", "Lena", "Ravi", "Clara", "Tomas", "Ines", "Hugo", "Aisha", "Marco", "Freya", "Kenji", "Laila",
    "Oscar", "Mei", "Samir", "Julia", "Andre", "Tara", "Emil", "Nadia", "Victor", "Rosa", "Ibrahim", "Alice",
    "Bruno", "Carmen", "Daniel", "Eva", "Fatima", "Gabriel", "Helena", "Ivan", "Jade", "Karim", "Lucia",
    "Milan", "Naomi", "Oliver", "Paula", "Quinn", "Rafael", "Sara", "Theo", "Uma", "Wei",
)
_LAST = (
    "Smith", "Garcia", "Chen", "Patel", "Müller", "Okafor", "Rossi", "Kim", "Novak", "Silva", "Haddad",
    "Johansson", "Nguyen", "Dubois", "Kowalski", "Tanaka", "Oliveira", "Schmidt", "Ivanova", "Brown", "Fischer",
    "Moreau", "Costa", "Yilmaz", "Andersen", "Murphy", "Singh", "Lopez", "Weber", "Sato", "Ahmed", "Baker",
    "Clarke", "Dimitrov", "Eriksson", "Ferrari", "Gomez", "Hoffmann", "Ito", "Jensen", "Khan", "Larsen",
    "Martin", "Nakamura", "O'Brien", "Petrov", "Reyes", "Santos", "Torres", "Vogel",
)
_NAME_PARTS = (
    "Acme", "Northwind", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Wonka", "Tyrell", "Cyberdyne",
    "Soylent", "Hooli", "Vandelay", "Aperture", "Gringotts", "Oscorp", "Pied Piper", "Massive Dynamic",
    "Blue Harbor", "Silver Pine", "Red Maple", "Golden Gate", "Iron Peak", "Clearwater", "Brightline", "Summit",
    "Evergreen", "Lakeside", "Riverbend", "Starlight", "Ironwood", "Redwood", "Harborview", "Northstar",
    "Sunrise", "Bluebird", "Granite", "Copperfield", "Westwind", "Eastgate", "Pinecrest", "Oakridge",
    "Stonebridge", "Falcon", "Atlas", "Orion", "Zenith", "Vertex", "Nimbus", "Quantum",
)
_NAME_KINDS = (
    "Logistics", "Health", "Analytics", "Retail", "Energy", "Labs", "Systems", "Foods", "Media", "Financial",
    "Insurance", "Robotics", "Travel", "Education", "Manufacturing", "Software", "Pharma", "Telecom", "Motors",
    "Studios",
)
# fmt: on
_TLDS = (".com", ".com", ".com", ".io", ".net", ".co")

_KB_TOPICS = (
    "How to reset a user's password",
    "Troubleshooting single sign-on errors",
    "Exporting reports to CSV",
    "Setting up the Salesforce integration",
    "Rotating API keys safely",
    "Understanding invoice line items",
    "Fixing delayed email notifications",
    "Importing contacts from a spreadsheet",
    "Mobile app crashes on start",
    "Configuring user roles and permissions",
    "Webhook retries and failures",
    "Resolving slow dashboard loading",
    "Changing the billing contact",
    "Two-factor authentication recovery",
    "API rate limit errors explained",
    "Data retention and deletion requests",
    "Scheduling recurring reports",
    "Connecting Slack notifications",
    "Bulk updating records",
    "Time zone settings for reports",
)
_RUNBOOK_TOPICS = (
    "Escalating a P1 incident to engineering",
    "Restoring a deleted workspace",
    "Replaying failed webhooks",
    "Unlocking a locked-out admin account",
    "Investigating elevated API error rates",
    "Refunding a duplicate charge",
    "Migrating a customer between regions",
    "Handling a security disclosure report",
    "Rebuilding a corrupted search index",
    "Diagnosing SSO certificate expiry",
    "Re-running a stuck data import",
    "Purging a customer's cached reports",
)
_ASPECTS = ("", " (admin guide)", " for Enterprise plans", " on mobile", " via the API", " — FAQ", " step by step")

_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SF_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


@dataclass(frozen=True, slots=True)
class Account:
    """A customer company; in Salesforce an Account, in Zendesk an Organization."""

    index: int
    name: str
    domain: str
    segment: str
    salesforce_id: str
    """The 18-character, case-insensitive Salesforce Account Id (``001`` + 15 characters)."""

    @property
    def salesforce_id15(self) -> str:
        """The 15-character, case-sensitive form of the same Id."""
        return self.salesforce_id[:15]


@dataclass(frozen=True, slots=True)
class Agent:
    """A support agent (tier 1–3) or a support-operations admin (tier 0)."""

    index: int
    name: str
    email: str
    tier: int

    @property
    def group_name(self) -> str:
        return f"Tier {self.tier} Support" if self.tier else "Support Operations"


@dataclass(frozen=True, slots=True)
class Article:
    """A knowledge article: a Confluence page (space ``SUP`` or ``RUN``) or a Zendesk Guide article."""

    index: int
    system: str
    """``confluence`` or ``zendesk_guide``."""
    id: int
    title: str
    space_key: str | None
    product_area: str

    @property
    def slug(self) -> str:
        return slugify(self.title)

    @property
    def url(self) -> str:
        if self.system == "confluence":
            title = re.sub(r"[^A-Za-z0-9]+", "+", self.title).strip("+")
            return f"{CONFLUENCE_BASE}/spaces/{self.space_key}/pages/{self.id}/{title}"
        return f"{GUIDE_BASE}/{self.id}-{self.slug}"


@dataclass(frozen=True, slots=True)
class Customer:
    """An end user at a customer account, with an email at the account's domain."""

    index: int
    account_index: int
    name: str
    email: str
    phone: str


@dataclass(frozen=True, slots=True)
class World:
    seed: int
    company_domain: str
    accounts: tuple[Account, ...]
    agents: tuple[Agent, ...]
    admins: tuple[Agent, ...]
    articles: tuple[Article, ...]
    customers: tuple[Customer, ...]

    def agents_in_tier(self, tier: int) -> tuple[Agent, ...]:
        return tuple(a for a in self.agents if a.tier == tier)

    def customers_of(self, account_index: int) -> tuple[Customer, ...]:
        return tuple(c for c in self.customers if c.account_index == account_index)

    def articles_in(self, system: str, space_key: str | None = None) -> tuple[Article, ...]:
        return tuple(a for a in self.articles if a.system == system and (space_key is None or a.space_key == space_key))


def slugify(text: str) -> str:
    """Lower-case, ASCII letters and digits joined by hyphens (Guide article URL slugs)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower().replace("'", "")).strip("-")


def salesforce_id18(id15: str) -> str:
    """Salesforce's 15 → 18 character Id conversion: one checksum letter per 5-character chunk,
    encoding which characters of the chunk are upper-case."""
    suffix = ""
    for chunk in (id15[0:5], id15[5:10], id15[10:15]):
        bits = sum(1 << i for i, ch in enumerate(chunk) if "A" <= ch <= "Z")
        suffix += _SF_SUFFIX[bits]
    return id15 + suffix


def _person_names(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    names: list[str] = []
    while len(names) < count:
        name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        if name not in taken:
            taken.add(name)
            names.append(name)
    return names


def _email_local(name: str) -> str:
    ascii_name = name.replace("ü", "u").replace("'", "").lower()
    return ".".join(ascii_name.split())


def _accounts(rng: random.Random, n_accounts: int) -> tuple[Account, ...]:
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n_accounts:
        name = f"{rng.choice(_NAME_PARTS)} {rng.choice(_NAME_KINDS)}"
        if name not in seen:
            seen.add(name)
            names.append(name)
    # A few subsidiaries share their parent's email domain (e.g. "Acme Labs" and "Acme Labs EMEA").
    n_subsidiaries = max(1, n_accounts // 60)
    accounts: list[Account] = []
    ids: set[str] = set()
    for i in range(n_accounts):
        first_subsidiary = n_accounts - n_subsidiaries
        parent = (i * 37) % first_subsidiary if i >= first_subsidiary else None
        if parent is not None:
            name = f"{names[parent]} EMEA"
            domain = accounts[parent].domain
        else:
            name = names[i]
            domain = slugify(name).replace("-", "") + rng.choice(_TLDS)
        roll = rng.random()
        segment = SEGMENTS[0] if roll < 0.12 else SEGMENTS[1] if roll < 0.42 else SEGMENTS[2]
        while True:
            id15 = (
                "001" + rng.choice("5678") + rng.choice("gGHJ") + "00000" + "".join(rng.choice(_B62) for _ in range(5))
            )
            if id15.lower() not in ids:
                ids.add(id15.lower())
                break
        accounts.append(Account(i, name, domain, segment, salesforce_id18(id15)))
    return tuple(accounts)


def _agents(rng: random.Random, taken: set[str]) -> tuple[tuple[Agent, ...], tuple[Agent, ...]]:
    total = sum(TIER_SIZES.values())
    names = _person_names(rng, total + 2, taken)
    agents: list[Agent] = []
    tiers = [tier for tier, size in TIER_SIZES.items() for _ in range(size)]
    for i, (name, tier) in enumerate(zip(names, tiers, strict=False)):
        agents.append(Agent(i, name, f"{_email_local(name)}@{COMPANY_DOMAIN}", tier))
    admins = tuple(
        Agent(total + k, name, f"{_email_local(name)}@{COMPANY_DOMAIN}", 0) for k, name in enumerate(names[total:])
    )
    return tuple(agents), admins


def _articles(rng: random.Random) -> tuple[Article, ...]:
    articles: list[Article] = []
    seen: set[tuple[str, str]] = set()

    def add(system: str, space: str | None, topics: tuple[str, ...], count: int, first_id: int, step: int) -> None:
        next_id = first_id
        made = 0
        while made < count:
            title = rng.choice(topics) + rng.choice(_ASPECTS)
            key = (system + (space or ""), title)
            if key in seen:
                title = f"{title} ({made + 1})"
                key = (system + (space or ""), title)
            seen.add(key)
            next_id += rng.randint(1, step)
            articles.append(Article(len(articles), system, next_id, title, space, rng.choice(PRODUCT_AREAS)))
            made += 1

    add("confluence", "SUP", _KB_TOPICS, 160, 98_304_000, 4000)
    add("confluence", "RUN", _RUNBOOK_TOPICS, 60, 131_072_000, 4000)
    add("zendesk_guide", None, _KB_TOPICS, 120, 360_041_000_000, 90_000)
    return tuple(articles)


def _customers(rng: random.Random, accounts: tuple[Account, ...], taken: set[str]) -> tuple[Customer, ...]:
    per_segment = {"Enterprise": (12, 24), "Mid-Market": (6, 14), "Commercial": (2, 7)}
    customers: list[Customer] = []
    emails: set[str] = set()
    for account in accounts:
        low, high = per_segment[account.segment]
        for _ in range(rng.randint(low, high)):
            while True:
                name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
                email = f"{_email_local(name)}@{account.domain}"
                if email not in emails:
                    emails.add(email)
                    break
            phone = f"+1{rng.randint(201, 989)}{rng.randint(200, 999)}{rng.randint(1000, 9999)}"
            customers.append(Customer(len(customers), account.index, name, email, phone))
    return tuple(customers)


@functools.lru_cache(maxsize=16)
def build_world(seed: int = 1, n_accounts: int = 300) -> World:
    """The world for ``seed``: the same seed always gives the same world."""
    rng = random.Random(f"supportlake-world:{seed}")
    accounts = _accounts(rng, n_accounts)
    taken: set[str] = set()
    agents, admins = _agents(rng, taken)
    articles = _articles(rng)
    customers = _customers(rng, accounts, taken)
    return World(seed, COMPANY_DOMAIN, accounts, agents, admins, articles, customers)


def weighted(table: tuple[tuple[Any, float], ...]) -> Callable[[float], Any]:
    """A function from a uniform number in [0, 1) to a value of ``table`` by weight."""
    total = sum(w for _, w in table)
    bounds: list[tuple[float, Any]] = []
    acc = 0.0
    for value, w in table:
        acc += w / total
        bounds.append((acc, value))

    def pick(u: float) -> Any:
        for bound, value in bounds:
            if u < bound:
                return value
        return bounds[-1][1]

    return pick
