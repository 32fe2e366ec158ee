"""The progress display while a sync runs, and the summary table at its end."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import TextIO

from connectors.chunks import READ_AGAIN
from connectors.stats import STATS, StatsRegistry
from warehouse.runlog import TableResult


class Progress:
    """Prints what each source has fetched so far: one updating line on a terminal, a line every
    ``interval`` seconds otherwise (cron mail and CI logs stay short)."""

    def __init__(
        self, stream: TextIO | None = None, stats: StatsRegistry = STATS, interval: float | None = None
    ) -> None:
        self.stream = stream or sys.stderr
        self.stats = stats
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = interval if interval is not None else (0.5 if self.tty else 30.0)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0 = time.monotonic()
        self._last = ""

    def line(self) -> str:
        """Every source (they run in parallel), its totals first, then its streams:
        ``zendesk 3,000r/5q: tickets 2,000r/3q users 1,000r/2q | salesforce …``."""
        snap = self.stats.snapshot()
        if not snap:
            return "starting…"
        by_source: dict[str, list[str]] = {}
        totals: dict[str, list[int]] = {}
        for (source, endpoint), s in sorted(snap.items()):
            if s.requests == 0 and s.records == 0:
                continue  # e.g. a table only skipped or warned about
            retry = f" {s.retries}↻" if s.retries else ""
            by_source.setdefault(source, []).append(f"{endpoint} {s.records:,}r/{s.requests}q{retry}")
            total = totals.setdefault(source, [0, 0])
            total[0] += s.records
            total[1] += s.requests
        parts = [
            f"{source} {totals[source][0]:,}r/{totals[source][1]}q: {' '.join(streams)}"
            for source, streams in by_source.items()
        ]
        return f"[{time.monotonic() - self._t0:5.0f}s] " + "  |  ".join(parts)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            text = self.line()
            if self.tty:
                width = 160
                self.stream.write("\r" + text[:width].ljust(min(width, len(self._last))))
            elif text != self._last:
                self.stream.write(text + "\n")
            self._last = text
            self.stream.flush()

    def __enter__(self) -> Progress:
        self._thread = threading.Thread(target=self._run, name="supportlake-progress", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=2)
        if self.tty and self._last:
            self.stream.write("\r" + " " * min(160, len(self._last)) + "\r")
            self.stream.flush()


def summary_table(results: Sequence[TableResult]) -> str:
    header = ("table", "status", "rows", "requests", "retries", "429s", "rejected", "request s")
    rows = [
        (
            f"{r.source}.{r.table_name}",
            r.status,
            f"{r.rows:,}",
            str(r.requests),
            str(r.retries),
            str(r.rate_limited),
            str(r.rejected),
            f"{r.seconds:.1f}",
        )
        for r in results
    ]
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(header)]
    out = ["  ".join(h.ljust(w) if i < 2 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths, strict=True)))]
    out.append("  ".join("-" * w for w in widths))
    for row in rows:
        out.append(
            "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        )
    # One line per source and reason, naming the tables it concerns. Failures are not repeated
    # here: the caller reports each cause once (the CLI on stderr, see failure_causes).
    notes = _grouped(results, lambda r: r.error if r.status != "failed" else None, "")
    notes += _grouped(results, lambda r: r.warning if r.status != "failed" else None, "warning: ")
    notes += [f"  {note}" for note in resume_notes(results)]
    if notes:
        out.append("")
        out.extend(notes)
    return "\n".join(out)


def _grouped(results: Sequence[TableResult], text: Callable[[TableResult], str | None], prefix: str) -> list[str]:
    """``  zendesk.tickets, zendesk.users: <text>`` — one line per source and distinct text."""
    tables: dict[tuple[str, str], list[str]] = {}
    for r in results:
        t = text(r)
        if t:
            tables.setdefault((r.source, t), []).append(f"{r.source}.{r.table_name}")
    return [f"  {', '.join(names)}: {prefix}{t}" for (_, t), names in tables.items()]


def failure_causes(results: Sequence[TableResult]) -> list[tuple[str, str]]:
    """(source, cause) of the failed tables, each cause once per source: a source whose every
    table failed for one reason (a refused login) says it once, not once per table."""
    seen: dict[tuple[str, str], None] = {}
    for r in results:
        if r.status == "failed":
            seen.setdefault((r.source, r.error or "failed (no reason recorded)"), None)
    return list(seen)


def resume_notes(results: Sequence[TableResult]) -> list[str]:
    """What the next run redoes for each table that did not finish: it resumes after the rows
    committed (their cursors were committed with them)."""
    notes = []
    for r in results:
        if r.status not in ("failed", "interrupted", "stopped") or (r.error and READ_AGAIN in r.error):
            continue  # finished, or its error says what the next run redoes
        if r.rows:
            notes.append(f"{r.source}.{r.table_name}: {r.rows:,} rows committed; the next run resumes after them")
        else:
            notes.append(f"{r.source}.{r.table_name}: nothing committed; the next run resumes from its last cursor")
    return notes
