"""Run a simulator as a process: ``python -m simulators zendesk --port 8123 --tickets 100000``
(or ``salesforce``, or ``confluence --without-scope read:label``).

The first line on stdout is the base URL (flushed), so a benchmark or a demo can start the
simulator as a subprocess and read where it listens. It serves until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

from simulators.shared import HttpSimulator

log = logging.getLogger("simulators")


def _common(parser: argparse.ArgumentParser, port: int) -> None:
    """The switches every simulator takes."""
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=port, help=f"0 picks a free port (default {port})")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--error-rate", type=float, default=0.0, help="share of requests failed with a 5xx")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every answer")
    parser.add_argument("--log-level", default="WARNING")


def _parser(prog: str = "python -m simulators") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    systems = parser.add_subparsers(dest="system", required=True)
    zd = systems.add_parser("zendesk", help="the Zendesk Support API (and Talk's incremental calls export)")
    _common(zd, 8123)
    zd.add_argument("--tickets", type=int, default=2000, help="number of tickets (default 2000)")
    zd.add_argument("--export-rpm", type=int, default=10, help="incremental export requests a minute (default 10)")
    zd.add_argument("--account-rpm", type=int, default=700, help="requests a minute for the account (default 700)")
    zd.add_argument("--rate-window", type=float, default=60.0, help="rate-limit window in seconds (default 60)")
    zd.add_argument("--email", default="admin@example.com")
    zd.add_argument("--token", default="sim-token", help="API token")
    zd.add_argument("--oauth-token", default="sim-oauth-token")
    zd.add_argument("--disable", action="append", default=[], choices=["talk", "slas", "csat"])
    zd.add_argument(
        "--time-exports",
        default="whole_seconds",
        choices=["whole_seconds", "faithful"],
        help="time-based export pages: never split a second (default), or as documented (at most a page)",
    )
    zd.add_argument("--crowd", type=int, default=0, help="create the first N tickets in the same second")
    sf = systems.add_parser("salesforce", help="Salesforce: OAuth, REST (SOQL, describe, deleted) and Bulk API 2.0")
    _common(sf, 8124)
    sf.add_argument("--cases", type=int, default=3000, help="number of cases (default 3000)")
    sf.add_argument("--daily-limit", type=int, default=100_000, help="API requests a day (default 100000)")
    sf.add_argument("--api-version", default="v62.0")
    sf.add_argument("--client-id", default="sim-client-id")
    sf.add_argument("--client-secret", default="sim-client-secret")
    sf.add_argument("--username", default="integration@supportlake-demo.com")
    sf.add_argument("--password", default="sim-password")
    sf.add_argument("--security-token", default="SIMTOKEN")
    sf.add_argument("--refresh-token", default="sim-refresh-token")
    sf.add_argument("--jwt-public-key", default=None, help="PEM file of the public key JWT bearer assertions use")
    cf = systems.add_parser("confluence", help="Confluence Cloud: REST API v2 (and v1 CQL search)")
    _common(cf, 8125)
    cf.add_argument("--pages", type=int, default=600, help="generated pages on top of the world's articles")
    cf.add_argument("--blogposts", type=int, default=30)
    cf.add_argument("--email", default="sync-bot@supportlake-demo.com")
    cf.add_argument("--token", default="confluence-sim-token", help="the API token of --email (Basic auth)")
    cf.add_argument("--oauth-token", default="confluence-sim-oauth", help="the Bearer token")
    cf.add_argument("--rate-limit", type=int, default=None, help="requests per --rate-window (default: no limit)")
    cf.add_argument("--rate-window", type=float, default=60.0)
    cf.add_argument(
        "--without-scope",
        action="append",
        default=[],
        metavar="SCOPE",
        help="a scope the token lacks, e.g. read:label (repeatable): its endpoints answer 401",
    )
    return parser


def _run_confluence(args: argparse.Namespace) -> int:
    from simulators.confluence import ConfluenceSimulator

    sim = ConfluenceSimulator(
        seed=args.seed,
        n_extra_pages=args.pages,
        n_blogposts=args.blogposts,
        email=args.email,
        api_token=args.token,
        oauth_token=args.oauth_token,
        rate_limit=args.rate_limit,
        rate_window=args.rate_window,
        error_rate=args.error_rate,
        latency_ms=args.latency_ms,
        without_scopes=args.without_scope,
    )
    return _serve(sim, args, "Confluence")


def _stop_event() -> threading.Event:
    """An event set by SIGTERM or SIGINT."""
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    return stop


def _run_salesforce(args: argparse.Namespace) -> int:
    from simulators.salesforce import SalesforceSimulator

    public_key = None
    if args.jwt_public_key:
        with open(args.jwt_public_key, encoding="utf-8") as fh:
            public_key = fh.read()
    sim = SalesforceSimulator(
        seed=args.seed,
        n_cases=args.cases,
        daily_limit=args.daily_limit,
        api_version=args.api_version,
        client_id=args.client_id,
        client_secret=args.client_secret,
        username=args.username,
        password=args.password,
        security_token=args.security_token,
        refresh_token=args.refresh_token,
        jwt_public_key_pem=public_key,
        error_rate=args.error_rate,
        latency_ms=args.latency_ms,
    )
    return _serve(sim, args, f"{sim.n_cases} cases")


Announce = Callable[[HttpSimulator, str], None]


def _serve(sim: HttpSimulator, args: argparse.Namespace, what: str) -> int:
    """Serve until SIGTERM or SIGINT, printing the base URL as the first line of stdout (then
    whatever ``args.announce`` prints)."""
    announce: Announce | None = getattr(args, "announce", None)
    stop = _stop_event()
    base_url = sim.start(port=args.port, host=args.host)
    print(base_url, flush=True)  # the one line a parent process reads
    if announce is not None:
        announce(sim, base_url)  # e.g. `supportlake simulate`: the settings to export
    log.info("serving %s at %s", what, base_url)
    while not stop.wait(0.5):
        pass
    sim.stop()
    return 0


def main(argv: list[str] | None = None, *, prog: str = "python -m simulators", announce: Announce | None = None) -> int:
    """``announce(simulator, base_url)`` runs once the simulator listens (after the URL line)."""
    args = _parser(prog).parse_args(argv)
    args.announce = announce
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    if args.system == "salesforce":
        return _run_salesforce(args)
    if args.system == "confluence":
        return _run_confluence(args)
    from simulators.zendesk import ZendeskSimulator

    sim = ZendeskSimulator(
        seed=args.seed,
        n_tickets=args.tickets,
        email=args.email,
        api_token=args.token,
        oauth_token=args.oauth_token,
        export_rpm=args.export_rpm,
        account_rpm=args.account_rpm,
        rate_window_seconds=args.rate_window,
        error_rate=args.error_rate,
        latency_ms=args.latency_ms,
        disabled=args.disable,
        time_exports=args.time_exports,
        crowd=args.crowd,
    )
    return _serve(sim, args, f"{sim.n_tickets} tickets")


if __name__ == "__main__":
    sys.exit(main())
