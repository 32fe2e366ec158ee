"""Confluence Cloud credentials, one typed class per auth mode; dlt picks the one that resolves.

- API token: ``SOURCES__CONFLUENCE__CREDENTIALS__EMAIL`` + ``SOURCES__CONFLUENCE__CREDENTIALS__API_TOKEN``
  (Basic ``{email}:{api_token}``; tokens from id.atlassian.com → Security → API tokens);
- OAuth: ``SOURCES__CONFLUENCE__CREDENTIALS__OAUTH_TOKEN`` (``Authorization: Bearer``). OAuth 2.0
  (3LO) access tokens are accepted only by the gateway, so ``SOURCES__CONFLUENCE__BASE_URL`` is then
  ``https://api.atlassian.com/ex/confluence/{cloudId}`` rather than the site.
"""

from __future__ import annotations

from dlt.common.configuration.specs import CredentialsConfiguration, configspec
from dlt.common.typing import TSecretValue
from requests.auth import AuthBase

from connectors.auth import BasicAuth, BearerAuth

API_TOKEN_SETTINGS = "SOURCES__CONFLUENCE__CREDENTIALS__EMAIL and SOURCES__CONFLUENCE__CREDENTIALS__API_TOKEN"  # noqa: S105 - names of settings, not a secret
OAUTH_SETTINGS = "SOURCES__CONFLUENCE__CREDENTIALS__OAUTH_TOKEN"


@configspec
class ConfluenceApiTokenCredentials(CredentialsConfiguration):
    """An Atlassian account's email and one of its API tokens."""

    email: str = None  # type: ignore[assignment]
    api_token: TSecretValue = None

    def auth(self) -> AuthBase:
        return BasicAuth(self.email, str(self.api_token))

    def settings(self) -> str:
        return API_TOKEN_SETTINGS

    def __str__(self) -> str:
        return f"{self.email}:***"


@configspec
class ConfluenceOAuthCredentials(CredentialsConfiguration):
    """An OAuth 2.0 access token with the ``read:page:confluence`` and ``read:space:confluence``
    scopes, and preferably ``read:label:confluence`` (without it labels are read one content at a
    time; see the README's "Configure Confluence")."""

    oauth_token: TSecretValue = None

    def auth(self) -> AuthBase:
        return BearerAuth(str(self.oauth_token))

    def settings(self) -> str:
        return OAUTH_SETTINGS

    def __str__(self) -> str:
        return "oauth:***"


ConfluenceCredentials = ConfluenceApiTokenCredentials | ConfluenceOAuthCredentials
