"""Salesforce credentials, one typed class per OAuth 2.0 flow, and the token they buy.

dlt resolves the first class of :data:`SalesforceCredentials` whose settings are all present, so
the union lists the most specific flow first (every variable under
``SOURCES__SALESFORCE__CREDENTIALS__``):

- username-password: ``CLIENT_ID``, ``CLIENT_SECRET``, ``USERNAME``, ``PASSWORD`` and, from an
  IP range the org does not trust, ``SECURITY_TOKEN`` (appended to the password, as the flow
  requires);
- JWT bearer: ``CLIENT_ID``, ``USERNAME``, ``PRIVATE_KEY`` (PEM; the connected app holds the
  matching certificate and the user is pre-authorised); the assertion is signed RS256, valid three
  minutes, with ``aud`` the login host (``https://login.salesforce.com``, or
  ``https://test.salesforce.com`` for sandboxes, My Domain hosts included);
- refresh token: ``CLIENT_ID``, ``CLIENT_SECRET``, ``REFRESH_TOKEN``;
- client credentials: ``CLIENT_ID``, ``CLIENT_SECRET`` (the connected app's run-as user; the
  flow needs a My Domain login host).

Every flow POSTs a form to ``{login host}/services/oauth2/token``; the response's ``access_token``
is sent as ``Authorization: Bearer`` and its ``instance_url`` is where every later call goes.
:class:`SalesforceOAuth` fetches the token through an :class:`~connectors.http.HttpClient` on the
login host, and again when the API answers ``INVALID_SESSION_ID`` (the HTTP layer calls
:meth:`SalesforceOAuth.refresh` once, then repeats the request). A refused grant
(``invalid_client``, ``invalid_grant``, ...) raises :class:`CredentialsRejected`, which names the
settings to fix and never shows a secret.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from dlt.common.configuration.specs import CredentialsConfiguration, configspec
from dlt.common.typing import TSecretValue

from common.errors import APIError, AuthError, ConfigError, FatalAPIError, RetriableAPIError
from common.secrets import register_secret
from connectors.auth import RefreshableAuth
from connectors.http import HttpClient, parse_base_url

PREFIX = "SOURCES__SALESFORCE__CREDENTIALS__"
TOKEN_PATH = "/services/oauth2/token"  # noqa: S105 - a path, not a secret
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
JWT_LIFETIME_SECONDS = 180  # Salesforce accepts an assertion whose exp is at most 3 minutes ahead
PRODUCTION_LOGIN = "https://login.salesforce.com"
SANDBOX_LOGIN = "https://test.salesforce.com"


def _settings(*names: str) -> str:
    return ", ".join(PREFIX + n for n in names)


class CredentialsRejected(AuthError, ConfigError):
    """The login host refused the grant: the message names the settings to fix (never their values)."""


# --------------------------------------------------------------------------------------------
# One class per flow
# --------------------------------------------------------------------------------------------


@configspec
class SalesforceUsernamePasswordCredentials(CredentialsConfiguration):
    """OAuth 2.0 username-password flow (``grant_type=password``)."""

    client_id: str = None  # type: ignore[assignment]
    client_secret: TSecretValue = None
    username: str = None  # type: ignore[assignment]
    password: TSecretValue = None
    security_token: TSecretValue | None = None

    def flow(self) -> str:
        return "username-password"

    def settings(self) -> str:
        return _settings("CLIENT_ID", "CLIENT_SECRET", "USERNAME", "PASSWORD", "SECURITY_TOKEN")

    def token_request(self, login_url: str) -> dict[str, str]:
        return {
            "grant_type": "password",
            "client_id": self.client_id,
            "client_secret": str(self.client_secret),
            "username": self.username,
            "password": str(self.password) + str(self.security_token or ""),
        }

    def secret_values(self) -> list[str]:
        pw = str(self.password or "")
        return [str(self.client_secret or ""), pw, str(self.security_token or ""), pw + str(self.security_token or "")]

    def grant_hint(self) -> str:
        return (
            f"check {_settings('USERNAME', 'PASSWORD')} and {PREFIX}SECURITY_TOKEN (required outside the org's "
            "trusted IP ranges; reset it from the user's settings), that the connected app allows the "
            "username-password flow, and SOURCES__SALESFORCE__BASE_URL (https://test.salesforce.com for a sandbox)"
        )

    def __str__(self) -> str:
        return f"{self.username} (username-password, client {self.client_id}, ***)"


@configspec
class SalesforceJwtBearerCredentials(CredentialsConfiguration):
    """OAuth 2.0 JWT bearer flow: an RS256-signed assertion, no secret sent over the wire."""

    client_id: str = None  # type: ignore[assignment]
    username: str = None  # type: ignore[assignment]
    private_key: TSecretValue = None

    def flow(self) -> str:
        return "JWT bearer"

    def settings(self) -> str:
        return _settings("CLIENT_ID", "USERNAME", "PRIVATE_KEY")

    def token_request(self, login_url: str) -> dict[str, str]:
        assertion = jwt_assertion(self.client_id, self.username, jwt_audience(login_url), self.pem())
        return {"grant_type": JWT_GRANT, "assertion": assertion}

    def pem(self) -> str:
        """The private key as PEM text (``\\n`` escapes of a one-line variable are unfolded; a path
        to a PEM file is read)."""
        text = str(self.private_key or "").strip()
        if "-----BEGIN" not in text:
            candidate = Path(text).expanduser()
            if text and len(text) < 4096 and candidate.is_file():
                text = candidate.read_text().strip()
        if "\\n" in text and "\n" not in text:
            text = text.replace("\\n", "\n").strip()
        if "-----BEGIN" not in text:
            raise ConfigError(f"{PREFIX}PRIVATE_KEY must be a PEM private key (-----BEGIN PRIVATE KEY-----...)")
        return text

    def secret_values(self) -> list[str]:
        return [str(self.private_key or "")]

    def grant_hint(self) -> str:
        return (
            f"check {_settings('CLIENT_ID', 'USERNAME')}, that {PREFIX}PRIVATE_KEY matches the certificate "
            "uploaded to the connected app, that the user is pre-authorised for the app (admin-approved users), "
            "and SOURCES__SALESFORCE__BASE_URL (the assertion's audience: https://test.salesforce.com for a sandbox)"
        )

    def __str__(self) -> str:
        return f"{self.username} (JWT bearer, client {self.client_id}, ***)"


@configspec
class SalesforceRefreshTokenCredentials(CredentialsConfiguration):
    """OAuth 2.0 refresh token flow: a refresh token issued earlier to the same connected app."""

    client_id: str = None  # type: ignore[assignment]
    client_secret: TSecretValue = None
    refresh_token: TSecretValue = None

    def flow(self) -> str:
        return "refresh token"

    def settings(self) -> str:
        return _settings("CLIENT_ID", "CLIENT_SECRET", "REFRESH_TOKEN")

    def token_request(self, login_url: str) -> dict[str, str]:
        return {
            "grant_type": "refresh_token",
            "client_id": self.client_id,
            "client_secret": str(self.client_secret),
            "refresh_token": str(self.refresh_token),
        }

    def secret_values(self) -> list[str]:
        return [str(self.client_secret or ""), str(self.refresh_token or "")]

    def grant_hint(self) -> str:
        return (
            f"{PREFIX}REFRESH_TOKEN is expired or revoked, or was issued to another connected app "
            f"than {PREFIX}CLIENT_ID: authorise the app again and store the new refresh token"
        )

    def __str__(self) -> str:
        return f"refresh token (client {self.client_id}, ***)"


@configspec
class SalesforceClientCredentials(CredentialsConfiguration):
    """OAuth 2.0 client credentials flow: the connected app acts as its configured run-as user."""

    client_id: str = None  # type: ignore[assignment]
    client_secret: TSecretValue = None

    def flow(self) -> str:
        return "client credentials"

    def settings(self) -> str:
        return _settings("CLIENT_ID", "CLIENT_SECRET")

    def token_request(self, login_url: str) -> dict[str, str]:
        return {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": str(self.client_secret),
        }

    def secret_values(self) -> list[str]:
        return [str(self.client_secret or "")]

    def grant_hint(self) -> str:
        return (
            f"check {_settings('CLIENT_ID', 'CLIENT_SECRET')}, that the connected app enables the client "
            "credentials flow with a run-as user, and that SOURCES__SALESFORCE__BASE_URL is the org's My Domain "
            "(https://acme.my.salesforce.com): login.salesforce.com does not serve this flow"
        )

    def __str__(self) -> str:
        return f"client credentials (client {self.client_id}, ***)"


SalesforceCredentials = (
    SalesforceUsernamePasswordCredentials
    | SalesforceJwtBearerCredentials
    | SalesforceRefreshTokenCredentials
    | SalesforceClientCredentials
)
"""Most specific first: dlt takes the first class whose settings are all present."""


# --------------------------------------------------------------------------------------------
# Login host and JWT
# --------------------------------------------------------------------------------------------


def resolve_login_url(base_url: str | None) -> str:
    """``SOURCES__SALESFORCE__BASE_URL``: the login host (production, sandbox or My Domain);
    ``http://`` only on loopback (a simulator) or with ``allow_insecure_http``
    (:func:`connectors.http.require_secure_base_url`). Default: production."""
    if not base_url:
        return PRODUCTION_LOGIN
    return parse_base_url(
        base_url,
        "SOURCES__SALESFORCE__BASE_URL",
        "a login host such as https://login.salesforce.com, https://test.salesforce.com or "
        "https://acme.my.salesforce.com",
    )


def jwt_audience(login_url: str) -> str:
    """The ``aud`` claim: production or sandbox login host; My Domain hosts map to the one they
    belong to; any other host (an Experience Cloud site, a simulator) is its own audience."""
    host = (urlsplit(login_url).hostname or "").lower()
    if host in ("login.salesforce.com", "test.salesforce.com"):
        return f"https://{host}"
    if host.endswith(".sandbox.my.salesforce.com"):
        return SANDBOX_LOGIN
    if host.endswith(".my.salesforce.com"):
        return PRODUCTION_LOGIN
    return login_url.rstrip("/")


def _compact(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwt_assertion(client_id: str, username: str, audience: str, private_key_pem: str, now: float | None = None) -> str:
    """An RS256-signed JWT for the bearer flow: ``iss`` the consumer key, ``sub`` the username,
    ``aud`` the login host, ``exp`` three minutes ahead."""
    try:
        from cryptography.exceptions import UnsupportedAlgorithm
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding, rsa
    except ImportError:  # pragma: no cover - cryptography is a dependency
        raise ConfigError("the JWT bearer flow needs the 'cryptography' package") from None
    issued = int(time.time() if now is None else now)
    header = {"alg": "RS256", "typ": "JWT"}
    claims = {"iss": client_id, "sub": username, "aud": audience, "exp": issued + JWT_LIFETIME_SECONDS}
    signing_input = f"{_b64url(_compact(header))}.{_b64url(_compact(claims))}"
    try:
        key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ConfigError(
            f"{PREFIX}PRIVATE_KEY is not a readable unencrypted PEM private key (RSA, matching the "
            "certificate uploaded to the connected app)"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(f"{PREFIX}PRIVATE_KEY must be an RSA key (Salesforce verifies RS256)")
    signature = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64url(signature)}"


# --------------------------------------------------------------------------------------------
# The token
# --------------------------------------------------------------------------------------------

_OAUTH_ERRORS: dict[str, str] = {
    "invalid_client_id": "the connected app's consumer key is not known to this login host: check {client_id} "
    "and SOURCES__SALESFORCE__BASE_URL (production, sandbox or My Domain)",
    "invalid_client": "the connected app refused its client credentials: check {client_settings}",
    "invalid_grant": "{grant_hint}",
    "unsupported_grant_type": "this login host or connected app does not allow the {flow} flow: {grant_hint}",
    "invalid_request": "the token request was refused: {grant_hint}",
    "inactive_user": "the user is inactive: check {settings}",
    "inactive_org": "the org is inactive or locked: check SOURCES__SALESFORCE__BASE_URL",
}


def login_classify(credentials: Any) -> Callable[[requests.Response, str], APIError | None]:
    """Map the login host's OAuth error bodies (``{"error": ..., "error_description": ...}``) to
    :class:`CredentialsRejected` naming the settings of ``credentials``' flow."""

    def classify(response: requests.Response, where: str) -> APIError | None:
        if response.status_code >= 500 and response.status_code != 501:
            return None  # the generic mapping retries server errors
        try:
            body = response.json()
        except ValueError:
            return None
        if not isinstance(body, Mapping) or not body.get("error"):
            return None
        code = str(body.get("error"))
        description = str(body.get("error_description") or "")
        if code == "rate_limit_exceeded":
            return RetriableAPIError(
                "the login host rate-limits logins", endpoint=where, status=response.status_code, retry_after=60.0
            )
        template = _OAUTH_ERRORS.get(code, "the login was refused: check {settings}")
        hint = template.format(
            client_id=f"{PREFIX}CLIENT_ID",
            client_settings=_settings("CLIENT_ID", "CLIENT_SECRET")
            if "client_secret" in credentials.settings().lower()
            else f"{PREFIX}CLIENT_ID",
            grant_hint=credentials.grant_hint(),
            flow=credentials.flow(),
            settings=credentials.settings(),
        )
        detail = f"{code}: {description}" if description else code
        return CredentialsRejected(
            f"Salesforce {credentials.flow()} login failed ({detail}); {hint}",
            endpoint=where,
            status=response.status_code,
        )

    return classify


