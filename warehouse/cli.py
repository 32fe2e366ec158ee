"""The ``supportlake`` command.

Exit codes, the same for every command (README "Exit codes"):

- 0 success;
- 1 a source or the build failed (the summary and ``supportlake.supportlake_runs`` say which
  table and why), or ``check`` found a primary object unreadable;
- 2 configuration: bad usage, missing or malformed settings, credentials refused, and every
  warehouse problem the user must fix (no such database or role, nothing listening, a bad URL
  port or DuckDB setting, the PostgreSQL driver not installed);
- 3 partial: the run finished but data is incomplete, not lost: records held in
  ``supportlake.rejected_records``, or a one-second page the API could not page through;
- 75 the warehouse is busy (EX_TEMPFAIL: try again later): another run holds it, this run
  lost its lock, or another process has the DuckDB file open;
- 130 interrupted (Ctrl-C or SIGTERM): the run log's rows say ``interrupted``.
"""

from __future__ import annotations

import argparse
import encodings
import logging
import os
import shlex
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import Any, TextIO

from common.errors import ConfigError
from common.secrets import install_log_redaction, redact
from connectors import registry
from schemas.inputs import KINDS as INPUT_KINDS
from warehouse.lock import EXIT_LOCKED, WarehouseBusy
from warehouse.progress import Progress, failure_causes, summary_table
from warehouse.target import DEFAULT_WAREHOUSE, ENV_WAREHOUSE, parse_target

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a Ctrl-C'd command


def _titles() -> str:
    titles = [s.title for s in registry.specs()]
    return ", ".join(titles[:-1]) + f" and {titles[-1]}" if len(titles) > 1 else "".join(titles)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="supportlake",
        description=f"Sync {_titles()} into a warehouse and build KPI tables.",
    )
    p.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv: debug)")
    sub = p.add_subparsers(dest="command", required=True)

    wh_help = (
        "duckdb:///file.duckdb, postgresql://user[:password]@host:port/db or spark:local[*] "
        f"(env {ENV_WAREHOUSE}; default {DEFAULT_WAREHOUSE})"
    )

    s = sub.add_parser("sync", help="extract new and changed records and load them")
    s.add_argument(
        "--source",
        action="append",
        choices=registry.names(),
        help="a system to sync (repeatable; default: every configured one)",
    )
    s.add_argument("--resource", action="append", help="a resource or table to sync (repeatable; default: all)")
    s.add_argument("--warehouse", help=wh_help)
    s.add_argument("--full-refresh", action="store_true", help="forget cursors, drop and reload the selected tables")

    c = sub.add_parser("check", help="probe the credentials and every endpoint a sync uses, one cheap request each")
    c.add_argument(
        "--source",
        action="append",
        choices=registry.names(),
        help="a system to check (repeatable; default: every configured one)",
    )

    b = sub.add_parser("build", help="run the SQL models (transforms/models) inside the warehouse")
    b.add_argument("--warehouse", help=wh_help)
    b.add_argument("--select", action="append", help="a model, schema.model, a layer, or name+ (repeatable)")
    b.add_argument(
        "--config",
        help="settings file: KPI targets, thresholds, fields (default $SUPPORTLAKE_CONFIG or ./supportlake.toml)",
    )

    x = sub.add_parser("export-hyper", help="write the mart tables as Tableau .hyper extracts (supportlake[tableau])")
    x.add_argument("--out", required=True, help="folder for <table>.hyper (created if missing; replaced atomically)")
    x.add_argument("--warehouse", help=wh_help)
    x.add_argument("--schema", default="marts", help="the schema whose tables to export (default marts)")

    li = sub.add_parser(
        "load-input",
        help="load a CSV file of data no API carries (NPS, support cost, account overrides) into schema inputs",
    )
    li.add_argument("kind", choices=list(INPUT_KINDS), help="what the file holds")
    li.add_argument("file", help="the CSV file (UTF-8, comma-separated, a header line)")
    li.add_argument("--warehouse", help=wh_help)
    li.add_argument("--replace", action="store_true", help="replace the whole table (default: upsert by key)")

    d = sub.add_parser("demo", help="sync the built-in simulators into a local DuckDB, offline")
    d.add_argument("--warehouse", default=None, help="default duckdb:///supportlake_demo.duckdb")
    d.add_argument("--tickets", type=int, default=5000, help="simulated tickets (default 5000)")
    d.add_argument("--seed", type=int, default=7)
    d.add_argument(
        "--extracts", default="supportlake_demo_extracts", help="folder for the Tableau extracts ('' for none)"
    )

    k = sub.add_parser(
        "kpis",
        help="print one month's KPIs against their targets (default: the month with most tickets from both systems)",
    )
    k.add_argument("--warehouse", help=wh_help)
    k.add_argument("--month", help="YYYY-MM")

    sims = [spec.name for spec in registry.specs() if spec.simulator is not None]
    sm = sub.add_parser(
        "simulate",
        help="serve a built-in simulator of a source's API and print the settings that point supportlake at it",
        description="Runs `python -m simulators SYSTEM OPTIONS…` and prints the base URL (first line) and the "
        "environment variables to export; serves until Ctrl-C. `supportlake simulate zendesk --help` lists the "
        "options (--port, --tickets, --cases, --disable, …).",
    )
    sm.add_argument("system", choices=sims, help="which API to simulate")
    sm.add_argument("options", nargs=argparse.REMAINDER, help="the simulator's options (--port N, --tickets N, …)")
    return p


