"""OAuth 2.0 of the simulated org: the token endpoint (client credentials, username-password,
refresh token, JWT bearer with RS256), revocation's token table, and the identity URL."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import threading
import time
from typing import Any
from urllib.parse import parse_qs

from simulators.shared import (
    Response,
    basic_credentials,
    dumps,
)

from ._util import B62
from .core import Core, oauth_error

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


LOGIN_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")


_KEY_LOCK = threading.Lock()


_KEYPAIR: tuple[str, str] | None = None


def _generated_keypair() -> tuple[str, str]:
    """One RSA key pair per process (PEM private, PEM public): generating one takes a while."""
    global _KEYPAIR
    with _KEY_LOCK:
        if _KEYPAIR is None:
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.asymmetric import rsa

            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            private = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ).decode()
            public = (
                key.public_key()
                .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
                .decode()
            )
            _KEYPAIR = (private, public)
        return _KEYPAIR


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class OAuth(Core):
    """Access tokens: issued, checked, and the identity they stand for."""

    def _issue(self, grant: str, refresh: bool = False, sign: bool = True) -> Response:
        base = self.base_url or "http://127.0.0.1"
        token = f"{self.org_id[:15]}!AQ" + "".join(self._token_rng.choice(B62 + ".") for _ in range(96))
        self._tokens[token] = grant
        self.stats.tokens[grant] += 1
        issued = str(self._now() * 1000)
        identity = f"{base}/id/{self.org_id}/{self.user_id}"
        body: dict[str, Any] = {"access_token": token}
        if refresh:
            body["refresh_token"] = self.refresh_token
        body.update({"instance_url": base, "id": identity, "token_type": "Bearer", "issued_at": issued})
        if sign:
            digest = hmac.new(self.client_secret.encode(), (identity + issued).encode(), hashlib.sha256).digest()
            body["signature"] = base64.b64encode(digest).decode()
        body["scope"] = "api refresh_token" if refresh or grant == "refresh_token" else "api"
        no_store = ("Cache-Control", "no-cache,must-revalidate,max-age=0,no-store,private")
        return Response(200, dumps(body), headers=[no_store])

    def _token(self, params: dict[str, str], headers: Any, body: bytes) -> Response:
        form = dict(params)
        form.update({k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()})
        basic = basic_credentials(headers.get("Authorization"))
        if basic is not None:
            form.setdefault("client_id", basic[0])
            form.setdefault("client_secret", basic[1])
        grant = form.get("grant_type", "")
        response = self._grant(grant, form)
        if response.status != 200:
            self.stats.auth_failures += 1
        return response

    def _grant(self, grant: str, form: dict[str, str]) -> Response:
        if grant not in ("client_credentials", "password", "refresh_token", JWT_BEARER):
            return oauth_error("unsupported_grant_type", "grant type not supported")
        if grant == JWT_BEARER:
            return self._jwt_grant(form.get("assertion", ""))
        if form.get("client_id") != self.client_id:
            return oauth_error("invalid_client_id", "client identifier invalid")
        secret = form.get("client_secret")
        if grant == "refresh_token":
            if secret is not None and secret != self.client_secret:
                return oauth_error("invalid_client", "invalid client credentials")
            if form.get("refresh_token") != self.refresh_token:
                return oauth_error("invalid_grant", "expired access/refresh token")
            return self._issue(grant)
        if secret != self.client_secret:
            return oauth_error("invalid_client", "invalid client credentials")
        if grant == "client_credentials":
            return self._issue(grant)
        if form.get("username", "").lower() != self.username or form.get("password") != (
            self.password + self.security_token
        ):
            return oauth_error("invalid_grant", "authentication failure")
        return self._issue(grant)

    def _jwt_grant(self, assertion: str) -> Response:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding, rsa

        parts = assertion.split(".")
        if len(parts) != 3:
            return oauth_error("invalid_grant", "invalid assertion")
        try:
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            signature = b64url_decode(parts[2])
        except (ValueError, binascii.Error):
            return oauth_error("invalid_grant", "invalid assertion")
        if not isinstance(header, dict) or not isinstance(claims, dict) or header.get("alg") != "RS256":
            return oauth_error("invalid_grant", "invalid assertion")
        key = serialization.load_pem_public_key(self.public_key_pem.encode())
        if not isinstance(key, rsa.RSAPublicKey):  # pragma: no cover - configuration error
            return oauth_error("invalid_grant", "invalid assertion")
        try:
            key.verify(signature, f"{parts[0]}.{parts[1]}".encode(), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return oauth_error("invalid_grant", "invalid assertion")
        if claims.get("iss") != self.client_id:
            return oauth_error("invalid_client_id", "client identifier invalid")
        audiences = claims.get("aud")
        audiences = audiences if isinstance(audiences, list) else [audiences]
        accepted = set(self.jwt_audiences) | ({self.base_url} if self.base_url else set())
        if not any(isinstance(a, str) and a.rstrip("/") in accepted for a in audiences):
            return oauth_error("invalid_grant", "audience is invalid")
        if str(claims.get("sub", "")).lower() != self.username:
            return oauth_error("invalid_grant", "user hasn't approved this consumer")
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or exp <= time.time():
            return oauth_error("invalid_grant", "expired authorization code")
        return self._issue(JWT_BEARER, sign=False)

    def _identity(self, headers: Any) -> Response:
        if self._tokens.get(self._bearer(headers)) is None:
            return Response(403, b"Bad_OAuth_Token", "text/plain")
        base = self.base_url or ""
        user = self.org.build("User", 0)
        return Response(
            200,
            dumps(
                {
                    "id": f"{base}/id/{self.org_id}/{self.user_id}",
                    "asserted_user": True,
                    "user_id": self.user_id,
                    "organization_id": self.org_id,
                    "username": self.username,
                    "display_name": user["Name"],
                    "email": user["Email"],
                    "active": True,
                    "user_type": "STANDARD",
                    "language": "en_US",
                    "locale": "en_US",
                    "urls": {
                        "rest": f"{base}/services/data/{{version}}/",
                        "sobjects": f"{base}/services/data/{{version}}/sobjects/",
                        "query": f"{base}/services/data/{{version}}/query/",
                    },
                }
            ),
        )

    @property
    def private_key_pem(self) -> str:
        """The PEM private key whose public half the JWT bearer grant trusts."""
        if self._jwt_public_key_pem is not None:
            raise AttributeError("the simulator was given a public key; the private key is the caller's")
        return _generated_keypair()[0]

    @property
    def public_key_pem(self) -> str:
        return self._jwt_public_key_pem or _generated_keypair()[1]
