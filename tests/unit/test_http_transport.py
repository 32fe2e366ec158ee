"""Transport rules of the one HTTP client: a certificate that fails verification fails at once
(no retries), a plain ``http://`` base URL is refused except on loopback or when a setting allows
it, and a DuckDB destination named like its dataset is refused before any request."""

from __future__ import annotations

import datetime as dt
import gzip
import http.server
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dlt
import pytest
import requests
import responses

from common.errors import ConfigError, FatalAPIError
from connectors.http import HttpClient, RetryPolicy, parse_base_url, require_secure_base_url
from connectors.stats import StatsRegistry
from tests.unit.conftest import FakeClock

BASE = "https://acme.zendesk.com"

# -- TLS -----------------------------------------------------------------------------------------


def _self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


def _answer(handler: http.server.BaseHTTPRequestHandler, body: bytes, headers: dict[str, str] | None = None) -> None:
    """A 200 JSON answer with its Content-Length."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@contextmanager
def _serving(server: http.server.ThreadingHTTPServer) -> Iterator[int]:
    """``server`` answering on a thread while the block runs; yields its port."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


class _Handler(http.server.BaseHTTPRequestHandler):
    requests_seen = 0

    def do_GET(self) -> None:
        type(self).requests_seen += 1
        _answer(self, b'{"ok": true}')

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[str]:
    """An HTTPS server on 127.0.0.1 with a self-signed certificate (not trusted by anyone)."""
    cert, key = _self_signed(tmp_path)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    with _serving(server) as port:
        yield f"https://127.0.0.1:{port}"


def test_a_certificate_that_fails_verification_fails_at_once(tls_server: str, clock: FakeClock) -> None:
    stats = StatsRegistry()
    client = HttpClient(
        tls_server, name="zendesk", policy=RetryPolicy(jitter=0.0), stats=stats, sleep=clock.sleep, clock=clock
    )
    with pytest.raises(FatalAPIError) as info:
        client.get_json("/api/v2/tickets.json", endpoint="tickets")
    message = str(info.value)
    assert "TLS certificate of 127.0.0.1 failed verification" in message
    assert "self-signed certificate" in message
    assert "REQUESTS_CA_BUNDLE" in message
    assert clock.slept == [], "a certificate error is not retried"
    assert stats.get("zendesk", "tickets").retries == 0
    assert stats.get("zendesk", "tickets").requests == 1


def test_a_handshake_cut_off_is_still_retried(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    """Only verification failures are permanent: an SSL error the network causes is retried."""
    url = "https://acme.zendesk.com/api/v2/tickets.json"
    rsps.get(url, body=requests.exceptions.SSLError("EOF occurred in violation of protocol (_ssl.c:2427)"))
    rsps.get(url, json={"tickets": []})
    client = HttpClient(
        "https://acme.zendesk.com", name="zendesk", stats=StatsRegistry(), sleep=clock.sleep, clock=clock
    )
    assert client.get_json("/api/v2/tickets.json", endpoint="tickets").data == {"tickets": []}
    assert len(clock.slept) == 1


def test_a_verification_failure_from_responses_is_not_retried(rsps: responses.RequestsMock, clock: FakeClock) -> None:
    url = "https://acme.zendesk.com/api/v2/tickets.json"
    rsps.get(
        url,
        body=requests.exceptions.SSLError(
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired (_ssl.c:1006)"
        ),
    )
    client = HttpClient(
        "https://acme.zendesk.com", name="zendesk", stats=StatsRegistry(), sleep=clock.sleep, clock=clock
    )
    with pytest.raises(FatalAPIError, match="certificate has expired"):
        client.get_json("/api/v2/tickets.json", endpoint="tickets")
    assert len(rsps.calls) == 1
    assert clock.slept == []


# -- http:// -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8123", "http://127.8.9.10", "http://[::1]:8124", "http://localhost:8125/wiki"]
)
def test_plain_http_is_accepted_on_loopback(url: str) -> None:
    require_secure_base_url(url, "zendesk")
    HttpClient(url, name="zendesk")


def test_https_is_accepted_anywhere() -> None:
    require_secure_base_url("https://acme.zendesk.com", "zendesk")


@pytest.mark.parametrize("url", ["http://acme.zendesk.com", "http://10.0.0.5:8080", "HTTP://proxy.internal"])
def test_plain_http_elsewhere_is_refused_naming_the_setting(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        HttpClient(url, name="confluence")
    assert "SOURCES__CONFLUENCE__ALLOW_INSECURE_HTTP=true" in str(info.value)
    assert "unencrypted" in str(info.value)


def test_plain_http_elsewhere_is_allowed_when_the_setting_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__ZENDESK__ALLOW_INSECURE_HTTP", "true")
    HttpClient("http://zendesk-proxy.internal:8080", name="zendesk")
    with pytest.raises(ConfigError):  # the setting is per source
        HttpClient("http://zendesk-proxy.internal:8080", name="salesforce")


# -- base URLs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (" https://acme.zendesk.com/ ", "https://acme.zendesk.com"),
        ("http://127.0.0.1:8123/wiki/", "http://127.0.0.1:8123/wiki"),
        ("https://api.atlassian.com/ex/confluence/abc?x=1#top", "https://api.atlassian.com/ex/confluence/abc"),
        ("https://wiki", "https://wiki"),
    ],
)
def test_a_base_url_is_normalised(value: str, expected: str) -> None:
    assert parse_base_url(value, "SOURCES__X__BASE_URL", "a URL") == expected