TELEMETRY_OPT_IN = "SUPPORTLAKE_DLT_TELEMETRY"
"""``true`` lets dlt send its anonymous usage telemetry during supportlake's runs (off by default)."""


def quiet_dlt_telemetry() -> None:
    """Turn dlt's anonymous telemetry off for supportlake's own runs, unless the user asked for
    it: ``SUPPORTLAKE_DLT_TELEMETRY=true``, or dlt's own ``RUNTIME__DLTHUB_TELEMETRY`` set in
    the environment (either value is respected). The demo is meant to run offline, and a cron
    job should not call home without being told to."""
    if "RUNTIME__DLTHUB_TELEMETRY" in os.environ:
        return
    wanted = os.environ.get(TELEMETRY_OPT_IN, "").strip().lower() in ("1", "true", "yes", "on")
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "true" if wanted else "false"


def stop_at_once_on_signals() -> None:
    """Ctrl-C and SIGTERM stop a run at once, in every step. dlt otherwise intercepts both while
    it normalizes and loads, finishes the step and forgets the signal, so the run went on (exit 0).
    A load cut short is completed by the next run, as after ``kill -9``. A
    ``RUNTIME__INTERCEPT_SIGNALS`` set in the environment is respected."""
    os.environ.setdefault("RUNTIME__INTERCEPT_SIGNALS", "false")


