"""What the ``supportlake`` command prints: each cause once, quiet when its reader leaves
(``| head``), a progress line that counts what the summary counts, and ``simulate``."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from connectors import registry
from simulators.zendesk import ZendeskSimulator
from warehouse.progress import Progress
from warehouse.sync import sync
from warehouse.target import parse_target

ROOT = Path(__file__).resolve().parents[2]


def env_for(simulator: ZendeskSimulator, url: str, **extra: str) -> dict[str, str]:
    spec = registry.get("zendesk")
    assert spec.simulator is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOURCES__")}
    env.update(spec.simulator.settings(simulator, url))
    env.update(extra)
    return env


@pytest.fixture
def zendesk() -> Iterator[tuple[ZendeskSimulator, str]]:
    simulator = ZendeskSimulator(seed=4, n_tickets=300, export_rpm=1_000_000)
    with simulator.serve() as url:
        yield simulator, url


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "warehouse", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_wrong_token_is_reported_once(zendesk: tuple[ZendeskSimulator, str], tmp_path: Path) -> None:
    """It was printed 11 times (once per table) in the summary, and twice more on stderr."""
    simulator, url = zendesk
    env = env_for(simulator, url, SOURCES__ZENDESK__CREDENTIALS__API_TOKEN="FAKE-wrong-token-1234")
    proc = cli("sync", "--source", "zendesk", "--warehouse", f"duckdb:///{tmp_path / 'wh.duckdb'}", env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert out.count("incremental/tickets/cursor.json") == 1, out  # the failing request, named once
    assert proc.stderr.count("supportlake: zendesk failed:") == 1
    assert out.count("the API refused the credentials") == 1, out
    assert "FAKE-wrong-token-1234" not in out
    # every table still shows its status
    tables = {t for ts in registry.get("zendesk").tables().values() for t in ts}
    assert len(re.findall(r"^zendesk\.\S+\s+failed", proc.stdout, re.M)) == len(tables)


def _reader_leaves_at_once(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run the command with its stdout a pipe whose reader is already gone (``| head`` that has
    read its lines); the exit code and stderr."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "warehouse", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read()
    return proc.wait(timeout=300), err


def test_every_printing_command_ends_quietly_when_its_reader_leaves(
    zendesk: tuple[ZendeskSimulator, str], tmp_path: Path
) -> None:
    simulator, url = zendesk
    env = env_for(simulator, url)
    warehouse = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    commands = [
        ["--help"],
        ["check", "--source", "zendesk"],
        ["sync", "--source", "zendesk", "--warehouse", warehouse],
        ["build", "--warehouse", warehouse],
        ["kpis", "--warehouse", warehouse],
    ]
    for args in commands:
        code, err = _reader_leaves_at_once(args, env)
        assert "BrokenPipeError" not in err, (args, err)
        assert "Traceback" not in err, (args, err)
        assert code == 0, (args, err)


def test_the_progress_line_counts_the_rows_the_summary_counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows a stream writes to another table — Zendesk's metric sets with the tickets, Confluence's
    labels with the pages — were counted with the stream in the progress line (600 "tickets" for
    300 tickets) and as their own tables in the summary."""
    with ExitStack() as stack:
        for spec in registry.specs():
            assert spec.simulator is not None
            simulator = spec.simulator.create(7, 300)
            url = stack.enter_context(simulator.serve())
            for key, value in spec.simulator.settings(simulator, url).items():
                monkeypatch.setenv(key, value)
        result = sync(parse_target(f"duckdb:///{tmp_path / 'wh.duckdb'}"), ["zendesk", "salesforce", "confluence"])
    assert result.ok
    line = Progress(stream=io.StringIO()).line()
    # "[  3s] zendesk 1,234r/9q: tickets 300r/3q ticket_metrics 300r/0q ...  |  salesforce ...":
    # each source's totals, then its tables.
    progress = {}
    for group in line.split("] ", 1)[1].split("  |  "):
        source, tables = group.split(": ", 1)
        for name, rows in re.findall(r"(\S+) ([\d,]+)r/", tables):
            progress[f"{source.split()[0]}.{name}"] = int(rows.replace(",", ""))
    progress = {k: v for k, v in progress.items() if v}  # requests without rows: logins, describes
    summary = {f"{t.source}.{t.table_name}": t.rows for t in result.tables if t.rows}
    assert summary["zendesk.ticket_metrics"] == 300
    assert summary["confluence.labels"] > 0
    assert progress == summary


@pytest.mark.parametrize("system", ["zendesk", "salesforce", "confluence"])
def test_simulate_prints_what_to_export_and_a_check_passes_with_it(system: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOURCES__")}
    options = {"zendesk": ["--tickets", "50"], "salesforce": ["--cases", "50"], "confluence": ["--pages", "5"]}
    proc = subprocess.Popen(
        [sys.executable, "-m", "warehouse", "simulate", system, "--port", "0", *options[system]],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("# serving"):
                break
        assert lines[0].startswith("http://127.0.0.1:"), lines
        exports = dict(re.findall(r"^export (\w+)=(\S+)$", "\n".join(lines), re.M))
        assert exports[f"SOURCES__{system.upper()}__BASE_URL"] == lines[0]
        check = cli("check", "--source", system, env={**env, **exports})
        assert check.returncode == 0, check.stdout + check.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0


def test_simulate_on_a_taken_port_says_so() -> None:
    import socket

    env = {k: v for k, v in os.environ.items() if not k.startswith("SOURCES__")}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = cli("simulate", "zendesk", "--port", str(port), env=env)
    assert proc.returncode == 2, proc.stderr
    assert "cannot listen" in proc.stderr
    assert "--port N (0 picks a free one)" in proc.stderr
    assert "Traceback" not in proc.stderr
