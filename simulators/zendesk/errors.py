"""Zendesk's error bodies and rate-limit headers (the server itself is :mod:`simulators.shared`).

Error bodies and headers follow Zendesk's documentation and observed responses:

* 401 — ``{"error": "Couldn't authenticate you"}`` for Basic auth; an OAuth bearer token that
  is not valid gets ``{"error": "invalid_token", "error_description": ...}``;
* 404 — ``{"error": "InvalidEndpoint", "description": "Not found"}``;
* 403 — ``{"error": "Forbidden", "description": "You do not have access to this page. ..."}``;
* 429 — ``Retry-After`` (seconds) and a plain-text body, "Number of allowed API requests per
  minute exceeded" (the incremental exports say "incremental export API requests");
* every response carries ``X-Rate-Limit``, ``X-Rate-Limit-Remaining``, ``ratelimit-limit``,
  ``ratelimit-remaining`` and ``ratelimit-reset`` (API reference: Rate limits), for the limit
  that binds the endpoint: 10 a minute for the incremental exports, the account's plan limit
  for everything else.
"""

from __future__ import annotations

from simulators.shared import JSON, TEXT, Response, dumps

UNAUTHORIZED = dumps({"error": "Couldn't authenticate you"})
INVALID_TOKEN = dumps(
    {
        "error": "invalid_token",
        "error_description": "The access token provided is expired, revoked, malformed or invalid for other reasons.",
    }
)
NOT_FOUND = dumps({"error": "InvalidEndpoint", "description": "Not found"})
FORBIDDEN = dumps(
    {
        "error": "Forbidden",
        "description": (
            "You do not have access to this page. Please contact the account owner of this help desk for further help."
        ),
    }
)
ACCOUNT_LIMITED = b"Number of allowed API requests per minute exceeded"
EXPORT_LIMITED = b"Number of allowed incremental export API requests per minute exceeded"
BAD_JSON = b'{"tickets":[{"id":1,"subject":"unterminated'
_ERROR_BODIES: dict[int, tuple[bytes, str]] = {
    500: (dumps({"error": "InternalServerError", "description": "Something went wrong"}), JSON),
    502: (b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
    503: (b"Service Unavailable", TEXT),
    504: (b"<html><body><h1>504 Gateway Time-out</h1></body></html>", "text/html"),
}


def error_response(status: int) -> Response:
    body, content_type = _ERROR_BODIES.get(status, (dumps({"error": f"HTTP {status}"}), JSON))
    return Response(status, body, content_type)


def limit_headers(limit: int, remaining: int, reset: int) -> list[tuple[str, str]]:
    """The rate-limit headers of every Zendesk response."""
    return [
        ("X-Rate-Limit", str(limit)),
        ("X-Rate-Limit-Remaining", str(remaining)),
        ("ratelimit-limit", str(limit)),
        ("ratelimit-remaining", str(remaining)),
        ("ratelimit-reset", str(reset)),
    ]
