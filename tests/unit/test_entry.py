"""The ``supportlake`` process (:mod:`warehouse.__main__`): the command's exit code, and the
garbage collector frozen around it only there, never by :func:`warehouse.cli.main` in-process."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

from warehouse import cli

ROOT = Path(__file__).resolve().parents[2]

# ``main`` stood in for by a command that keeps 10,000 new objects and returns 7; at exit the
# process says how many objects are frozen and whether the collector is on.
PROBE = """
import atexit, gc, sys
import warehouse.cli as cli
seen = {"imported": gc.get_freeze_count()}
def command():
    global kept
    seen["started"] = gc.get_freeze_count()
    kept = [[] for _ in range(10_000)]
    return 7
cli.main = command
atexit.register(lambda: print(seen["imported"], seen["started"], gc.get_freeze_count(), gc.isenabled(), flush=True))
from warehouse.__main__ import run
run()
"""


def test_run_exits_with_the_command_s_code_and_freezes_what_the_command_left() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 7, done.stderr
    imported, started, at_exit, enabled = done.stdout.split()
    assert int(imported) == 0  # the probe imported the command before run(): nothing frozen yet
    assert int(at_exit) - int(started) >= 5000  # the command's own objects are frozen before the teardown
    assert enabled == "True"  # collections go on during the command


def test_modules_loaded_by_run_are_frozen_before_the_command() -> None:
    probe = (
        "import gc, sys\n"
        "import warehouse.__main__ as entry\n"
        "def command():\n"
        "    print(gc.get_freeze_count(), gc.isenabled(), flush=True)\n"
        "    return 0\n"
        "sys.modules['warehouse.cli'] = type(sys)('warehouse.cli')\n"
        "sys.modules['warehouse.cli'].main = command\n"
        "entry.run()\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    frozen, enabled = done.stdout.split()
    assert int(frozen) > 0
    assert enabled == "True"


def test_main_in_process_freezes_nothing(tmp_path: Path) -> None:
    before = gc.get_freeze_count()
    assert cli.main(["kpis", "--warehouse", f"duckdb:///{tmp_path / 'none.duckdb'}"]) == 2  # no warehouse yet
    assert gc.get_freeze_count() == before
    assert gc.isenabled()


def test_python_dash_m_warehouse_is_the_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "warehouse", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "usage: supportlake" in done.stdout