def main(argv: Sequence[str] | None = None) -> int:
    quiet_dlt_telemetry()
    stop_at_once_on_signals()
    _received.clear()
    with _quiet_broken_pipes(), _sigterm_interrupts():
        try:
            return _main(argv)
        except KeyboardInterrupt:
            what = _received.get("signal") or "Ctrl-C"
            # A sync has marked its unfinished tables 'interrupted' in the run log by now.
            print(f"supportlake: interrupted ({what}); the next run continues from what was committed", file=sys.stderr)
            return EXIT_INTERRUPTED


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    install_log_redaction()
    try:
        if args.command == "sync":
            return cmd_sync(args)
        if args.command == "check":
            return cmd_check(args)
        if args.command == "build":
            return cmd_build(args)
        if args.command == "export-hyper":
            from warehouse.hyper import cmd_export_hyper

            return cmd_export_hyper(args.warehouse, args.out, args.schema)
        if args.command == "load-input":
            from warehouse.inputs import cmd_load_input

            return cmd_load_input(args)
        if args.command == "demo":
            from warehouse.demo import run_demo

            return run_demo(args.warehouse, tickets=args.tickets, seed=args.seed, extracts=args.extracts or None)
        if args.command == "kpis":
            return cmd_kpis(args)
        if args.command == "simulate":
            return cmd_simulate(args)
    except WarehouseBusy as exc:  # another run, a reader, a lost lock, a busy file: try later
        print(f"supportlake: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except ConfigError as exc:
        print(f"supportlake: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_USAGE


_received: dict[str, str] = {}


_CODECS = os.path.dirname(encodings.__file__)
"""Python's codecs: C code calls them, and may drop what they raise (see :func:`_sigterm_interrupts`)."""

RESEND_SECONDS = 0.05
"""How soon a signal that landed in a codec is sent again."""


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM (``kill``, systemd, a container stop) ends a run like Ctrl-C: KeyboardInterrupt
    unwinds it, the run log says ``interrupted`` and the exit code is 130. Only in the main thread
    (signal handlers can only be set there); the previous handlers are restored afterwards.

    Neither signal may be lost. Python runs a signal's handler at the next Python code the main
    thread runs; after a PostgreSQL statement that waited for a lock, that is the codec psycopg2
    calls to decode the answer, and psycopg2 drops the KeyboardInterrupt raised there: the run
    went on and ended ``ok``, exit 0. A signal that lands in a codec is therefore sent again a
    moment later, when the main thread is back in the run's own code."""

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _interrupt(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if signum == signal.SIGTERM:
            _received["signal"] = name
        if frame is not None and frame.f_code.co_filename.startswith(_CODECS):
            resend = threading.Timer(RESEND_SECONDS, _resend, (signum, armed))
            resend.daemon = True
            resend.start()
            return
        raise KeyboardInterrupt(name) if signum == signal.SIGTERM else KeyboardInterrupt

    # Ctrl-C only where Python's own handler is on: a run started with SIGINT ignored (``nohup``,
    # a background job of a script) keeps ignoring it.
    ours = [signal.SIGTERM] + ([signal.SIGINT] if signal.getsignal(signal.SIGINT) is signal.default_int_handler else [])
    armed = threading.Event()  # our handlers are on: a signal sent again reaches them
    armed.set()
    previous = {sig: signal.signal(sig, _interrupt) for sig in ours}
    try:
        yield
    finally:
        armed.clear()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _resend(signum: int, armed: threading.Event) -> None:
    """Send ``signum`` to this process again, unless the command has ended meanwhile (the default
    handler back in place would then kill a run that finished, or print a stray traceback)."""
    if armed.is_set():
        os.kill(os.getpid(), signum)


class _PipeSafe:
    """A text stream that goes quiet when its reader leaves (``supportlake kpis | head``): the
    first BrokenPipeError points the file descriptor at /dev/null, so neither this write nor the
    interpreter's final flush prints a traceback, and the command still returns its own exit
    code."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.broken = False

    def write(self, text: str) -> int:
        if not self.broken:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._silence()
        return len(text)

    def flush(self) -> None:
        if not self.broken:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._silence()

    def _silence(self) -> None:
        self.broken = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError):  # no real file descriptor: later writes are dropped anyway
            pass

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, encoding, …
        return getattr(self._stream, name)


@contextmanager
def _quiet_broken_pipes() -> Iterator[None]:
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _PipeSafe(out), _PipeSafe(err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err


def cmd_check(args: argparse.Namespace) -> int:
    from warehouse.check import run_check

    sources = args.source or registry.configured()
    if not sources:
        raise ConfigError(registry.not_configured_message())
    return run_check(sources)


def cmd_build(args: argparse.Namespace) -> int:
    from transforms.graph import TransformError
    from transforms.runner import build, summary
    from transforms.settings import load_settings

    target = parse_target(args.warehouse)
    settings = load_settings(args.config)
    print(f"supportlake build → {target.display}", file=sys.stderr)
    try:
        results = build(target, select=args.select, settings=settings, on_result=lambda r: print(*summary([r])))
    except TransformError as exc:
        print(f"supportlake: build failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"\n{len(results)} model(s) built")
    return EXIT_OK


def cmd_kpis(args: argparse.Namespace) -> int:
    import datetime as dt

    from warehouse.report import kpi_report

    month = None
    if args.month:
        try:
            month = dt.datetime.strptime(args.month, "%Y-%m").date()
        except ValueError:
            raise ConfigError(f"--month {args.month!r}: write YYYY-MM, e.g. 2024-03") from None
    print(kpi_report(parse_target(args.warehouse), month))
    return EXIT_OK


def cmd_sync(args: argparse.Namespace) -> int:
    from warehouse.sync import SyncInterrupted, sync

    target = parse_target(args.warehouse)
    sources = args.source or registry.configured()
    if not sources:
        raise ConfigError(registry.not_configured_message())
    print(f"supportlake sync → {target.display}", file=sys.stderr)
    try:
        with Progress():
            result = sync(target, sources, args.resource, full_refresh=args.full_refresh)
    except SyncInterrupted as stop:  # what was read is committed: say what, then exit 130
        print(summary_table(stop.result.tables))
        raise
    print(summary_table(result.tables))
    verdict = "FAILED" if not result.ok else "PARTIAL" if result.partial else "ok"
    print(f"\nrun {result.run_id}: {verdict} in {result.seconds:.1f}s")
    if result.killed_before:
        print(f"(an earlier run had been killed; {result.killed_before} of its log rows are marked 'killed')")
    if not result.ok:
        for source, cause in failure_causes(result.tables):  # once per source and cause
            print(f"supportlake: {source} failed: {redact(cause)}", file=sys.stderr)
        failed_sources = {t.source for t in result.tables if t.status == "failed"}
        if failed_sources and failed_sources <= set(result.config_errors):
            return EXIT_USAGE
        if failed_sources and failed_sources <= set(result.busy):
            return EXIT_LOCKED  # what was committed stays; the next run goes on from there
        return EXIT_FAILED
    if result.partial:
        print("supportlake: sync partial: see the warnings above and supportlake.rejected_records", file=sys.stderr)
        return EXIT_PARTIAL
    return EXIT_OK


def cmd_simulate(args: argparse.Namespace) -> int:
    """``python -m simulators SYSTEM …`` that also prints what to export to sync against it."""
    from simulators.__main__ import main as simulators_main

    spec = registry.get(args.system)
    assert spec.simulator is not None

    def announce(simulator: Any, base_url: str) -> None:
        env = dict(spec.simulator.settings(simulator, base_url)) if spec.simulator else {}
        if hasattr(simulator, "export_rpm"):  # the demo lifts Zendesk's export limit; this simulator keeps it
            env = {k: str(simulator.export_rpm) if k.endswith("__EXPORT_RATE_LIMIT") else v for k, v in env.items()}
        print(f"# {spec.title} simulator at {base_url}; in another shell, point supportlake at it:")
        for key, value in env.items():
            print(f"export {key}={shlex.quote(value)}")
        print(f"# then: supportlake check --source {spec.name} && supportlake sync --source {spec.name}")
        print("# serving until Ctrl-C", flush=True)

    try:
        return simulators_main([args.system, *args.options], prog="supportlake simulate", announce=announce)
    except OSError as exc:  # e.g. the port is taken
        raise ConfigError(
            f"the {spec.title} simulator cannot listen: {exc}; choose --port N (0 picks a free one)"
        ) from None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
