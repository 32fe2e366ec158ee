"""What the three simulators share (``simulators.shared``): the loopback server, the fault queue,
the random fault roll and the sliding rate window. Each simulator's own answers are tested in its
own file; these pin the common mechanics they all rely on."""

from __future__ import annotations

import email.utils
import random
from collections.abc import Iterator

import pytest
import requests

from simulators.confluence import ConfluenceSimulator
from simulators.shared import FaultQueue, HttpSimulator, RateWindow, Request, Response, Stats, dumps, roll_fault


class Echo(HttpSimulator):
    """A toy simulator: echoes the request, or answers with a fault named by the path."""

    server_name = "echo-simulator"
    methods = ("GET", "POST")
    server_version = "Echo/1.0"
    json_type = "application/json;charset=UTF-8"

    def __init__(self) -> None:
        self.stats = Stats()

    def respond(self, request: Request) -> Response:
        self.stats.count_request(request.target)
        if request.target == "/drop":
            return Response(0, action="drop")
        if request.target == "/truncate":
            return Response(200, dumps({"items": list(range(500))}), action="truncate")
        if request.target == "/boom":
            raise RuntimeError("no answer")
        body = {"method": request.method, "target": request.target, "body": request.body.decode()}
        return Response(200, dumps(body), headers=[("X-Host", request.host_url)])

    def server_time(self) -> float:
        return 1_700_000_000.0


@pytest.fixture
def echo() -> Iterator[Echo]:
    sim = Echo()
    with sim.serve():
        yield sim
    assert sim.base_url is None, "stopped when the block ends"


def test_server_routes_the_declared_methods_with_body_and_headers(echo: Echo) -> None:
    r = requests.post(f"{echo.base_url}/things?a=1", data=b"payload", timeout=10)
    assert r.status_code == 200
    assert r.json() == {"method": "POST", "target": "/things?a=1", "body": "payload"}
    assert r.headers["Content-Type"] == "application/json;charset=UTF-8", "the simulator's JSON type"
    assert r.headers["Server"] == "Echo/1.0"
    assert r.headers["X-Host"] == echo.base_url
    assert email.utils.parsedate_to_datetime(r.headers["Date"]).timestamp() == 1_700_000_000, "its clock"
    assert requests.put(f"{echo.base_url}/things", timeout=10).status_code == 501, "PUT is not declared"
    assert echo.stats.statuses == {200: 1}, "the 501 is the server's, not the simulator's"


def test_server_faults_and_errors(echo: Echo) -> None:
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{echo.base_url}/drop", timeout=10)
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        requests.get(f"{echo.base_url}/truncate", timeout=10).json()
    failed = requests.get(f"{echo.base_url}/boom", timeout=10)
    assert failed.status_code == 500
    assert "RuntimeError" in failed.json()["detail"]
    assert requests.get(f"{echo.base_url}/after", timeout=10).status_code == 200, "the server survives"
    assert echo.stats.statuses == {200: 2, 500: 1}, "a dropped connection has no status"
    assert echo.stats.total == 4


def test_fault_queue_serves_in_order_of_queueing() -> None:
    queue: FaultQueue[str] = FaultQueue(lambda f: f != "explode")
    queue.inject("/a", ["503", "drop"])
    queue.inject("/", ["500"])
    queue.inject("/a", ["truncate"])
    assert queue.take("/b/x") == "500", "only the prefix it matches"
    assert [queue.take("/a/x") for _ in range(4)] == ["503", "drop", "truncate", None]
    with pytest.raises(ValueError, match="unknown fault"):
        queue.inject("/a", ["429", "explode"])
    assert queue.take("/a") is None, "nothing of a refused batch is queued"
    missing = object()
    queue.inject("/a", [None])  # type: ignore[list-item]
    assert queue.take("/a", missing) is None, "a queued None is told from an empty queue"
    assert queue.take("/a", missing) is missing


def test_roll_fault_rates_and_no_draw_without_rates() -> None:
    rng = random.Random(5)
    state = rng.getstate()
    assert roll_fault(rng) is None
    assert rng.getstate() == state, "no rate: the random stream is left alone"
    assert roll_fault(rng, drop_rate=1.0) == "drop"
    assert roll_fault(rng, truncate_rate=1.0) == "truncate"
    assert roll_fault(rng, error_rate=1.0, error_statuses=(503,)) == 503
    assert {roll_fault(rng, error_rate=1.0) for _ in range(200)} == {500, 502, 503, 504}


def test_rate_window_slides() -> None:
    window = RateWindow()
    assert window.acquire(0.0, 2, 10.0) == (True, 1, 10)
    assert window.acquire(4.0, 2, 10.0) == (True, 0, 6)
    assert window.acquire(5.0, 2, 10.0) == (False, 0, 5)
    assert window.peek(10.5, 2, 10.0) == (1, 4), "the first slot freed at 10 s"
    assert window.acquire(10.5, 2, 10.0)[0]
    window.release()
    assert window.peek(10.5, 2, 10.0)[0] == 1, "a released slot is free again"


def test_confluence_refuses_an_unknown_fault_when_it_is_queued() -> None:
    sim = ConfluenceSimulator(seed=1, n_extra_pages=0, n_blogposts=0)
    with pytest.raises(ValueError, match="unknown fault"):
        sim.inject("/wiki/api/v2/pages", [503, "explode"])
