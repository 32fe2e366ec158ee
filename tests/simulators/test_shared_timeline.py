"""The simulators' one timeline (simulators/clock.py): every month of the shared window
holds Zendesk tickets, Salesforce cases and Confluence page changes, none lies after the clock, and
no simulator's data depends on the machine's date."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable

import pytest

from simulators import clock
from simulators.confluence import ConfluenceSimulator
from simulators.salesforce import SalesforceSimulator
from simulators.zendesk import ZendeskSimulator


def _months(stamps: Iterable[str]) -> set[dt.date]:
    out = set()
    for stamp in stamps:
        parsed = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00").replace("+0000", "+00:00"))
        out.add(dt.date(parsed.year, parsed.month, 1))
    return out


def test_every_month_of_the_window_holds_every_system() -> None:
    window = clock.months()
    assert window[0] == dt.date(2023, 7, 1)
    assert window[-1] == dt.date(2025, 6, 1)
    assert len(window) == 24

    zendesk = ZendeskSimulator(seed=4, n_tickets=1500)
    salesforce = SalesforceSimulator(seed=4, n_cases=750)
    confluence = ConfluenceSimulator(seed=4)
    assert zendesk.now == salesforce.now == confluence.now == clock.NOW

    tickets = _months(t["created_at"] for t in zendesk.records("tickets"))
    cases = _months(c["CreatedDate"] for c in salesforce.records("Case"))
    pages = confluence.records("pages")
    page_changes = _months(p["createdAt"] for p in pages) | _months(p["version"]["createdAt"] for p in pages)
    for name, months in (("Zendesk tickets", tickets), ("Salesforce cases", cases)):
        assert months == set(window), f"{name}: months outside or missing: {sorted(months ^ set(window))}"
    assert set(window) <= page_changes, sorted(set(window) - page_changes)
    assert max(page_changes) <= window[-1]


@pytest.mark.parametrize("simulator", ["salesforce", "zendesk", "confluence"])
def test_the_machines_date_changes_nothing(simulator: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Built under two faked wall clocks a year apart, each simulator serves the same records."""

    def build() -> list[dict[str, object]]:
        if simulator == "salesforce":
            return SalesforceSimulator(seed=6, n_cases=200).records("Case")
        if simulator == "zendesk":
            return list(ZendeskSimulator(seed=6, n_tickets=200).records("tickets"))
        return ConfluenceSimulator(seed=6, n_extra_pages=40).records("pages")

    real = time.time
    seen = []
    for offset_days in (0, 365):
        monkeypatch.setattr(time, "time", lambda days=offset_days: real() + days * 86_400)
        seen.append(build())
    assert seen[0] == seen[1]
