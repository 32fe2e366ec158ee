"""``supportlake check``: probes, verdicts and the table, for every system alike.

Each system's ``connectors/<system>/check.py`` turns its declared endpoints (or objects) into a
:class:`Plan` of :class:`Probe` records: one cheap request each (page size 1, or the cheapest form
the API documents), sent through the connector's own client (same auth, base URL and retry
policy, with the short :data:`CHECK_POLICY`). :func:`run` sends them in order and
:func:`classify` turns what each one raised into a verdict and the setting, scope or permission
that fixes it; :func:`render` prints the table. Every text passes through
:func:`common.secrets.redact`.

Only the primary objects (:attr:`connectors.registry.SourceSpec.primary`) decide the exit code:
everything else is an optional enrichment that a sync skips, with the reason in the run log, when
the API refuses it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import requests

from common.errors import APIError, AuthError, ConfigError, NotAvailableError, RateLimited, RetriesExhausted
from common.secrets import redact
from connectors.endpoints import Endpoint
from connectors.http import RetryPolicy
from connectors.paginators import Request

OK = "ok"
MISSING_SCOPE = "missing scope or permission"
FEATURE_OFF = "feature not enabled"
NOT_FOUND = "not found"
REFUSED = "credentials refused"
UNREACHABLE = "unreachable"
FAILED = "failed"
NOT_CHECKED = "not checked"
MISCONFIGURED = "configuration error"
VERDICTS = (OK, MISSING_SCOPE, FEATURE_OFF, NOT_FOUND, REFUSED, UNREACHABLE, FAILED, NOT_CHECKED, MISCONFIGURED)

CHECK_POLICY = RetryPolicy(max_attempts=2, deadline_seconds=20.0, backoff_initial=0.25, backoff_max=2.0, jitter=0.25)
"""Retry a dropped connection or a 5xx once, and give up within seconds: a check must be fast."""
CHECK_TIMEOUT = (5.0, 30.0)
"""(connect, read) seconds of each probe."""
PAGE_SIZE_PARAMS = ("per_page", "page[size]", "limit")
"""The page-size parameters of the three APIs; a probe asks for one record."""


class Unavailable(Exception):
    """Raised by a probe that learns without an HTTP error that its endpoint cannot be read (an
    object absent from the org's catalogue): ``missing`` picks the probe's ``missing`` remedy,
    otherwise its ``refused`` one."""

    def __init__(self, message: str, *, missing: bool) -> None:
        super().__init__(message)
        self.missing = missing


def is_primary(source: str, name: str) -> bool:
    """``name`` is the source's primary object (:attr:`connectors.registry.SourceSpec.primary`)."""
    from connectors import registry

    return registry.get(source).primary == name


class _Named(Protocol):
    @property
    def name(self) -> str: ...


N = TypeVar("N", bound=_Named)


def primary_first(source: str, items: Iterable[N]) -> list[N]:
    """``items`` (endpoints, objects) with the source's primary one first, the rest in their order:
    probed first, it tells whether the credentials work at all."""
    return sorted(items, key=lambda item: not is_primary(source, item.name))


@dataclass(frozen=True)
class Remedy:
    """What a refusal means for one endpoint, and what fixes it."""

    verdict: str
    fix: str


@dataclass(frozen=True, kw_only=True)
class Probe:
    """One cheap request standing for an endpoint a sync uses.

    ``request`` sends it and returns a note for the table (or ``None``); ``refused`` says what a
    403 means here (and a 401 once the credentials worked elsewhere: a token without this
    endpoint's scope), ``missing`` what a 404 (or an object the API does not know) means.
    """

    source: str
    name: str
    request: Callable[[], str | None]
    refused: Remedy
    missing: Remedy
    primary: bool = False


@dataclass(frozen=True, kw_only=True)
class Plan:
    """The probes of one source, and the settings to name when its credentials or host fail."""

    source: str
    credentials: str
    address: str
    probes: tuple[Probe, ...]


@dataclass(frozen=True)
class Result:
    source: str
    name: str
    verdict: str
    detail: str = ""
    primary: bool = False

    @property
    def ok(self) -> bool:
        return self.verdict == OK


def first_page(endpoint: Endpoint, **extra: Any) -> dict[str, Any]:
    """The parameters of an endpoint's first request, as its paginator builds it, with every
    page-size parameter set to 1 and ``extra`` on top."""
    request = Request(url=endpoint.path, params=dict(endpoint.params))
    endpoint.paginator().init_request(request)
    params = dict(request.params)
    params.update(extra)
    for name in PAGE_SIZE_PARAMS:
        if name in params:
            params[name] = 1
    return params


def results_of(data: Any, key: str) -> list[Any]:
    """The records of a page (``data[key]``), or an empty list."""
    value = data.get(key) if isinstance(data, Mapping) else None
    return list(value) if isinstance(value, list) else []


# --------------------------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------------------------


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status", None)
    return status if isinstance(status, int) else None


def _says(exc: BaseException, *words: str) -> bool:
    text = f"{exc} {getattr(exc, 'body', '')}".lower()
    return any(w.lower() in text for w in words)


def _http(exc: BaseException) -> str:
    status = _status(exc)
    return f"HTTP {status}: " if status is not None else ""


def classify(exc: BaseException, probe: Probe, plan: Plan, *, accepted: bool) -> tuple[str, str]:
    """The verdict on a probe that raised ``exc``, and what to do about it.

    ``accepted``: an earlier probe of the same source got an answer past authentication, so a
    401 here is this endpoint's scope (Atlassian answers a scoped token without it with
    ``401 Unauthorized; scope does not match``), not the credentials.
    """
    if isinstance(exc, AuthError):
        if accepted or _says(exc, "scope does not match", "insufficient_scope"):
            return probe.refused.verdict, _http(exc) + probe.refused.fix
        if isinstance(exc, ConfigError):  # the login host's refusal already names the settings
            return REFUSED, str(exc)
        return REFUSED, f"{_http(exc)}check {plan.credentials}"
    if isinstance(exc, NotAvailableError):
        if _status(exc) == 404 or _says(exc, "INVALID_TYPE", "NOT_FOUND"):
            return probe.missing.verdict, _http(exc) + probe.missing.fix
        return probe.refused.verdict, _http(exc) + probe.refused.fix
    if isinstance(exc, Unavailable):
        remedy = probe.missing if exc.missing else probe.refused
        return remedy.verdict, f"{exc}: {remedy.fix}"
    if isinstance(exc, ConfigError):
        return MISCONFIGURED, str(exc)
    if isinstance(exc, RetriesExhausted):
        last = exc.last_error
        if isinstance(last, requests.ConnectionError | requests.Timeout):
            return UNREACHABLE, f"no answer ({type(last).__name__}): check {plan.address} and the network"
        if isinstance(last, RateLimited):
            return FAILED, "rate limited by the API; run the check again in a minute"
        return FAILED, str(exc)
    if isinstance(exc, requests.ConnectionError | requests.Timeout):
        return UNREACHABLE, f"no answer ({type(exc).__name__}): check {plan.address} and the network"
    if isinstance(exc, APIError):
        return FAILED, str(exc)
    return FAILED, redact(f"{type(exc).__name__}: {exc}")


# --------------------------------------------------------------------------------------------
# Running and printing
# --------------------------------------------------------------------------------------------

_BLOCKING = (REFUSED, UNREACHABLE, MISCONFIGURED)


def run(plan: Plan, *, on_result: Callable[[Result], None] | None = None) -> list[Result]:
    """Send every probe of ``plan`` in order. Once the credentials are refused, the host does not
    answer or the settings cannot work (before any probe succeeded), the rest are not sent."""
    results: list[Result] = []
    accepted = False
    blocked = ""
    for probe in plan.probes:
        if blocked:
            result = Result(plan.source, probe.name, NOT_CHECKED, blocked, probe.primary)
        else:
            try:
                note = probe.request()
            except Exception as exc:  # every failure is a verdict; the check goes on
                verdict, detail = classify(exc, probe, plan, accepted=accepted)
                if isinstance(exc, NotAvailableError | Unavailable):
                    accepted = True  # the API knew who was asking
                elif verdict in _BLOCKING and not accepted:
                    blocked = f"{verdict} above"
                result = Result(plan.source, probe.name, verdict, redact(detail), probe.primary)
            else:
                accepted = True
                result = Result(plan.source, probe.name, OK, redact(note or ""), probe.primary)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


def primaries_readable(results: Iterable[Result]) -> bool:
    """Every primary object probed is readable."""
    return all(r.ok for r in results if r.primary)


def render(results: Sequence[Result]) -> str:
    """The table: source, endpoint, primary or optional, verdict, and what to do."""
    header = ("source", "endpoint", "role", "result", "what to do / note")
    rows = [
        (r.source, r.name, "primary" if r.primary else "optional", r.verdict, r.detail.replace("\n", " "))
        for r in results
    ]
    widths = [max(len(header[i]), *(len(row[i]) for row in rows)) if rows else len(header[i]) for i in range(4)]

    def line(cells: Sequence[str]) -> str:
        return ("  ".join(c.ljust(w) for c, w in zip(cells[:4], widths, strict=True)) + "  " + cells[4]).rstrip()

    out = [line(header), line([*("-" * w for w in widths), "-" * len(header[4])])]
    out.extend(line(row) for row in rows)
    return redact("\n".join(out))
