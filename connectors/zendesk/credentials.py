"""Zendesk credentials, one typed class per auth mode; dlt picks the one that resolves.

- API token: ``SOURCES__ZENDESK__CREDENTIALS__EMAIL`` + ``SOURCES__ZENDESK__CREDENTIALS__API_TOKEN``
  (Basic ``{email}/token:{api_token}``);
- OAuth: ``SOURCES__ZENDESK__CREDENTIALS__OAUTH_TOKEN`` (``Authorization: Bearer``).
"""

from __future__ import annotations

from dlt.common.configuration.specs import CredentialsConfiguration, configspec
from dlt.common.typing import TSecretValue
from requests.auth import AuthBase

from connectors.auth import BasicAuth, BearerAuth

API_TOKEN_SETTINGS = "SOURCES__ZENDESK__CREDENTIALS__EMAIL and SOURCES__ZENDESK__CREDENTIALS__API_TOKEN"  # noqa: S105 - names of settings, not a secret
OAUTH_SETTINGS = "SOURCES__ZENDESK__CREDENTIALS__OAUTH_TOKEN"


@configspec
class ZendeskApiTokenCredentials(CredentialsConfiguration):
    """An agent's email and an API token (Admin Center → Apps and integrations → Zendesk API)."""

    email: str = None  # type: ignore[assignment]
    api_token: TSecretValue = None

    def auth(self) -> AuthBase:
        return BasicAuth(f"{self.email}/token", str(self.api_token))

    def settings(self) -> str:
        return API_TOKEN_SETTINGS

    def __str__(self) -> str:
        return f"{self.email}/token:***"


@configspec
class ZendeskOAuthCredentials(CredentialsConfiguration):
    """An OAuth access token with the ``read`` scope."""

    oauth_token: TSecretValue = None

    def auth(self) -> AuthBase:
        return BearerAuth(str(self.oauth_token))

    def settings(self) -> str:
        return OAUTH_SETTINGS

    def __str__(self) -> str:
        return "oauth:***"


ZendeskCredentials = ZendeskApiTokenCredentials | ZendeskOAuthCredentials
