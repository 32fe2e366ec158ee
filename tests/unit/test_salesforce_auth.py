"""Salesforce login: every OAuth flow's token request, instance_url, one re-authentication on
INVALID_SESSION_ID, and refused grants that name the settings without showing the secrets."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from urllib.parse import parse_qsl

import dlt
import pytest
import requests
import responses
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from responses import matchers

from common.errors import AuthError, ConfigError
from connectors.http import RetryPolicy
from connectors.salesforce.auth import (
    JWT_GRANT,
    CredentialsRejected,
    SalesforceClientCredentials,
    SalesforceJwtBearerCredentials,
    SalesforceRefreshTokenCredentials,
    SalesforceUsernamePasswordCredentials,
    jwt_audience,
    resolve_login_url,
)
from connectors.salesforce.context import make_context
from connectors.salesforce.describe import describe_global
from connectors.salesforce.source import salesforce_source
from connectors.stats import StatsRegistry

LOGIN = "https://login.salesforce.com"
TOKEN_URL = f"{LOGIN}/services/oauth2/token"
INSTANCE = "https://acme.my.salesforce.com"
SOBJECTS = f"{INSTANCE}/services/data/v62.0/sobjects"
GLOBAL = {"sobjects": [{"name": "Case", "queryable": True, "replicateable": True}]}


def token_body(token: str = "tok-1", instance: str = INSTANCE) -> dict[str, str]:  # noqa: S107 - a fake token
    return {
        "access_token": token,
        "instance_url": instance,
        "id": f"{LOGIN}/id/00D/005",
        "token_type": "Bearer",
        "issued_at": "1700000000000",
        "signature": "c2ln",
    }


def context(credentials: object, base_url: str = LOGIN):  # type: ignore[no-untyped-def]
    return make_context(
        credentials,
        base_url,
        policy=RetryPolicy(max_attempts=2, backoff_initial=0, jitter=0),
        stats=StatsRegistry(),
        sleep=lambda _s: None,
    )


@pytest.fixture
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


# --------------------------------------------------------------------------------------------
# Each flow's token request, and the instance_url used afterwards
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("credentials", "form"),
    [
        pytest.param(
            SalesforceClientCredentials(client_id="cid", client_secret="csecret"),
            {"grant_type": "client_credentials", "client_id": "cid", "client_secret": "csecret"},
            id="client-credentials",
        ),
        pytest.param(
            SalesforceUsernamePasswordCredentials(
                client_id="cid",
                client_secret="csecret",
                username="api@acme.com",
                password="hunter22",
                security_token="TOKEN123",
            ),
            {
                "grant_type": "password",
                "client_id": "cid",
                "client_secret": "csecret",
                "username": "api@acme.com",
                "password": "hunter22TOKEN123",
            },
            id="username-password",
        ),
        pytest.param(
            SalesforceRefreshTokenCredentials(client_id="cid", client_secret="csecret", refresh_token="5Aep-refresh"),
            {
                "grant_type": "refresh_token",
                "client_id": "cid",
                "client_secret": "csecret",
                "refresh_token": "5Aep-refresh",
            },
            id="refresh-token",
        ),
    ],
)
def test_token_request_and_instance_url(
    rsps: responses.RequestsMock, credentials: object, form: dict[str, str]
) -> None:
    rsps.post(TOKEN_URL, json=token_body(), match=[matchers.urlencoded_params_matcher(form)])
    rsps.get(SOBJECTS, json=GLOBAL, match=[matchers.header_matcher({"Authorization": "Bearer tok-1"})])
    ctx = context(credentials)

    catalog = describe_global(ctx.api())

    assert "case" in catalog
    assert ctx.api().client.base_url == INSTANCE + "/"
    assert rsps.calls[1].request.url.startswith(INSTANCE)


def test_jwt_bearer_assertion_is_signed_for_the_login_host(
    rsps: responses.RequestsMock, rsa_key: rsa.RSAPrivateKey
) -> None:
    seen: dict[str, str] = {}

    def token(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        seen.update(parse_qsl(str(request.body)))
        return 200, {}, json.dumps(token_body())

    rsps.add_callback(responses.POST, TOKEN_URL, callback=token)
    rsps.get(SOBJECTS, json=GLOBAL, match=[matchers.header_matcher({"Authorization": "Bearer tok-1"})])
    credentials = SalesforceJwtBearerCredentials(
        client_id="3MVG-cid", username="api@acme.com", private_key=pem(rsa_key)
    )
    before = int(time.time())

    describe_global(context(credentials).api())

    assert seen["grant_type"] == JWT_GRANT
    head, claims_part, signature = seen["assertion"].split(".")
    claims = json.loads(_unb64(claims_part))
    assert json.loads(_unb64(head))["alg"] == "RS256"
    assert (claims["iss"], claims["sub"], claims["aud"]) == ("3MVG-cid", "api@acme.com", LOGIN)
    assert before + 170 <= claims["exp"] <= int(time.time()) + 180
    # Raises InvalidSignature if the assertion was not signed with the key's private half.
    rsa_key.public_key().verify(
        _unb64(signature), f"{head}.{claims_part}".encode(), padding.PKCS1v15(), hashes.SHA256()
    )


def test_jwt_private_key_with_escaped_newlines_or_a_path(rsa_key: rsa.RSAPrivateKey, tmp_path: Path) -> None:
    one_line = pem(rsa_key).replace("\n", "\\n")
    assert (
        SalesforceJwtBearerCredentials(client_id="c", username="u", private_key=one_line).pem() == pem(rsa_key).strip()
    )
    key_file = tmp_path / "server.key"
    key_file.write_text(pem(rsa_key))
    assert (
        "BEGIN PRIVATE KEY"
        in SalesforceJwtBearerCredentials(client_id="c", username="u", private_key=str(key_file)).pem()
    )
    with pytest.raises(ConfigError, match="PRIVATE_KEY"):
        SalesforceJwtBearerCredentials(client_id="c", username="u", private_key="not a key").pem()


@pytest.mark.parametrize(
    ("login", "audience"),
    [
        ("https://login.salesforce.com", "https://login.salesforce.com"),
        ("https://test.salesforce.com", "https://test.salesforce.com"),
        ("https://acme.my.salesforce.com", "https://login.salesforce.com"),
        ("https://acme--uat.sandbox.my.salesforce.com", "https://test.salesforce.com"),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
    ],
)
def test_jwt_audience(login: str, audience: str) -> None:
    assert jwt_audience(login) == audience


def test_login_url_accepts_hosts_and_rejects_nonsense() -> None:
    assert resolve_login_url(None) == LOGIN
    assert resolve_login_url("https://acme.my.salesforce.com/") == "https://acme.my.salesforce.com"
    assert resolve_login_url("http://127.0.0.1:8765") == "http://127.0.0.1:8765"
    with pytest.raises(ConfigError, match="SOURCES__SALESFORCE__BASE_URL"):
        resolve_login_url("login.salesforce.com")


# --------------------------------------------------------------------------------------------
# INVALID_SESSION_ID: one re-authentication and a retry
# --------------------------------------------------------------------------------------------

EXPIRED = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def test_invalid_session_refreshes_once_and_retries(rsps: responses.RequestsMock) -> None:
    rsps.post(TOKEN_URL, json=token_body("tok-1"))
    rsps.get(SOBJECTS, status=401, json=EXPIRED, match=[matchers.header_matcher({"Authorization": "Bearer tok-1"})])
    rsps.post(TOKEN_URL, json=token_body("tok-2"))
    rsps.get(SOBJECTS, json=GLOBAL, match=[matchers.header_matcher({"Authorization": "Bearer tok-2"})])
    ctx = context(SalesforceClientCredentials(client_id="cid", client_secret="csecret"))

    assert "case" in describe_global(ctx.api())
    assert ctx.auth.fetches == 2
    assert sum(1 for c in rsps.calls if c.request.url == TOKEN_URL) == 2


def test_invalid_session_twice_fails_after_exactly_one_refresh(rsps: responses.RequestsMock) -> None:
    rsps.post(TOKEN_URL, json=token_body("tok-1"))
    rsps.get(SOBJECTS, status=401, json=EXPIRED)
    rsps.post(TOKEN_URL, json=token_body("tok-2"))
    rsps.get(SOBJECTS, status=401, json=EXPIRED)
    ctx = context(SalesforceClientCredentials(client_id="cid", client_secret="csecret"))

    with pytest.raises(AuthError, match=r"INVALID_SESSION_ID.*SOURCES__SALESFORCE__CREDENTIALS__CLIENT_ID"):
        describe_global(ctx.api())
    assert ctx.auth.fetches == 2


# --------------------------------------------------------------------------------------------
# Refused grants name the settings to fix, never the secrets
# --------------------------------------------------------------------------------------------


def test_wrong_client_secret_names_the_setting_and_hides_the_secret(rsps: responses.RequestsMock) -> None:
    rsps.post(
        TOKEN_URL, status=400, json={"error": "invalid_client", "error_description": "invalid client credentials"}
    )
    ctx = context(SalesforceClientCredentials(client_id="cid", client_secret="s3cr3t-value"))

    with pytest.raises(CredentialsRejected) as caught:
        ctx.api()

    message = str(caught.value)
    assert "SOURCES__SALESFORCE__CREDENTIALS__CLIENT_SECRET" in message
    assert "invalid_client" in message
    assert "s3cr3t-value" not in message
    assert isinstance(caught.value, ConfigError)  # the CLI reports it as "fix your settings"


def test_wrong_password_names_password_and_security_token(rsps: responses.RequestsMock) -> None:
    rsps.post(TOKEN_URL, status=400, json={"error": "invalid_grant", "error_description": "authentication failure"})
    credentials = SalesforceUsernamePasswordCredentials(
        client_id="cid",
        client_secret="csecret",
        username="api@acme.com",
        password="pw-secret",
        security_token="tk-secret",
    )

    with pytest.raises(CredentialsRejected) as caught:
        context(credentials).api()

    message = str(caught.value)
    assert "SOURCES__SALESFORCE__CREDENTIALS__PASSWORD" in message
    assert "SOURCES__SALESFORCE__CREDENTIALS__SECURITY_TOKEN" in message
    for secret in ("pw-secret", "tk-secret", "csecret"):
        assert secret not in message


def test_expired_refresh_token_names_refresh_token(rsps: responses.RequestsMock) -> None:
    rsps.post(
        TOKEN_URL, status=400, json={"error": "invalid_grant", "error_description": "expired access/refresh token"}
    )
    credentials = SalesforceRefreshTokenCredentials(client_id="cid", client_secret="csecret", refresh_token="rt-secret")

    with pytest.raises(CredentialsRejected, match="SOURCES__SALESFORCE__CREDENTIALS__REFRESH_TOKEN") as caught:
        context(credentials).api()
    assert "rt-secret" not in str(caught.value)


# --------------------------------------------------------------------------------------------
# dlt resolves the flow from the environment, most specific first
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "grant_type"),
    [
        ({"CLIENT_ID": "cid", "CLIENT_SECRET": "cs"}, "client_credentials"),
        ({"CLIENT_ID": "cid", "CLIENT_SECRET": "cs", "REFRESH_TOKEN": "rt"}, "refresh_token"),
        ({"CLIENT_ID": "cid", "CLIENT_SECRET": "cs", "USERNAME": "u@acme.com", "PASSWORD": "pw"}, "password"),
        ({"CLIENT_ID": "cid", "USERNAME": "u@acme.com", "PRIVATE_KEY": "<pem>"}, JWT_GRANT),
    ],
)
def test_environment_selects_the_flow(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    rsa_key: rsa.RSAPrivateKey,
    env: dict[str, str],
    grant_type: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(f"SOURCES__SALESFORCE__CREDENTIALS__{name}", pem(rsa_key) if value == "<pem>" else value)
    monkeypatch.setenv("SOURCES__SALESFORCE__BASE_URL", LOGIN)
    monkeypatch.setenv("SOURCES__SALESFORCE__MAX_ATTEMPTS", "1")
    seen: dict[str, str] = {}

    def token(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        seen.update(parse_qsl(str(request.body)))
        return 400, {}, json.dumps({"error": "invalid_grant", "error_description": "authentication failure"})

    pipeline = dlt.pipeline(pipeline_name="sf_flow", pipelines_dir=str(tmp_path), destination="duckdb")
    with responses.RequestsMock() as mock:
        mock.add_callback(responses.POST, TOKEN_URL, callback=token)
        with pytest.raises(Exception, match="login failed"):
            pipeline.extract(salesforce_source(resources=["case"]))
    assert seen["grant_type"] == grant_type
