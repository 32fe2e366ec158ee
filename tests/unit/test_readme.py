"""README blocks that a user copies: the crontab entry is what cron can read, and the library
example runs end to end (against the Zendesk simulator) as written."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import duckdb
import pytest

from simulators.zendesk import ZendeskSimulator

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
FIELDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))  # minute, hour, day of month, month, day of week


def _block(lang: str, after: str) -> str:
    start = README.index(after)
    found = re.search(rf"```{lang}\n(.*?)```", README[start:], re.S)
    assert found, f"no ```{lang} block after {after!r}"
    return found.group(1)


def _valid_field(text: str, low: int, high: int) -> bool:
    for part in text.split(","):
        value, _, step = part.partition("/")
        if step and not (step.isdigit() and int(step) > 0):
            return False
        if value == "*":
            continue
        first, _, last = value.partition("-")
        bounds = [first, last] if last else [first]
        if not all(b.isdigit() and low <= int(b) <= high for b in bounds):
            return False
    return True


def test_the_cron_block_is_what_cron_reads() -> None:
    """crontab(5): one entry per line (no continuations), five time fields, ``%`` is special, and
    ``NAME=value`` lines set variables; the command must be valid sh."""
    entries = 0
    for line in _block("cron", "### Schedule with cron").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        assert not line.rstrip().endswith("\\"), f"crontab has no line continuations: {line!r}"
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=\S.*", line):
            continue
        fields = line.split(None, 5)
        assert len(fields) == 6, f"an entry is five time fields and a command: {line!r}"
        for text, (low, high) in zip(fields[:5], FIELDS, strict=True):
            assert _valid_field(text, low, high), f"bad time field {text!r} in {line!r}"
        command = fields[5]
        assert "%" not in command, "cron turns % into a newline"
        subprocess.run(["sh", "-n", "-c", command], check=True)
        entries += 1
    assert entries == 1


def test_the_library_example_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code = _block("python", "### Use the sources in your own dlt pipeline")
    sim = ZendeskSimulator(seed=3, n_tickets=40, export_rpm=10_000)
    with sim.serve() as base_url:
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("SOURCES__ZENDESK__BASE_URL", base_url)
        monkeypatch.setenv("SOURCES__ZENDESK__CREDENTIALS__EMAIL", sim.email)
        monkeypatch.setenv("SOURCES__ZENDESK__CREDENTIALS__API_TOKEN", sim.api_token)
        monkeypatch.setenv("SOURCES__ZENDESK__EXPORT_RATE_LIMIT", "10000")
        monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt"))
        exec(compile(code, "README.md", "exec"), {})  # noqa: S102 - the README's own example
    files = list(tmp_path.glob("*.duckdb"))
    assert len(files) == 1, files
    with duckdb.connect(str(files[0]), read_only=True) as con:
        assert con.execute("select count(*) from zendesk.tickets").fetchone() == (40,)
