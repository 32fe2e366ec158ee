"""Authentication schemes as ``requests.AuthBase`` subclasses, one per scheme.

Each registers its secret values with :mod:`common.secrets` so they are masked everywhere.
A scheme that can renew itself (OAuth flows) implements :meth:`RefreshableAuth.refresh`; the HTTP
layer calls it once when the API answers 401 and then repeats the request.
"""

from __future__ import annotations

import base64

import requests
from requests.auth import AuthBase

from common.secrets import register_secret


class BasicAuth(AuthBase):
    """HTTP Basic authentication (Zendesk: ``{email}/token`` + API token; Confluence: email + token)."""

    def __init__(self, username: str, password: str) -> None:
        register_secret(password)
        token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        register_secret(token)
        self._header = f"Basic {token}"

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = self._header
        return r

    def __repr__(self) -> str:
        return "BasicAuth(***)"


class BearerAuth(AuthBase):
    """``Authorization: Bearer <token>`` (OAuth access tokens)."""

    def __init__(self, token: str) -> None:
        register_secret(token)
        self.token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r

    def __repr__(self) -> str:
        return "BearerAuth(***)"


class RefreshableAuth(AuthBase):
    """An auth scheme that can obtain a new token; the HTTP layer calls :meth:`refresh` on a 401."""

    def refresh(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError
