"""What the resources of one Salesforce source instance share (:class:`SalesforceContext`): the
login, the data API on the token's ``instance_url``, the describe caches, the quota guard, the
server's clock and the settings, validated by :func:`make_context`."""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

from common.dates import parse_start_date
from common.errors import AuthError, ConfigError, FatalAPIError, NotAvailableError
from connectors.http import HttpClient, RetryPolicy
from connectors.salesforce.auth import CredentialsRejected, SalesforceOAuth, login_classify, resolve_login_url
from connectors.salesforce.describe import ObjectSchema, describe_global, describe_object
from connectors.salesforce.objects import SObject, resolve
from connectors.salesforce.query import Api, classifier, server_time
from connectors.salesforce.quota import QuotaGuard
from connectors.stats import STATS, StatsRegistry

log = logging.getLogger("supportlake.salesforce")

SOURCE = "salesforce"
START_DATE = "SOURCES__SALESFORCE__START_DATE"
DEFAULT_API_VERSION = "v62.0"


@dataclass
class SalesforceContext:
    """The login, the data API (created on first use, on the token's ``instance_url``), the
    describe caches, the quota guard and the settings of one source instance."""

    auth: SalesforceOAuth
    objects: tuple[SObject, ...]
    api_version: str = DEFAULT_API_VERSION
    start_date: dt.datetime | None = None
    lookback: dt.timedelta = dt.timedelta(minutes=10)
    bulk_threshold: int = 10_000
    bulk_max_records: int = 50_000
    bulk_poll_seconds: float = 2.0
    bulk_timeout_seconds: float = 3600.0
    quota: QuotaGuard = field(default_factory=QuotaGuard)
    policy: RetryPolicy | None = None
    stats: StatsRegistry = STATS
    sleep: Callable[[float], None] = time.sleep
    server_now: dt.datetime | None = None
    _server_seen: float = 0.0
    _api: Api | None = None
    _catalog: dict[str, Mapping[str, Any]] | None = None
    _schemas: dict[str, ObjectSchema | None] = field(default_factory=dict)

    def api(self) -> Api:
        """The data API; logs in on first use (``instance_url`` comes with the token)."""
        if self._api is None:
            instance = self.auth.ensure()
            hint = f"{self.auth.credentials.settings()} (and SOURCES__SALESFORCE__BASE_URL)"
            client = HttpClient(
                instance,
                name=SOURCE,
                auth=self.auth,
                auth_hint=hint,
                classify=classifier(hint),
                on_response=self._observe,
                policy=self.policy,
                stats=self.stats,
                sleep=self.sleep,
            )

            def moved(url: str) -> None:
                client.base_url = url.rstrip("/") + "/"

            self.auth.on_instance_url = moved
            self._api = Api(client, self.api_version, sleep=self.sleep)
        return self._api

    def _observe(self, response: requests.Response) -> None:
        self.quota.observe(response)
        if response.headers.get("Date"):
            self.set_clock(server_time(response))

    def set_clock(self, server_now: dt.datetime) -> None:
        self.server_now = server_now
        self._server_seen = time.monotonic()

    def now(self) -> dt.datetime:
        """The server's clock (its last ``Date`` plus the time since), or ours before any response."""
        if self.server_now is None:
            return dt.datetime.now(dt.UTC)
        return self.server_now + dt.timedelta(seconds=max(0.0, time.monotonic() - self._server_seen))

    def catalog(self) -> dict[str, Mapping[str, Any]]:
        if self._catalog is None:
            self._catalog = describe_global(self.api())
        return self._catalog

    def schema(self, obj: SObject) -> ObjectSchema | None:
        """``describe`` of ``obj``; ``None`` (recorded as skipped, with the reason) when the org
        lacks it or the integration user may not query it. A primary object (``Case``) is never
        skipped: :class:`PrimaryObjectUnavailable` fails the run instead."""
        if obj.name in self._schemas:
            return self._schemas[obj.name]
        schema: ObjectSchema | None = None
        reason = ""
        try:
            summary = self.catalog().get(obj.name.lower())
            if summary is None:
                reason = f"{obj.name} does not exist in this org or is not visible to the integration user"
            elif summary.get("queryable") is False:
                reason = f"{obj.name} is not queryable by the integration user"
            else:
                schema = describe_object(self.api(), obj, str(summary.get("name") or obj.name), obj.table)
        except (NotAvailableError, AuthError) as exc:
            if isinstance(exc, CredentialsRejected):
                raise
            reason = f"{obj.name} cannot be described: {exc}"
        if schema is None:
            self.refused(obj, reason)
        self._schemas[obj.name] = schema
        return schema

    def refused(self, obj: SObject, reason: str, cause: BaseException | None = None) -> None:
        """The org or the user refused ``obj``: an optional object's table is marked skipped with
        the reason; a primary object fails the run (:class:`PrimaryObjectUnavailable`)."""
        if obj.primary:
            raise PrimaryObjectUnavailable(
                f"{obj.name} is the primary Salesforce object and the integration user cannot read it ({reason}). "
                f"Give the user API Enabled and Read on {obj.name} (or View All Data), then run again",
                endpoint=f"{SOURCE}.{obj.table}",
            ) from cause
        log.warning("%s: skipped: %s", obj.table, reason)
        self.stats.skip(SOURCE, obj.table, f"skipped: {reason}")


