"""What the three simulators share: the loopback HTTP server and its serving lifecycle, JSON
bodies, request statistics, fault injection (queued per path prefix, or at random rates) and a
sliding-window rate limit. Each simulator keeps its own API: routes, bodies, error shapes."""

from .faults import FaultQueue, roll_fault
from .http import JSON, TEXT, HttpSimulator, Request, Response, basic_credentials, bearer_token, dumps
from .limits import RateWindow
from .stats import Stats

__all__ = [
    "JSON",
    "TEXT",
    "FaultQueue",
    "HttpSimulator",
    "RateWindow",
    "Request",
    "Response",
    "Stats",
    "basic_credentials",
    "bearer_token",
    "dumps",
    "roll_fault",
]