class SalesforceOAuth(RefreshableAuth):
    """``Authorization: Bearer`` with a token from the login host, fetched on first use and again
    on :meth:`refresh` (the HTTP layer calls it once when the API answers ``INVALID_SESSION_ID``)."""

    def __init__(self, credentials: Any, login: HttpClient) -> None:
        self.credentials = credentials
        self.login = login
        self.instance_url: str | None = None
        self.on_instance_url: Callable[[str], None] | None = None
        self.fetches = 0
        self._token: str | None = None
        self._lock = threading.Lock()
        for value in credentials.secret_values():
            register_secret(value)

    @property
    def login_url(self) -> str:
        return self.login.base_url.rstrip("/")

    def token(self) -> str:
        with self._lock:
            if self._token is None:
                self._fetch()
            assert self._token is not None
            return self._token

    def ensure(self) -> str:
        """Log in if not yet done; returns the instance URL every API call goes to."""
        self.token()
        assert self.instance_url is not None
        return self.instance_url

    def refresh(self) -> None:
        with self._lock:
            self._fetch()

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token()}"
        return r

    def __repr__(self) -> str:
        return f"SalesforceOAuth({self.credentials.flow()}, ***)"

    def _fetch(self) -> None:
        form = self.credentials.token_request(self.login_url)
        result = self.login.request("POST", TOKEN_PATH, endpoint="oauth_token", data=form)
        body = result.data if isinstance(result.data, Mapping) else {}
        token = body.get("access_token")
        if not token:
            raise FatalAPIError(
                "the token response has no access_token", endpoint=f"{self.login.name}.oauth_token", url=result.url
            )
        register_secret(str(token))
        self._token = str(token)
        self.fetches += 1
        instance = str(body.get("instance_url") or self.login_url).rstrip("/")
        changed = self.instance_url is not None and instance != self.instance_url
        self.instance_url = instance
        if changed and self.on_instance_url is not None:
            self.on_instance_url(instance)