class PrimaryObjectUnavailable(FatalAPIError):
    """A primary object (``Case``) is missing or refused: the run fails (never skipped)."""


def make_context(
    credentials: Any,
    base_url: str | None,
    *,
    api_version: str = DEFAULT_API_VERSION,
    start_date: str | None = None,
    lookback_minutes: int = 10,
    bulk_threshold: int = 10_000,
    bulk_max_records: int = 50_000,
    bulk_poll_seconds: float = 2.0,
    bulk_timeout_seconds: float = 3600.0,
    quota_share: float = 0.5,
    objects: str | Sequence[str] | None = None,
    extra_objects: str | Sequence[str] | None = None,
    policy: RetryPolicy | None = None,
    stats: StatsRegistry | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SalesforceContext:
    """Validate the settings and wire the login; no request is made before a resource runs."""
    login_url = resolve_login_url(base_url)
    if not 0 < float(quota_share) <= 1:
        raise ConfigError(f"SOURCES__SALESFORCE__QUOTA_SHARE must be in (0, 1], got {quota_share!r}")
    if int(lookback_minutes) < 0:
        raise ConfigError(f"SOURCES__SALESFORCE__LOOKBACK_MINUTES must be >= 0, got {lookback_minutes!r}")
    if int(bulk_max_records) <= 0:
        raise ConfigError(f"SOURCES__SALESFORCE__BULK_MAX_RECORDS must be positive, got {bulk_max_records!r}")
    try:
        configured = resolve(objects, extra_objects)
    except ValueError as exc:
        raise ConfigError(f"SOURCES__SALESFORCE__OBJECTS / EXTRA_OBJECTS: {exc}") from None
    for obj in configured:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", obj.name):
            raise ConfigError(f"SOURCES__SALESFORCE__OBJECTS / EXTRA_OBJECTS: {obj.name!r} is not an object API name")
    registry = stats if stats is not None else STATS
    login = HttpClient(
        login_url, name=SOURCE, classify=login_classify(credentials), policy=policy, stats=registry, sleep=sleep
    )
    return SalesforceContext(
        auth=SalesforceOAuth(credentials, login),
        objects=configured,
        api_version=parse_api_version(api_version),
        start_date=parse_start_date(start_date, START_DATE),
        lookback=dt.timedelta(minutes=int(lookback_minutes)),
        bulk_threshold=int(bulk_threshold),
        bulk_max_records=int(bulk_max_records),
        bulk_poll_seconds=float(bulk_poll_seconds),
        bulk_timeout_seconds=float(bulk_timeout_seconds),
        quota=QuotaGuard(float(quota_share)),
        policy=policy,
        stats=registry,
        sleep=sleep,
    )


def parse_api_version(value: str) -> str:
    text = str(value or "").strip()
    match = re.fullmatch(r"v?(\d{2,3})(?:\.(\d))?", text)
    if not match:
        raise ConfigError(f"SOURCES__SALESFORCE__API_VERSION must look like v62.0, got {value!r}")
    return f"v{match.group(1)}.{match.group(2) or 0}"
