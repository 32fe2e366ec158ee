"""Keeping secrets out of logs, errors and the warehouse.

Two mechanisms, both applied to every message we produce:

1. Every credential value is registered (:func:`register_secret`) when an auth object is built,
   and :func:`redact` replaces any registered value wherever it appears in a text.
2. URLs lose their user-info and the values of query parameters whose names look secret.

:func:`install_log_redaction` applies :func:`redact` to every log record of the process (ours,
dlt's, requests'), whatever logger or handler it passes through.
"""

from __future__ import annotations

import logging
import re
import threading
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
_SECRET_PARAM = re.compile(
    # "sig" and "code" only as words of the name: not "assignee_id", "design", "encode".
    r"(token|secret|password|passwd|assertion|signature|(?<![a-z])(?:sig|code)(?![a-z])|api[_-]?key|apikey|session)",
    re.IGNORECASE,
)
# Secrets shorter than this are not redacted by value: masking "a" everywhere would garble text.
_MIN_SECRET_LENGTH = 4
_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None


def register_secret(value: str | None) -> None:
    """Remember ``value`` so that :func:`redact` masks it from now on."""
    global _pattern
    if not value or len(value) < _MIN_SECRET_LENGTH:
        return
    with _lock:
        if value in _secrets:
            return
        _secrets.add(value)
        ordered = sorted(_secrets, key=len, reverse=True)
        _pattern = re.compile("|".join(re.escape(s) for s in ordered))


def redact(text: str) -> str:
    """Mask registered secrets, URL user-info and secret-looking query parameters in ``text``."""
    if not text:
        return text
    pattern = _pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    # user:password@ in URLs
    text = re.sub(r"(?<=://)[^/@\s:]+:[^/@\s]*@", f"{MASK}:{MASK}@", text)
    # ?token=... / &client_secret=...
    return re.sub(
        r"([?&][A-Za-z0-9_.\-\[\]]*?"
        r"(?:token|secret|password|passwd|assertion|signature|api_key|apikey)"
        r"[A-Za-z0-9_.\-\[\]]*=)[^&\s#\"']+",
        rf"\1{MASK}",
        text,
        flags=re.IGNORECASE,
    )


def redact_url(url: str) -> str:
    """A URL safe to print: no user-info, secret query values masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = urlencode(
        [(k, MASK if _SECRET_PARAM.search(k) else v) for k, v in parse_qsl(parts.query, True)],
        safe="*[]",  # the mask and page[size] stay readable, not %2A%2A%2A and page%5Bsize%5D
    )
    return redact(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the fully formatted message of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed log call must not break the run
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_factory_installed = False


def install_log_redaction() -> None:
    """Redact every log record of the process, whichever logger or handler it goes through.

    A filter on a logger sees only records logged on that very logger (not its children), and a
    filter on a handler misses handlers added later; the record factory sees every record once,
    as it is created (after the level check, so disabled debug calls cost nothing).
    """
    global _factory_installed
    with _lock:
        if _factory_installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: object, **kwargs: object) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            RedactingFilter().filter(record)
            return record

        logging.setLogRecordFactory(factory)
        _factory_installed = True