@pytest.mark.parametrize("value", ["acme.zendesk.com", "ftp://acme.zendesk.com", "https://", "", "   "])
def test_a_base_url_without_scheme_or_host_names_the_setting_and_what_is_expected(value: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_base_url(value, "SOURCES__X__BASE_URL", "a URL such as https://x.example")
    assert str(info.value) == f"SOURCES__X__BASE_URL must be a URL such as https://x.example, got {value!r}"


# -- DuckDB named like the dataset ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("pipeline_name", "destination", "refused"),
    [
        ("zendesk", "duckdb", True),  # dlt's default file: zendesk.duckdb
        ("support_raw", "duckdb:zendesk.duckdb", True),
        ("support_raw", "duckdb:support_raw.duckdb", False),
        ("zendesk", "duckdb:support_raw.duckdb", False),
    ],
)
def test_a_duckdb_file_named_like_its_dataset_is_refused_before_any_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pipeline_name: str, destination: str, refused: bool
) -> None:
    monkeypatch.chdir(tmp_path)
    if destination == "duckdb":
        dest = dlt.destinations.duckdb()
    else:
        dest = dlt.destinations.duckdb(str(tmp_path / destination.split(":", 1)[1]))
    pipeline = dlt.pipeline(
        pipeline_name, destination=dest, dataset_name="zendesk", pipelines_dir=str(tmp_path / "pipelines")
    )
    calls: list[str] = []

    @dlt.resource(name="tickets")
    def tickets() -> Iterator[dict[str, int]]:
        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            rsps.get("https://acme.zendesk.com/api/v2/tickets.json", json={"tickets": [{"id": 1}]})
            client = HttpClient("https://acme.zendesk.com", name="zendesk", stats=StatsRegistry())
            yield from client.get_json("/api/v2/tickets.json", endpoint="tickets").data["tickets"]
            calls.extend(c.request.url or "" for c in rsps.calls)

    if refused:
        with pytest.raises(Exception, match="Ambiguous reference to catalog or schema") as info:
            pipeline.run(tickets())
        assert "named like the dataset 'zendesk'" in str(info.value)
        assert calls == []
    else:
        pipeline.run(tickets())
        assert len(calls) == 1


# -- bodies on a real socket (the client reads each body in one piece) ---------------------------


class _Scripted(http.server.BaseHTTPRequestHandler):
    """Answers GETs from a script: ``cut`` (a body shorter than its Content-Length, then the
    connection closed), ``chunked``, ``gzip`` or ``ok``; counts requests and connections."""

    protocol_version = "HTTP/1.1"  # keep-alive, so a reused connection can be seen
    script: list[str] = []
    connections = 0
    body = b'{"tickets": [{"id": 1}, {"id": 2}]}'

    def setup(self) -> None:
        super().setup()
        type(self).connections += 1

    def do_GET(self) -> None:
        step = type(self).script.pop(0) if type(self).script else "ok"
        if step == "gzip":
            _answer(self, gzip.compress(self.body), {"Content-Encoding": "gzip"})
        elif step == "ok":
            _answer(self, self.body)
        elif step == "cut":
            self.send_response(200)
            self.send_header("Content-Length", str(len(self.body) + 100))
            self.end_headers()
            self.wfile.write(self.body[:10])
            self.close_connection = True
        else:  # chunked
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for piece in (self.body[:7], self.body[7:]):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def plain_server() -> Iterator[str]:
    _Scripted.script, _Scripted.connections = [], 0
    with _serving(http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Scripted)) as port:
        yield f"http://127.0.0.1:{port}"


def test_a_body_cut_off_on_the_socket_is_retried_and_the_next_one_read_whole(
    plain_server: str, clock: FakeClock
) -> None:
    _Scripted.script = ["cut"]
    client = HttpClient(
        plain_server,
        name="zendesk",
        stats=StatsRegistry(),
        policy=RetryPolicy(jitter=0.0),
        sleep=clock.sleep,
        clock=clock,
    )
    result = client.get_json("/api/v2/tickets.json", endpoint="tickets")
    assert result.data == {"tickets": [{"id": 1}, {"id": 2}]}
    assert client.stats.get("zendesk", "tickets").retries == 1
    assert result.response.content == _Scripted.body  # still readable from the response


@pytest.mark.parametrize("steps", [["ok", "ok", "ok"], ["chunked", "gzip", "ok"]])
def test_whole_bodies_hand_their_connection_back_for_the_next_request(
    plain_server: str, clock: FakeClock, steps: list[str]
) -> None:
    _Scripted.script = list(steps)
    client = HttpClient(plain_server, name="zendesk", stats=StatsRegistry(), sleep=clock.sleep, clock=clock)
    for _ in steps:
        assert client.get_json("/api/v2/tickets.json", endpoint="tickets").data == {"tickets": [{"id": 1}, {"id": 2}]}
    assert _Scripted.connections == 1
    assert client.stats.get("zendesk", "tickets").retries == 0
