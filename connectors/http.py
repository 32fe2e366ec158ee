"""The one HTTP layer: every request of every connector goes through :class:`HttpClient`.

- a pooled ``requests.Session`` with (connect, read) timeouts and a ``User-Agent`` naming us;
- one tenacity retry policy (:class:`RetryPolicy`): 429 waits for ``Retry-After``; 500/502/503/504,
  408, dropped connections, timeouts, bodies cut off mid-way and bodies that are not valid JSON are
  retried with exponential backoff and jitter, within a bounded number of attempts and a total
  deadline; endpoint code never retries;
- proactive pacing (:mod:`connectors.pacing`): a client-side sliding window per rate group and
  the server's own rate-limit headers, so a run does not bounce off 429s;
- per-endpoint counters (:mod:`connectors.stats`): requests, retries, 429s, seconds waited,
  records;
- auth (:mod:`connectors.auth`), paginators (:mod:`connectors.paginators`), and errors mapped by
  what the caller should do (:mod:`common.errors`), with secrets redacted everywhere;
- transport rules: a TLS certificate that fails verification fails at once (retrying cannot
  help), and a plain ``http://`` base URL is refused unless it is a loopback address (a simulator,
  a local proxy) or ``SOURCES__<SOURCE>__ALLOW_INSECURE_HTTP=true`` says so
  (:func:`require_secure_base_url`).
"""

from __future__ import annotations

import ipaddress
import logging
import random
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.auth import AuthBase
from tenacity import RetryCallState, Retrying, retry_if_exception

from common.errors import (
    APIError,
    AuthError,
    ConfigError,
    FatalAPIError,
    InvalidResponseError,
    NotAvailableError,
    RateLimited,
    RetriableAPIError,
    RetriesExhausted,
)
from common.secrets import redact, redact_url
from connectors.auth import RefreshableAuth
from connectors.destination import refuse_ambiguous_duckdb
from connectors.pacing import RateLimit, RateLimiter, parse_retry_after
from connectors.paginators import BasePaginator, Position, Request
from connectors.prefetch import gc_paused, prefetched
from connectors.stats import STATS, StatsRegistry

try:  # orjson is a dlt dependency and parses ~3x faster; the standard library is the fallback.
    import orjson

    _loads: Callable[[bytes], Any] = orjson.loads
    _JSONDecodeError: tuple[type[Exception], ...] = (orjson.JSONDecodeError, ValueError)
except ImportError:  # pragma: no cover
    import json

    _loads = json.loads
    _JSONDecodeError = (ValueError,)

__all__ = ["HttpClient", "HttpResult", "RetryPolicy", "parse_base_url", "require_secure_base_url", "user_agent"]

log = logging.getLogger("supportlake.http")

RETRIABLE_STATUS = frozenset({408, 500, 502, 503, 504})


def user_agent() -> str:
    try:
        from importlib.metadata import version

        v = version("supportlake")
    except Exception:  # running from a source tree
        v = "0+unknown"
    return f"supportlake/{v} (+https://github.com/supportlake/supportlake) python-requests"


# --------------------------------------------------------------------------------------------
# Retry policy
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """The one retry policy.

    ``max_attempts`` bounds the failures (5xx, dropped connections, bad bodies) of one request;
    429s are not failures but count against ``deadline_seconds``, the total time one request may
    take including every wait. ``Retry-After`` is honoured up to ``max_retry_after`` seconds.
    """

    max_attempts: int = 8
    deadline_seconds: float = 900.0
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    jitter: float = 1.0
    max_retry_after: float = 600.0


def _is_retriable(exc: BaseException) -> bool:
    if _is_certificate_error(exc):
        return False
    return isinstance(
        exc,
        RetriableAPIError
        | requests.ConnectionError
        | requests.Timeout
        | requests.exceptions.ChunkedEncodingError
        | requests.exceptions.ContentDecodingError,
    )


def _is_certificate_error(exc: BaseException) -> bool:
    """A TLS certificate that failed verification (self-signed, expired, another host's name, an
    unknown CA): permanent, unlike a handshake cut off by the network, which stays retriable."""
    if not isinstance(exc, requests.exceptions.SSLError):
        return False
    text = str(exc)
    return "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text or "doesn't match" in text


LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def _is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("1", "true", "yes", "on")


def parse_base_url(value: str, setting: str, expected: str) -> str:
    """A configured base URL as ``scheme://host[:port][/path]``, without a trailing slash. Not
    ``http(s)://`` with a host: a :class:`ConfigError` naming ``setting`` and saying what was
    ``expected`` (``"a URL such as https://acme.zendesk.com"``). Every connector's base URL."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{setting} must be {expected}, got {value!r}")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def require_secure_base_url(base_url: str, name: str, allow_insecure_http: bool | None = None) -> None:
    """Refuse a plain ``http://`` base URL: the credentials would travel unencrypted. Loopback
    addresses (127.0.0.0/8, ::1, localhost: the simulators, a local proxy) are allowed; any other
    host needs ``allow_insecure_http``, by default read from the dlt setting
    ``sources.<name>.allow_insecure_http`` (``SOURCES__<NAME>__ALLOW_INSECURE_HTTP=true``)."""
    parts = urlsplit(base_url)
    if parts.scheme.lower() != "http" or _is_loopback(parts.hostname or ""):
        return
    setting = f"SOURCES__{name.upper()}__ALLOW_INSECURE_HTTP"
    if allow_insecure_http is None:
        import dlt

        allow_insecure_http = _truthy(dlt.config.get(f"sources.{name}.allow_insecure_http"))
    if allow_insecure_http:
        log.warning("%s: %s is plain http:// (allowed by %s)", name, redact_url(base_url), setting)
        return
    raise ConfigError(
        f"{name}: the base URL {redact_url(base_url)} is plain http://, which would send the credentials "
        f"unencrypted: use https://, or set {setting}=true if this host must be reached without TLS "
        "(http:// is accepted without it only for 127.0.0.1, ::1 and localhost)"
    )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, APIError):
        return str(exc)
    return redact(f"{type(exc).__name__}: {exc}")


@dataclass
class HttpResult:
    """A successful response and its parsed JSON body (``None`` when not JSON)."""

    response: requests.Response
    data: Any
    url: str = ""
    elapsed: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    position: Position | None = None
    """Where the paginator stood right after this page (set by :meth:`HttpClient.paginate`)."""


class HttpClient:
    """A connector's HTTP client. One per source instance; thread-safe for reads.

    ``name`` is the source (``zendesk``); every call names its ``endpoint`` (``tickets``) for the
    counters and the errors. ``on_response`` sees every response, errors included.
    ``auth_hint`` is appended to a 401's message and should name the settings to check.
    ``classify`` lets a connector map vendor-specific error bodies (e.g. Salesforce
    ``errorCode``) to an error class before the generic status mapping runs.
    """

    def __init__(
        self,
        base_url: str,
        *,
        name: str,
        auth: AuthBase | None = None,
        auth_hint: str = "",
        limits: Mapping[str, RateLimit] | None = None,
        policy: RetryPolicy | None = None,
        timeout: tuple[float, float] = (10.0, 120.0),
        classify: Callable[[requests.Response, str], APIError | None] | None = None,
        on_response: Callable[[requests.Response], None] | None = None,
        stats: StatsRegistry | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        session: requests.Session | None = None,
        allow_insecure_http: bool | None = None,
    ) -> None:
        require_secure_base_url(base_url, name, allow_insecure_http)
        self.base_url = base_url.rstrip("/") + "/"
        self.name = name
        self.auth = auth
        self.auth_hint = auth_hint
        self.policy = policy or RetryPolicy()
        self.timeout = timeout
        self.classify = classify
        self.on_response = on_response
        self.stats = stats if stats is not None else STATS
        self._sleep = sleep
        # Pacing and the deadline read the clock that ``sleep`` advances: an injected sleep with
        # the real clock would spin in the limiter for the whole of a Retry-After.
        self._clock = clock
        self.limiter = RateLimiter(limits, sleep=sleep, clock=clock)
        self.session = session or requests.Session()
        self.session.headers.update({"User-Agent": user_agent(), "Accept": "application/json"})
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=8, max_retries=0)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self._destination_checked = False

    # -- public -------------------------------------------------------------------------------

    def url_for(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return urljoin(self.base_url, path_or_url.lstrip("/"))

    def get_json(
        self,
        path_or_url: str,
        *,
        endpoint: str,
        params: Mapping[str, Any] | None = None,
        rate_group: str = "default",
        check: Callable[[Any], str | None] | None = None,
    ) -> HttpResult:
        return self.request("GET", path_or_url, endpoint=endpoint, params=params, rate_group=rate_group, check=check)

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        endpoint: str,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        rate_group: str = "default",
        expect_json: bool = True,
        auth: AuthBase | None = None,
        check: Callable[[Any], str | None] | None = None,
    ) -> HttpResult:
        """Send one request with the retry policy; returns the parsed body or raises.

        ``check`` reads the parsed body and says what it lacks of its documented envelope (or
        ``None``): such a body is retried like a cut-off one, then reported by name.

        Raises :class:`AuthError`, :class:`NotAvailableError`, :class:`FatalAPIError` at once,
        and :class:`RetriesExhausted` when the retry budget runs out.
        """
        url = self.url_for(path_or_url)
        started = self._clock()
        state = {"failures": 0, "rate_limited": 0, "refreshed": False}
        policy = self.policy

        def send() -> HttpResult:
            result = self._send_once(
                method,
                url,
                endpoint=endpoint,
                params=params,
                json_body=json_body,
                data=data,
                headers=headers,
                rate_group=rate_group,
                expect_json=expect_json,
                auth=auth,
            )
            problem = check(result.data) if check is not None else None
            if problem:
                raise InvalidResponseError(
                    f"malformed page: {problem}",
                    endpoint=f"{self.name}.{endpoint}",
                    url=redact_url(result.url or url),
                    status=result.response.status_code,
                )
            return result

        def attempt() -> HttpResult:
            try:
                return send()
            except AuthError:
                if isinstance(self.auth, RefreshableAuth) and auth is None and not state["refreshed"]:
                    state["refreshed"] = True
                    log.info("%s.%s: credentials refused, re-authenticating once", self.name, endpoint)
                    self.auth.refresh()
                    return send()
                raise

        def wait(rs: RetryCallState) -> float:
            # tenacity computes the wait before it asks ``stop``, so failures are counted here.
            exc = rs.outcome.exception() if rs.outcome else None
            if isinstance(exc, RateLimited):
                state["rate_limited"] += 1
            else:
                state["failures"] += 1
            if isinstance(exc, RateLimited) and exc.retry_after is not None:
                return min(exc.retry_after, policy.max_retry_after) + random.uniform(0, 0.25)
            if isinstance(exc, RetriableAPIError) and exc.retry_after is not None:
                return min(exc.retry_after, policy.max_retry_after)
            n = int(state["failures"])
            backoff = min(policy.backoff_max, policy.backoff_initial * (2 ** max(0, n - 1)))
            return float(backoff) + random.uniform(0, policy.jitter)

        def stop(rs: RetryCallState) -> bool:
            if state["failures"] >= policy.max_attempts:
                return True
            upcoming = rs.upcoming_sleep or 0.0
            return self._clock() - started + upcoming > policy.deadline_seconds

        def before_sleep(rs: RetryCallState) -> None:
            exc = rs.outcome.exception() if rs.outcome else None
            assert exc is not None
            sleep_for = rs.upcoming_sleep or 0.0
            self.stats.add(self.name, endpoint, retries=1, waited_seconds=sleep_for)
            if isinstance(exc, RateLimited):
                self.limiter.block(rate_group, sleep_for)
            # An APIError's text already begins with "<source>.<endpoint>: ".
            what = str(exc) if isinstance(exc, APIError) else f"{self.name}.{endpoint}: {_describe(exc)}"
            log.warning("%s — retry %d in %.1fs", what, rs.attempt_number, sleep_for)

        retrying = Retrying(
            retry=retry_if_exception(_is_retriable),
            wait=wait,
            stop=stop,
            before_sleep=before_sleep,
            sleep=self._sleep,
            reraise=True,
        )
        try:
            result = retrying(attempt)
            self.stats.add(self.name, endpoint, seconds=self._clock() - started)
            return result
        except FatalAPIError:
            raise
        except (RetriableAPIError, requests.RequestException) as exc:
            elapsed = self._clock() - started
            self.stats.add(self.name, endpoint, seconds=elapsed)
            failures, limited = int(state["failures"]), int(state["rate_limited"])
            raise RetriesExhausted(
                f"gave up after {failures + limited} attempt(s) ({failures} failed, {limited} rate limited) "
                f"in {elapsed:.0f}s (retry budget: {policy.max_attempts} attempts, {policy.deadline_seconds:.0f}s); "
                f"last error: {_describe(exc)}. The next run resumes from the last loaded page.",
                endpoint=f"{self.name}.{endpoint}",
                url=redact_url(url),
                status=getattr(exc, "status", None),
                last_error=exc,
            ) from exc

    def paginate(
        self,
        path: str,
        *,
        endpoint: str,
        paginator: BasePaginator,
        params: Mapping[str, Any] | None = None,
        rate_group: str = "default",
        prefetch: int = 0,
    ) -> Iterator[HttpResult]:
        """Walk every page of ``path``; yields each page's result as soon as it arrives.

        Each result carries ``position``, where the paginator stood right after that page (what
        a caller stores once the page is loaded). ``prefetch`` > 0: a producer thread fetches and
        parses up to that many pages ahead while the caller works on the current one (the
        requests are the same, made in the same order; an error reaches the caller after the
        pages before it, and stopping early stops the producer)."""
        pages = self._pages(path, endpoint=endpoint, paginator=paginator, params=params, rate_group=rate_group)
        if prefetch <= 0:
            yield from pages
            return
        yield from prefetched(pages, prefetch, f"{self.name}.{endpoint}")

    def _pages(
        self,
        path: str,
        *,
        endpoint: str,
        paginator: BasePaginator,
        params: Mapping[str, Any] | None,
        rate_group: str,
    ) -> Generator[HttpResult, None, None]:
        request = Request(url=path, params=dict(params or {}))
        paginator.init_request(request)
        seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
        while True:
            url = urljoin(self.base_url, request.url) if request.server_link else self.url_for(request.url)
            key = (url, tuple(sorted((k, str(v)) for k, v in request.params.items())))
            if key in seen:
                raise FatalAPIError(
                    "the API sent the same next page twice; stopping to avoid an endless loop",
                    endpoint=f"{self.name}.{endpoint}",
                    url=redact_url(key[0]),
                )
            seen.add(key)
            # A page that is not its documented envelope is retried, then fails the stream: it is
            # never read as an empty or last page (which would move a cursor past lost records).
            result = self.get_json(
                url, endpoint=endpoint, params=request.params, rate_group=rate_group, check=paginator.envelope_problem
            )
            paginator.update_state(result.response, result.data)
            result.position = paginator.position()
            yield result
            if not paginator.has_next_page:
                return
            paginator.update_request(request)

    # -- internals ----------------------------------------------------------------------------

    def _send_once(
        self,
        method: str,
        url: str,
        *,
        endpoint: str,
        params: Mapping[str, Any] | None,
        json_body: Any,
        data: Any,
        headers: Mapping[str, str] | None,
        rate_group: str,
        expect_json: bool,
        auth: AuthBase | None,
    ) -> HttpResult:
        if not self._destination_checked:
            refuse_ambiguous_duckdb()  # a DuckDB file named like the dataset: fail before any request
            self._destination_checked = True
        waited = self.limiter.acquire(rate_group)
        if waited:
            self.stats.add(self.name, endpoint, waited_seconds=waited)
        self.stats.add(self.name, endpoint, requests=1)
        t0 = time.monotonic()
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                json=json_body,
                data=data,
                headers=dict(headers) if headers else None,
                auth=auth or self.auth,
                timeout=self.timeout,
            )
        except requests.exceptions.SSLError as exc:
            if not _is_certificate_error(exc):
                raise  # a handshake the network cut off: retried like any dropped connection
            host = urlsplit(url).hostname or url
            raise FatalAPIError(
                f"the TLS certificate of {host} failed verification ({_ssl_reason(exc)}); retrying cannot fix "
                f"this: check the base URL, or, behind a proxy that re-signs TLS, point REQUESTS_CA_BUNDLE at "
                "its CA certificate",
                endpoint=f"{self.name}.{endpoint}",
                url=redact_url(url),
            ) from None
        self.limiter.observe(rate_group, response)
        if self.on_response is not None:
            self.on_response(response)  # e.g. Salesforce's quota guard reads Sforce-Limit-Info
        self._raise_for_status(response, endpoint)
        body = response.content  # raises ChunkedEncodingError when the body is cut off
        self.stats.add(self.name, endpoint, bytes=len(body))
        parsed: Any = None
        if expect_json:
            parsed = self._parse_json(response, body, endpoint)
        return HttpResult(response=response, data=parsed, url=response.url, elapsed=time.monotonic() - t0)

    def _parse_json(self, response: requests.Response, body: bytes, endpoint: str) -> Any:
        declared = response.headers.get("Content-Length")
        # Content-Length counts the bytes on the wire; with gzip or deflate it is not the body's size.
        encoding = response.headers.get("Content-Encoding", "").strip().lower()
        if declared is not None and declared.isdigit() and encoding in ("", "identity") and int(declared) > len(body):
            raise InvalidResponseError(
                f"body cut off: {len(body)} of {declared} bytes arrived",
                endpoint=f"{self.name}.{endpoint}",
                url=redact_url(response.url),
                status=response.status_code,
            )
        try:
            with gc_paused():
                return _loads(body)
        except _JSONDecodeError as exc:
            snippet = body[:120].decode("utf-8", "replace")
            raise InvalidResponseError(
                f"response is not valid JSON ({exc}); it begins {snippet!r}",
                endpoint=f"{self.name}.{endpoint}",
                url=redact_url(response.url),
                status=response.status_code,
            ) from None

    def _raise_for_status(self, response: requests.Response, endpoint: str) -> None:
        status = response.status_code
        if status < 400:
            return
        where = f"{self.name}.{endpoint}"
        url = redact_url(response.url)
        text = _safe_text(response)
        if self.classify is not None:
            mapped = self.classify(response, where)
            if mapped is not None:
                raise mapped
        if status == 429:
            self.stats.add(self.name, endpoint, rate_limited=1)
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise RateLimited(
                f"rate limited; Retry-After {response.headers.get('Retry-After', 'absent')}",
                endpoint=where,
                url=url,
                status=status,
                body=text,
                retry_after=retry_after if retry_after is not None else 60.0,
            )
        if status in RETRIABLE_STATUS:
            raise RetriableAPIError(
                "server error",
                endpoint=where,
                url=url,
                status=status,
                body=text,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        if status == 401:
            hint = f" Check {self.auth_hint}." if self.auth_hint else ""
            raise AuthError(
                f"the API refused the credentials.{hint}", endpoint=where, url=url, status=status, body=text
            )
        if status in (403, 404):
            raise NotAvailableError(
                "not available to this account or user", endpoint=where, url=url, status=status, body=text
            )
        raise FatalAPIError("request failed", endpoint=where, url=url, status=status, body=text)


def _ssl_reason(exc: BaseException) -> str:
    """``certificate verify failed: self-signed certificate`` out of urllib3's nested message."""
    text = str(exc)
    marker = "certificate verify failed"
    at = text.find(marker)
    if at < 0:
        return redact(text[:200])
    end = min((i for i in (text.find(" (_ssl", at), text.find("')", at), text.find('")', at)) if i > 0), default=-1)
    return redact(text[at:end] if end > 0 else text[at : at + 200])


def _safe_text(response: requests.Response) -> str:
    try:
        return response.content[:500].decode("utf-8", "replace")
    except requests.RequestException:
        return ""
