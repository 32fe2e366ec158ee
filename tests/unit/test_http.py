"""The HTTP layer: retry policy, error mapping, counters, auth refresh and pacing, on `responses`."""

from __future__ import annotations

import gzip
import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests
import responses
from responses import matchers

from common.errors import (
    AuthError,
    FatalAPIError,
    InvalidResponseError,
    NotAvailableError,
    RateLimited,
    RetriesExhausted,
)
from connectors.auth import BasicAuth, RefreshableAuth
from connectors.http import HttpClient, RetryPolicy, user_agent
from connectors.pacing import RateLimit, RateLimiter
from connectors.stats import StatsRegistry
from tests.unit.conftest import FakeClock

BASE = "https://acme.zendesk.com"
TICKETS = f"{BASE}/api/v2/tickets.json"
OK = {"tickets": [{"id": 1}]}


def make_client(clock: FakeClock, **kw: object) -> HttpClient:
    kw.setdefault("policy", RetryPolicy(jitter=0.0))
    kw.setdefault("stats", StatsRegistry())
    return HttpClient(BASE, name="zendesk", sleep=clock.sleep, clock=clock, **kw)  # type: ignore[arg-type]


def get_tickets(client: HttpClient, **kw: object) -> object:
    return client.get_json("/api/v2/tickets.json", endpoint="tickets", **kw).data  # type: ignore[arg-type]


# -- 429 and Retry-After ------------------------------------------------------------------------


