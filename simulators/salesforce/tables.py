"""The org's storage and the data it draws from: states, random-stream tags, weighted picks and
value tables, per-object :class:`Table` columns and a case's :class:`CasePlan`."""

from __future__ import annotations

import datetime as dt
from array import array
from collections.abc import Iterator
from dataclasses import dataclass

from simulators.world import COMPANY_DOMAIN, weighted

from ._util import MINUTE, index_of, make_id
from .specs import ObjectSpec

LIVE, RECYCLED, PURGED = 0, 1, 2
STATUS, CSAT = 0, 1

# random stream tags
ACC, CON, USR, CASE, COMMENT, OPP, KAV, AW, ESC, ART, INIT, MUT = (
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

pick_origin = weighted((("Phone", 0.60), ("Email", 0.17), ("Chat", 0.10), ("Web", 0.08), ("Social", 0.05)))
pick_priority = weighted((("Low", 0.25), ("Medium", 0.45), ("High", 0.22), ("Critical", 0.08)))
pick_type = weighted((("Problem", 0.45), ("Question", 0.35), ("Feature Request", 0.08), ("Onboarding", 0.12)))
pick_tier = weighted(((1, 0.72), (2, 0.20), (3, 0.08)))
CONTRACT = {"Enterprise": (5_600_000, 11_000_000), "Mid-Market": (650_000, 3_500_000), "Commercial": (40_000, 340_000)}
"""Yearly contract value by segment. With :data:`AMOUNT_FACTOR` an account's ARR (its won
Opportunities of the last 12 months: one new business or renewal, at most two expansions) stays
in its segment's band of the seeds: Enterprise $5M+, Mid-Market $500K–$5M, Commercial < $500K."""
AMOUNT_FACTOR = {0: (0.9, 1.0), 1: (0.95, 1.1), 2: (0.05, 0.15)}
"""Opportunity amount as a share of the contract value: new business, renewal, expansion."""
REOPEN_SHARE = 0.08
"""Cases (of those not closed on creation) that are reopened once after their first close."""
pick_csat = weighted(((5.0, 0.48), (4.0, 0.30), (3.0, 0.11), (2.0, 0.06), (1.0, 0.05)))
FR_MINUTES = {"Critical": 60, "High": 240, "Medium": 480, "Low": 1440}
RES_MINUTES = {"Critical": 1440, "High": 2880, "Medium": 7200, "Low": 14400}
FR_MEAN = {"Critical": 25, "High": 90, "Medium": 240, "Low": 600}
RES_MEAN_H = {"Critical": 10, "High": 30, "Medium": 60, "Low": 110}

SUBJECTS = {
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
INDUSTRY_BY_KIND = {
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
CITIES = (
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
STREETS = ("Market St", "Main St", "Oak Ave", "Harbor Blvd", "King St", "Elm St", "Park Ave", "River Rd")
CONTACT_TITLES = (
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
AGENT_TITLES = {
    0: "Support Operations Coordinator",
    1: "Support Specialist",
    2: "Support Engineer",
    3: "Support Architect",
}
GROUPS = (
    ("Tier 1 Support", "Tier_1_Support", "Queue", "tier1-support@" + COMPANY_DOMAIN),
    ("Tier 2 Support", "Tier_2_Support", "Queue", "tier2-support@" + COMPANY_DOMAIN),
    ("Tier 3 Support", "Tier_3_Support", "Queue", "tier3-support@" + COMPANY_DOMAIN),
    ("Support Operations", "Support_Operations", "Regular", None),
)
BUSINESS_HOURS = (
    ("Default", True, "America/Los_Angeles", (0, 1, 2, 3, 4, 5, 6), ("00:00:00.000Z", "00:00:00.000Z")),
    ("Support Hours (US)", False, "America/New_York", (1, 2, 3, 4, 5), ("08:00:00.000Z", "18:00:00.000Z")),
    ("Enterprise 24x5", False, "America/New_York", (1, 2, 3, 4, 5), ("00:00:00.000Z", "00:00:00.000Z")),
)
MILESTONE_TYPES = (
    ("First Response", "Time to the first response by an agent"),
    ("Resolution Time", "Time to close the case"),
)
CHANNELS = {"Phone": 0, "Email": 1, "Chat": 2, "Web": 3, "Social": 4}
_CACHED_IDS = frozenset({"User", "Group", "BusinessHours", "MilestoneType", "Contact", "Knowledge__kav", "Case"})
"""Objects whose Ids other records refer to all the time: their Ids are computed once."""
QUIET = 2 * MINUTE
"""A mutation's changes fall before the last two minutes of the time it covers."""
PLAN_CACHE = 65_536
"""Case plans kept in memory (about 1 kB each); beyond that they are regenerated on demand."""


def anniversary(ts: int, years: int) -> int:
    """``ts`` moved on by whole calendar years (29 February → 28 February)."""
    t = dt.datetime.fromtimestamp(ts, tz=dt.UTC)
    try:
        moved = t.replace(year=t.year + years)
    except ValueError:
        moved = t.replace(year=t.year + years, day=28)
    return int(moved.timestamp())


class Table:
    """One object's records as parallel arrays; record ``i`` is row ``i`` of every column."""

    def __init__(self, spec: ObjectSpec, fixed_ids: list[str] | None = None) -> None:
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
