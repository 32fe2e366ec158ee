"""Developer sessions: ``nox -s tests`` (which also starts ``spark``), ``nox -s spark``, ``nox -s lint``,
``nox -s typecheck``, ``nox -s bench``.

Dependencies come from ``pyproject.toml`` (the project, its extras and its dependency groups), so
there is one list of them.
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests", "lint", "typecheck"]

PYTHON = "3.11"


def _install(session: nox.Session, *groups: str, extras: str = "postgres") -> None:
    session.install("-e", f".[{extras}]" if extras else ".")
    for group in groups:
        session.install(*nox.project.dependency_groups(nox.project.load_toml("pyproject.toml"), group))


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Every test: unit (responses), simulators, end to end into DuckDB and PostgreSQL; the
    Tableau extracts are read back with the Hyper API (the ``tableau`` extra)."""
    _install(session, "test", extras="postgres,tableau")
    # One pytest worker per CPU (pytest-xdist): the end-to-end tests spend much of their time in
    # child processes, simulated latency and rate-limit waits, so two workers on two cores halve
    # CI's longest session. Every test makes its own folder, database and simulator port.
    session.run("pytest", "-n", "logical", "-m", "not spark", *session.posargs)
    if not session.posargs:
        session.notify("spark")


@nox.session(python=PYTHON)
def spark(session: nox.Session) -> None:
    """The models built on Apache Spark in local mode and compared with the DuckDB build, row by
    row, and sync → build → kpis → export-hyper into Spark (the ``spark`` marker; pyspark is the
    ``spark`` extra, Java 17+ must be installed: ``.ci/run`` installs it when missing; the extracts
    need the ``tableau`` extra). ``nox -s tests`` queues this session after its own."""
    # the test modules it collects import psycopg2; the Spark extracts are read back with Hyper
    _install(session, "test", extras="postgres,spark,tableau")
    session.run("pytest", "-m", "spark", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff: lint and import order; import-linter: the direction of imports between packages
    (the contracts in ``pyproject.toml`` ``[tool.importlinter]``)."""
    session.install("ruff", "import-linter>=2.1")
    session.run("ruff", "check", ".", *session.posargs)
    session.run("lint-imports")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the packages."""
    _install(session, "dev")
    session.run("mypy", *session.posargs)


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Speed and memory figures (never asserted in tests): Zendesk 25k, 100k and 200k tickets against a
    bare loop, then Salesforce 50k cases full and 1% incremental, then the build of every model
    over 1M generated Zendesk tickets (seconds per model and layer, peak RSS)."""
    _install(session, "test")
    session.run("python", "bench/bench_zendesk.py", *session.posargs)
    session.run("python", "bench/bench_salesforce.py")
    session.run("python", "bench/bench_build.py")