def test_429_waits_for_retry_after_seconds_then_succeeds(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    rsps.get(TICKETS, status=429, headers={"Retry-After": "7"})
    rsps.get(TICKETS, status=429, headers={"Retry-After": "3"})
    rsps.get(TICKETS, json=OK)
    client = make_client(clock)

    assert get_tickets(client) == OK

    assert len(rsps.calls) == 3
    assert len(clock.slept) == 2
    # Retry-After is honoured; at most a quarter second of jitter is added on top.
    assert 7.0 <= clock.slept[0] <= 7.25
    assert 3.0 <= clock.slept[1] <= 3.25


def test_429_retry_after_as_http_date(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    when = datetime.now(UTC) + timedelta(seconds=30)
    rsps.get(TICKETS, status=429, headers={"Retry-After": format_datetime(when, usegmt=True)})
    rsps.get(TICKETS, json=OK)
    client = make_client(clock)

    assert get_tickets(client) == OK

    assert len(clock.slept) == 1
    # An HTTP date has whole seconds: the wait is 29-30 s, plus at most 0.25 s of jitter.
    assert 28.5 <= clock.slept[0] <= 30.25


def test_retry_after_is_capped_by_the_policy(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    rsps.get(TICKETS, status=429, headers={"Retry-After": "86400"})
    rsps.get(TICKETS, json=OK)
    client = make_client(clock, policy=RetryPolicy(max_retry_after=5.0, jitter=0.0))

    get_tickets(client)

    assert 5.0 <= clock.slept[0] <= 5.25


def test_429_blocks_its_rate_group_while_the_retry_waits(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    rsps.get(TICKETS, status=429, headers={"Retry-After": "10"})
    rsps.get(TICKETS, json=OK)
    during_wait: dict[str, float] = {}

    def sleep(seconds: float) -> None:
        if not during_wait:  # the retry's wait: how long would another request of each group wait now?
            during_wait["other group"] = client.limiter.acquire("default")
            during_wait["same group"] = client.limiter.acquire("export")
        clock.sleep(seconds)

    client = HttpClient(BASE, name="zendesk", sleep=sleep, clock=clock, stats=StatsRegistry())

    get_tickets(client, rate_group="export")

    assert during_wait["other group"] == 0.0
    assert 10.0 <= during_wait["same group"] <= 10.25
    assert len(rsps.calls) == 2


# -- transient failures -------------------------------------------------------------------------


def test_5xx_storm_ends_in_success_with_exponential_backoff(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    for status in (500, 502, 503, 504, 408):
        rsps.get(TICKETS, status=status, json={"error": "try later"})
    rsps.get(TICKETS, json=OK)
    client = make_client(clock, policy=RetryPolicy(backoff_initial=0.5, backoff_max=30.0, jitter=0.0))

    assert get_tickets(client) == OK

    assert len(rsps.calls) == 6
    assert clock.slept == [0.5, 1.0, 2.0, 4.0, 8.0]
    stats = client.stats.get("zendesk", "tickets")
    assert (stats.requests, stats.retries, stats.rate_limited) == (6, 5, 0)
    assert stats.waited_seconds == pytest.approx(15.5)


def test_backoff_is_capped_and_jittered(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    for _ in range(4):
        rsps.get(TICKETS, status=503)
    rsps.get(TICKETS, json=OK)
    client = make_client(clock, policy=RetryPolicy(backoff_initial=1.0, backoff_max=2.0, jitter=0.5))

    get_tickets(client)

    bases = [1.0, 2.0, 2.0, 2.0]
    assert len(clock.slept) == 4
    for base, slept in zip(bases, clock.slept, strict=True):
        assert base <= slept <= base + 0.5


def test_5xx_retry_after_is_honoured(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    rsps.get(TICKETS, status=503, headers={"Retry-After": "12"})
    rsps.get(TICKETS, json=OK)
    client = make_client(clock)

    get_tickets(client)

    assert clock.slept == [12.0]


def test_body_cut_off_is_retried(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    rsps.get(TICKETS, body=b'{"tickets": [{"id": 1}, {"i', headers={"Content-Length": "9999"})
    rsps.get(TICKETS, json=OK)
    client = make_client(clock)

    assert get_tickets(client) == OK

    assert len(rsps.calls) == 2
    assert clock.slept == [0.5]


def test_truncated_json_body_is_retried(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    rsps.get(TICKETS, body=b'{"tickets": [{"id": 1}, {"i', content_type="application/json")
    rsps.get(TICKETS, json=OK)
    client = make_client(clock)

    assert get_tickets(client) == OK
    assert len(rsps.calls) == 2


def test_small_gzip_body_is_not_mistaken_for_a_cut_off_one(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    # Content-Length counts the compressed bytes; a tiny JSON body is *smaller* than its gzip.
    body = gzip.compress(b'{"groups":[]}')
    rsps.get(TICKETS, body=body, headers={"Content-Encoding": "gzip", "Content-Length": str(len(body))})
    client = make_client(clock)

    assert get_tickets(client) == {"groups": []}
    assert clock.slept == []


def test_invalid_json_is_retried_then_succeeds(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    rsps.get(TICKETS, body="<html>502 Bad Gateway</html>", status=200)
    rsps.get(TICKETS, json=OK)
    client = make_client(clock)

    assert get_tickets(client) == OK
    assert client.stats.get("zendesk", "tickets").retries == 1


def test_persistent_invalid_json_exhausts_retries_with_a_clear_error(
    rsps: responses.RequestsMock, clock: FakeClock
) -> None:
    for _ in range(3):
        rsps.get(TICKETS, body="<html>maintenance</html>", status=200)
    client = make_client(clock, policy=RetryPolicy(max_attempts=3, jitter=0.0))

    with pytest.raises(RetriesExhausted) as info:
        get_tickets(client)

    err = info.value
    message = str(err)
    assert "zendesk.tickets" in message
    assert TICKETS in message
    assert "not valid JSON" in message
    assert "<html>maintenance" in message  # the start of the body says what came back
    assert err.endpoint == "zendesk.tickets"
    assert err.url == TICKETS
    assert isinstance(err.last_error, InvalidResponseError)
    assert len(rsps.calls) == 3
    assert clock.slept == [0.5, 1.0]


def test_dropped_connection_is_retried(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    rsps.get(TICKETS, body=requests.ConnectionError("Connection reset by peer"))
    rsps.get(TICKETS, body=requests.ReadTimeout("read timed out"))
    rsps.get(TICKETS, json=OK)
    client = make_client(clock)

    assert get_tickets(client) == OK

    assert len(rsps.calls) == 3
    assert clock.slept == [0.5, 1.0]
    assert client.stats.get("zendesk", "tickets").retries == 2


def test_retry_budget_runs_out_naming_the_attempts(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    for _ in range(3):
        rsps.get(TICKETS, status=503, body="upstream down")
    client = make_client(clock, policy=RetryPolicy(max_attempts=3, jitter=0.0))

    with pytest.raises(RetriesExhausted) as info:
        get_tickets(client)

    message = str(info.value)
    assert "gave up after 3 attempt(s)" in message
    assert "3 attempts" in message  # the budget
    assert "HTTP 503" in message
    assert info.value.status == 503
    assert len(rsps.calls) == 3  # no fourth request
    assert clock.slept == [0.5, 1.0]


def test_connection_errors_exhaust_into_retries_exhausted(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    for _ in range(2):
        rsps.get(TICKETS, body=requests.ConnectionError("Connection refused"))
    client = make_client(clock, policy=RetryPolicy(max_attempts=2, jitter=0.0))

    with pytest.raises(RetriesExhausted) as info:
        get_tickets(client)

    assert "ConnectionError: Connection refused" in str(info.value)
    assert isinstance(info.value.last_error, requests.ConnectionError)


def test_total_deadline_is_honoured(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    for _ in range(3):
        rsps.get(TICKETS, status=503, headers={"Retry-After": "4"})
    client = make_client(clock, policy=RetryPolicy(max_attempts=100, deadline_seconds=10.0))

    with pytest.raises(RetriesExhausted) as info:
        get_tickets(client)

    # 0 s, 4 s, 8 s: a third wait would end at 12 s, past the 10 s deadline.
    assert clock.slept == [4.0, 4.0]
    assert len(rsps.calls) == 3
    assert "10s" in str(info.value)


def test_deadline_stops_a_429_storm_and_says_so(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    for _ in range(2):
        rsps.get(TICKETS, status=429, headers={"Retry-After": "40"})
    client = make_client(clock, policy=RetryPolicy(deadline_seconds=60.0))

    with pytest.raises(RetriesExhausted) as info:
        get_tickets(client)

    assert len(clock.slept) == 1
    message = str(info.value)
    assert "gave up after 2 attempt(s)" in message
    assert "2 rate limited" in message
    assert isinstance(info.value.last_error, RateLimited)


def test_retry_is_logged_once_per_sleep_naming_the_endpoint_once(
    rsps: responses.RequestsMock, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    rsps.get(TICKETS, status=502)
    rsps.get(TICKETS, json=OK)
    client = make_client(clock)

    with caplog.at_level(logging.WARNING, logger="supportlake.http"):
        get_tickets(client)

    lines = [r.getMessage() for r in caplog.records if r.name == "supportlake.http"]
    assert len(lines) == 1
    assert lines[0].startswith("zendesk.tickets: server error (HTTP 502)")
    assert lines[0].count("zendesk.tickets") == 1
    assert lines[0].endswith("retry 1 in 0.5s")


# -- errors that are not retried ----------------------------------------------------------------


def test_401_raises_auth_error_naming_the_settings_never_the_token(
    rsps: responses.RequestsMock, clock: FakeClock
) -> None:
    token = "zd-api-token-6f1c2b9e"
    rsps.get(
        TICKETS,
        status=401,
        json={"error": f"Couldn't authenticate you with agent@acme.com/token:{token}"},
    )
    hint = "SOURCES__ZENDESK__CREDENTIALS__EMAIL and SOURCES__ZENDESK__CREDENTIALS__API_TOKEN"
    client = make_client(clock, auth=BasicAuth("agent@acme.com/token", token), auth_hint=hint)

    with pytest.raises(AuthError) as info:
        get_tickets(client)

    message = str(info.value)
    assert hint in message
    assert "refused the credentials" in message
    assert token not in message
    assert token not in info.value.body
    assert "***" in message
    assert info.value.status == 401
    assert len(rsps.calls) == 1
    assert clock.slept == []
    # The token did go out, in the Authorization header, but only there.
    assert rsps.calls[0].request.headers["Authorization"].startswith("Basic ")


@pytest.mark.parametrize("status", [403, 404])
def test_403_and_404_raise_not_available(rsps: responses.RequestsMock, clock: FakeClock, status: int) -> None:
    rsps.get(TICKETS, status=status, json={"error": "Forbidden"})
    client = make_client(clock)

    with pytest.raises(NotAvailableError) as info:
        get_tickets(client)

    assert info.value.status == status
    assert info.value.endpoint == "zendesk.tickets"
    assert "not available to this account" in str(info.value)
    assert len(rsps.calls) == 1
    assert clock.slept == []


def test_400_is_fatal_and_not_retried(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    rsps.get(TICKETS, status=400, json={"error": "InvalidPaginationParameter"})
    client = make_client(clock)

    with pytest.raises(FatalAPIError) as info:
        get_tickets(client)

    assert type(info.value) is FatalAPIError
    assert info.value.status == 400
    assert "InvalidPaginationParameter" in str(info.value)
    assert len(rsps.calls) == 1
    assert clock.slept == []
    assert client.stats.get("zendesk", "tickets").retries == 0


# -- counters and headers -----------------------------------------------------------------------


def test_counters_are_kept_per_endpoint(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    users = f"{BASE}/api/v2/users.json"
    rsps.get(TICKETS, status=429, headers={"Retry-After": "1"})
    rsps.get(TICKETS, status=500)
    rsps.get(TICKETS, json=OK)
    rsps.get(users, json={"users": []})
    stats = StatsRegistry()
    client = make_client(clock, stats=stats)

    get_tickets(client)
    client.get_json("/api/v2/users.json", endpoint="users")

    tickets = stats.get("zendesk", "tickets")
    assert (tickets.requests, tickets.retries, tickets.rate_limited) == (3, 2, 1)
    assert tickets.bytes == len(rsps.calls[2].response.content)
    user_stats = stats.get("zendesk", "users")
    assert (user_stats.requests, user_stats.retries, user_stats.rate_limited) == (1, 0, 0)
    assert set(stats.snapshot()) == {("zendesk", "tickets"), ("zendesk", "users")}
    stats.reset()
    assert stats.snapshot() == {}


def test_user_agent_names_us_and_json_is_asked_for(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    rsps.get(
        TICKETS,
        json=OK,
        match=[matchers.header_matcher({"User-Agent": user_agent(), "Accept": "application/json"})],
    )
    client = make_client(clock)

    get_tickets(client)

    assert rsps.calls[0].request.headers["User-Agent"].startswith("supportlake/")


def test_query_params_are_sent(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    rsps.get(TICKETS, json=OK, match=[matchers.query_param_matcher({"page[size]": "100", "sort": "id"})])
    client = make_client(clock)

    get_tickets(client, params={"page[size]": 100, "sort": "id"})

    assert len(rsps.calls) == 1


# -- auth refresh -------------------------------------------------------------------------------


class RotatingToken(RefreshableAuth):
    def __init__(self) -> None:
        self.token = "expired-token-1111"
        self.refreshes = 0

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r

    def refresh(self) -> None:
        self.refreshes += 1
        self.token = "fresh-token-2222"


def test_refreshable_auth_is_refreshed_once_on_401(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    rsps.get(TICKETS, status=401, match=[matchers.header_matcher({"Authorization": "Bearer expired-token-1111"})])
    rsps.get(TICKETS, json=OK, match=[matchers.header_matcher({"Authorization": "Bearer fresh-token-2222"})])
    auth = RotatingToken()
    client = make_client(clock, auth=auth)

    assert get_tickets(client) == OK

    assert auth.refreshes == 1
    assert len(rsps.calls) == 2
    assert clock.slept == []


def test_refreshable_auth_gives_up_after_one_refresh(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    rsps.get(TICKETS, status=401)
    rsps.get(TICKETS, status=401)
    auth = RotatingToken()
    client = make_client(clock, auth=auth, auth_hint="SOURCES__X__CREDENTIALS__CLIENT_SECRET")

    with pytest.raises(AuthError, match="SOURCES__X__CREDENTIALS__CLIENT_SECRET"):
        get_tickets(client)

    assert auth.refreshes == 1
    assert len(rsps.calls) == 2


# -- pacing -------------------------------------------------------------------------------------


def test_rate_limiter_lets_a_burst_through_then_waits_a_window(clock: FakeClock) -> None:
    limiter = RateLimiter({"export": RateLimit(3, 60)}, sleep=clock.sleep, clock=clock)

    waits = [limiter.acquire("export") for _ in range(3)]
    assert waits == [0.0, 0.0, 0.0]
    assert clock.slept == []

    fourth = limiter.acquire("export")
    assert fourth == pytest.approx(60.0, abs=0.1)
    assert clock.slept == [fourth]
    # Other groups are not paced by this limit.
    assert limiter.acquire("default") == 0.0


def test_rate_limiter_window_slides(clock: FakeClock) -> None:
    limiter = RateLimiter({"export": RateLimit(2, 10)}, sleep=clock.sleep, clock=clock)
    limiter.acquire("export")
    clock.now += 6
    limiter.acquire("export")
    clock.now += 5  # at 11 s the first send (0 s) has left the 10 s window, the second (6 s) has not

    assert limiter.acquire("export") == 0.0
    assert limiter.acquire("export") == pytest.approx(5.0, abs=0.1)  # until the 6 s one leaves, at 16 s


def test_declared_limit_paces_client_requests(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    for _ in range(4):
        rsps.get(TICKETS, json=OK)
    client = make_client(clock, limits={"export": RateLimit(3, 60)})

    for _ in range(4):
        get_tickets(client, rate_group="export")

    assert len(clock.slept) == 1
    assert clock.slept[0] == pytest.approx(60.0, abs=0.1)
    assert client.stats.get("zendesk", "tickets").waited_seconds == pytest.approx(60.0, abs=0.1)


def test_remaining_zero_with_reset_makes_the_next_request_wait(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    rsps.get(TICKETS, json=OK, headers={"X-Rate-Limit-Remaining": "0", "ratelimit-reset": "7"})
    rsps.get(TICKETS, json=OK)
    client = make_client(clock)

    get_tickets(client)
    assert clock.slept == []
    get_tickets(client)

    assert clock.slept == [7.0]


def test_remaining_zero_without_reset_waits_one_slot_of_the_limit(
    rsps: responses.RequestsMock, clock: FakeClock
) -> None:
    rsps.get(TICKETS, json=OK, headers={"ratelimit-remaining": "0", "ratelimit-limit": "120"})
    rsps.get(TICKETS, json=OK)
    client = make_client(clock)

    get_tickets(client)
    get_tickets(client)

    assert clock.slept == [0.5]


def test_remaining_above_zero_does_not_wait(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    rsps.get(TICKETS, json=OK, headers={"X-Rate-Limit-Remaining": "5", "ratelimit-reset": "7"})
    rsps.get(TICKETS, json=OK)
    client = make_client(clock)

    get_tickets(client)
    get_tickets(client)

    assert clock.slept == []


def test_atlassian_rate_limit_headers_pace_until_the_iso_reset() -> None:
    """X-RateLimit-Remaining: 0 with an ISO X-RateLimit-Reset (Confluence) blocks until then."""
    import datetime as dt

    from connectors.pacing import RateLimiter

    slept: list[float] = []
    now = [1000.0]
    limiter = RateLimiter(sleep=lambda s: (slept.append(s), now.__setitem__(0, now[0] + s)), clock=lambda: now[0])
    reset = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=90)).strftime("%Y-%m-%dT%H:%M:%SZ")
    response = requests.Response()
    response.headers.update({"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset})
    limiter.observe("default", response)
    limiter.acquire("default")
    assert len(slept) == 1
    assert 80 < slept[0] <= 91
