"""Every README block marked to run does run, as written, so the README cannot rot.

A marker line right before a fence says how:

- ``<!-- runs -->`` before a ``sh`` block: the block runs in ``bash -e`` in an empty working
  folder with a temporary HOME, against the simulators of every source (their settings in the
  environment, as ``supportlake simulate`` prints them); every command must exit 0.
- ``<!-- runs -->`` before a ``python`` block: the block is executed the same way.
- ``<!-- runs: serves -->`` before a ``sh`` block of long-running servers: each line is started
  (on a free port instead of its default, which the line's comment must name), must print its base
  URL and the settings to export, and must stop with exit 0 on Ctrl-C.
- ``<!-- runs: crontab -->`` before a ``cron`` block: each entry must be what cron reads (five
  time fields croniter accepts, no continuation, no ``%``) with a command ``sh -n`` accepts.

Blocks that need the network or your own files (``pip install``, ``load-input`` of your CSV
files, a PostgreSQL URL of your own) are not marked.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from croniter import croniter

from connectors import registry

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"^<!-- runs(?::\s*(?P<how>[\w-]+))?\s*-->\n```(?P<lang>\w+)\n(?P<code>.*?)^```", re.M | re.S)


def marked(how: str, lang: str) -> list[tuple[int, str]]:
    """(line number, code) of the blocks marked ``how`` in language ``lang``."""
    return [
        (README[: m.start()].count("\n") + 1, m.group("code"))
        for m in BLOCK.finditer(README)
        if (m.group("how") or "") == how and m.group("lang") == lang
    ]


def test_the_marked_blocks_are_found() -> None:
    """A marker without its fence, or a block that silently stopped being marked, fails here."""
    assert README.count("<!-- runs") == len(list(BLOCK.finditer(README)))
    assert len(marked("", "sh")) >= 2
    assert len(marked("", "python")) >= 1
    assert len(marked("serves", "sh")) == 1
    assert len(marked("crontab", "cron")) == 1


@pytest.fixture
def simulated(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Every source's simulator serving; the environment of a fresh user pointed at them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "SUPPORTLAKE_"))}
    home = tmp_path / "home"
    home.mkdir()
    env["HOME"] = str(home)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONPATH"] = str(ROOT)
    with ExitStack() as stack:
        for spec in registry.specs():
            if spec.simulator is None:
                continue
            simulator = spec.simulator.create(7, 300)
            url = stack.enter_context(simulator.serve())
            env.update(spec.simulator.settings(simulator, url))
        yield env


@pytest.mark.slow
@pytest.mark.parametrize(("line", "code"), marked("", "sh"), ids=lambda v: f"line{v}" if isinstance(v, int) else "")
def test_shell_blocks_run_as_written(line: int, code: str, simulated: dict[str, str], tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    proc = subprocess.run(
        ["bash", "-e", "-c", code],
        cwd=work,
        env=simulated,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, f"README.md line {line}:\n{code}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(("line", "code"), marked("", "python"), ids=lambda v: f"line{v}" if isinstance(v, int) else "")
def test_python_blocks_run_as_written(
    line: int, code: str, simulated: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for key, value in simulated.items():
        if key.startswith("SOURCES__"):
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt"))
    exec(compile(code, f"README.md line {line}", "exec"), {})  # noqa: S102 - the README's own example


def _default_port(system: str) -> int:
    from simulators.__main__ import _parser

    args = _parser().parse_args([system])
    return int(args.port)


def test_the_simulate_lines_start_stop_and_name_their_ports(tmp_path: Path) -> None:
    ((line, code),) = marked("serves", "sh")
    commands = [c for c in code.splitlines() if c.strip() and not c.lstrip().startswith("#")]
    assert commands
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOURCES__")}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    for command in commands:
        text, _, comment = command.partition("#")
        argv = shlex.split(text)
        assert argv[:2] == ["supportlake", "simulate"], command
        system = argv[2]
        assert comment.strip() == f"http://127.0.0.1:{_default_port(system)}", f"README.md line {line}: {command}"
        proc = subprocess.Popen(
            [*argv, "--port", "0"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            assert proc.stdout is not None
            lines = []
            for out in proc.stdout:
                lines.append(out.rstrip("\n"))
                if out.startswith("# serving"):
                    break
            assert re.fullmatch(r"http://127\.0\.0\.1:\d+", lines[0]), (command, lines)
            assert f"export SOURCES__{system.upper()}__BASE_URL={lines[0]}" in lines, (command, lines)
        finally:
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=60) == 0, command


def test_the_crontab_block_is_what_cron_reads() -> None:
    ((line, code),) = marked("crontab", "cron")
    entries = 0
    for entry in code.splitlines():
        if not entry.strip() or entry.lstrip().startswith("#"):
            continue
        assert not entry.rstrip().endswith("\\"), f"crontab has no line continuations: {entry!r}"
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=\S.*", entry):
            continue
        fields = entry.split(None, 5)
        assert len(fields) == 6, f"an entry is five time fields and a command: {entry!r}"
        assert croniter.is_valid(" ".join(fields[:5])), f"README.md line {line}: bad schedule in {entry!r}"
        assert "%" not in fields[5], "cron turns % into a newline"
        subprocess.run(["sh", "-n", "-c", fields[5]], check=True)
        entries += 1
    assert entries >= 1
