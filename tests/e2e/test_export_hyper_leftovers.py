"""``export-hyper`` tidies after killed exports and writes extracts with the user's umask."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from warehouse.hyper import PARTIAL_MARK, WORK_PREFIX, export_hyper
from warehouse.sql import connection
from warehouse.target import parse_target

if os.environ.get("CI", "").lower() != "true":  # in CI the extra is installed, and its absence fails
    pytest.importorskip("tableauhyperapi")

ROOT = Path(__file__).resolve().parents[2]


def _warehouse(tmp_path: Path) -> str:
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    with connection(parse_target(url)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.a as select 1 as n")
        con.execute("create table marts.b as select 2 as n")
    return url


def _tag(pid: int) -> str:
    return f"{hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]}-{pid}"


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


KILL_AFTER_FIRST_TABLE = textwrap.dedent(
    """
    import os, signal, sys
    from warehouse.hyper import export_hyper
    from warehouse.target import parse_target

    def killed(result):
        print(result.table, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    export_hyper(parse_target(sys.argv[1]), sys.argv[2], on_result=killed)
    """
)


def test_the_next_export_removes_what_a_killed_export_left(tmp_path: Path) -> None:
    url = _warehouse(tmp_path)
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-c", KILL_AFTER_FIRST_TABLE, url, str(out)],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert proc.stdout.split() == ["marts.a"]
    left = sorted(p.name for p in out.iterdir())
    assert [n for n in left if n.startswith(WORK_PREFIX)]  # the killed export's working folder
    # half-written extracts of a killed export, and of an older version's (no owner in the name)
    (out / f"b.hyper{PARTIAL_MARK}{_tag(_dead_pid())}-0123456789ab").write_bytes(b"half")
    (out / f"b.hyper{PARTIAL_MARK}0123456789ab").write_bytes(b"half")
    (out / f"{WORK_PREFIX}k2j3h4g5").mkdir()
    (out / "notes.txt").write_text("the user's own file")

    export_hyper(parse_target(url), out)

    assert sorted(p.name for p in out.iterdir()) == ["a.hyper", "b.hyper", "notes.txt"]


def test_a_running_exports_files_are_left_alone(tmp_path: Path) -> None:
    url = _warehouse(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        work = out / f"{WORK_PREFIX}{_tag(live.pid)}-abcdefgh"
        work.mkdir()
        partial = out / f"a.hyper{PARTIAL_MARK}{_tag(live.pid)}-0123456789ab"
        partial.write_bytes(b"being written")
        elsewhere = out / f"a.hyper{PARTIAL_MARK}0000abcd-1-0123456789ab"  # another machine's export
        elsewhere.write_bytes(b"being written")

        export_hyper(parse_target(url), out)

        assert work.is_dir()
        assert partial.read_bytes() == b"being written"
        assert elsewhere.exists()
    finally:
        live.kill()
        live.wait()


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_extracts_get_the_users_umask(tmp_path: Path, umask: int, mode: int) -> None:
    url = _warehouse(tmp_path)
    old = os.umask(umask)
    try:
        written = export_hyper(parse_target(url), tmp_path / "out")
    finally:
        os.umask(old)
    assert [stat.S_IMODE(r.path.stat().st_mode) for r in written] == [mode, mode]
