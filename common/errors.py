"""Errors, named by what the caller should do about them.

- :class:`ConfigError` — fix your settings (the message names the setting).
- :class:`RetriableAPIError` — a transient failure; the HTTP layer retries it.
- :class:`FatalAPIError` — retrying will not help (a 400, a 403 on a required endpoint, ...).
- :class:`AuthError` — the credentials were refused; the message names the settings to fix.
- :class:`NotAvailableError` — the account has no such feature or may not read it (403/404);
  optional endpoints are skipped with a warning instead of failing the run.
- :class:`RetriesExhausted` — the retry budget ran out; carries the last underlying error.
- :class:`QuotaExhausted` — the API's request quota is spent; stop cleanly, try later.

Every message passes through :func:`common.secrets.redact`, so a secret that somehow reached
a URL or a response body never reaches a log line, a traceback or the run log.
"""

from __future__ import annotations

from common.secrets import redact


class SupportlakeError(Exception):
    """Base class of every error supportlake raises on purpose."""

    def __str__(self) -> str:
        return redact(super().__str__())


class ConfigError(SupportlakeError):
    """The configuration is missing or wrong: the message says which setting to fix."""


class APIError(SupportlakeError):
    """An HTTP call failed. ``endpoint`` is our name for it, ``url`` is already redacted."""

    def __init__(
        self,
        message: str,
        *,
        endpoint: str = "",
        url: str = "",
        status: int | None = None,
        body: str = "",
    ) -> None:
        self.endpoint = endpoint
        self.url = redact(url)
        self.status = status
        self.body = redact(body[:500])
        where = f"{endpoint}: " if endpoint else ""
        detail = f" (HTTP {status})" if status is not None else ""
        at = f" at {self.url}" if self.url else ""
        tail = f" — response: {self.body}" if self.body else ""
        super().__init__(f"{where}{message}{detail}{at}{tail}")


class RetriableAPIError(APIError):
    """A transient failure (429, 5xx, a dropped connection, a cut-off or unparsable body)."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kw)  # type: ignore[arg-type]


class RateLimited(RetriableAPIError):
    """HTTP 429: wait ``retry_after`` seconds (the server's ``Retry-After``), then try again."""


class InvalidResponseError(RetriableAPIError):
    """The body was cut off or was not valid JSON; retried, then reported with where it broke."""


class FatalAPIError(APIError):
    """Retrying will not help."""


class AuthError(FatalAPIError):
    """The API refused the credentials (401): the message names the settings to check."""


class NotAvailableError(FatalAPIError):
    """403/404: the account lacks the feature or the user may not read it."""


class QuotaExhausted(SupportlakeError):
    """The API quota (e.g. Salesforce's daily allocation) is spent or reserved: stop cleanly."""


class RetriesExhausted(APIError):
    """The retry budget (attempts or total time) ran out; ``last_error`` is the final failure."""

    def __init__(self, message: str, *, last_error: BaseException, **kw: object) -> None:
        self.last_error = last_error
        super().__init__(message, **kw)  # type: ignore[arg-type]


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (engines and drivers write several), or its type's name
    when it has none: what goes after the colon of a one-line error."""
    return " ".join(str(exc).split()) or type(exc).__name__
