"""A build is published as a whole: a build that fails or is killed part-way leaves every table
from the previous build (never core from one build and marts from another), a successful one
replaces them all, and ``--select`` publishes its selected set together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import psycopg2
import pytest

from transforms import runner
from transforms.runner import TransformError, build
from warehouse.lock import WarehouseBusy
from warehouse.target import parse_target

from .conftest import query, write_models

ROOT = Path(__file__).resolve().parents[2]


def models_of_build(root: Path, version: int, *, failing: bool = False) -> Path:
    """A chain: ``core.a``, ``marts.b`` (reads core.a) and ``marts.c`` (reads
    marts.b); every table says which build made it. ``failing``: ``marts.c`` fails on the engine,
    after core.a and marts.b were built."""
    c = "select b.v, 'x'::INTEGER as boom from marts.b" if failing else "select b.v from marts.b as b"
    return write_models(
        root,
        {
            "core/a.sql": f"select {version} as v",
            "marts/b.sql": "select a.v from core.a as a",
            "marts/c.sql": c,
        },
    )


def published(url: str) -> dict[str, int]:
    return {t: query(url, f"select v from {t}")[0][0] for t in ("core.a", "marts.b", "marts.c")}


def staged_tables(url: str) -> list[str]:
    rows = query(url, "select table_schema, table_name from information_schema.tables")
    return sorted(f"{s}.{t}" for s, t in rows if str(t).endswith("__sl_new"))


def test_a_failed_build_leaves_every_table_from_the_previous_build(warehouse_url: str, tmp_path: Path) -> None:
    target = parse_target(warehouse_url)
    models = models_of_build(tmp_path / "models", 1)
    build(target, models)
    assert published(warehouse_url) == {"core.a": 1, "marts.b": 1, "marts.c": 1}

    built: list[str] = []
    models_of_build(models, 2, failing=True)
    with pytest.raises(TransformError, match=r"model marts\.c"):
        build(target, models, on_result=lambda r: built.append(r.model))
    assert built == ["core.a", "marts.b"]  # they were built, not published
    assert published(warehouse_url) == {"core.a": 1, "marts.b": 1, "marts.c": 1}
    assert staged_tables(warehouse_url) == []

    models_of_build(models, 3)
    assert [r.rows for r in build(target, models)] == [1, 1, 1]
    # marts.b read the new core.a during the build, marts.c the new marts.b
    assert published(warehouse_url) == {"core.a": 3, "marts.b": 3, "marts.c": 3}


def test_select_publishes_its_set_together_and_reads_the_rest_as_published(warehouse_url: str, tmp_path: Path) -> None:
    target = parse_target(warehouse_url)
    models = models_of_build(tmp_path / "models", 1)
    build(target, models)

    models_of_build(models, 2, failing=True)
    with pytest.raises(TransformError, match=r"model marts\.c"):
        build(target, models, select=["core.a+"])
    assert published(warehouse_url) == {"core.a": 1, "marts.b": 1, "marts.c": 1}

    models_of_build(models, 3)
    assert [r.model for r in build(target, models, select=["a", "b"])] == ["core.a", "marts.b"]
    assert published(warehouse_url) == {"core.a": 3, "marts.b": 3, "marts.c": 1}
    assert [r.model for r in build(target, models, select=["c"])] == ["marts.c"]  # reads the published marts.b
    assert published(warehouse_url) == {"core.a": 3, "marts.b": 3, "marts.c": 3}


KILL_AFTER_FIRST_MODEL = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from transforms.runner import build
    from warehouse.target import parse_target

    def killed(result):
        print(result.model, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    build(parse_target(sys.argv[1]), Path(sys.argv[2]), on_result=killed)
    """
)


def test_a_build_killed_part_way_publishes_nothing(warehouse_url: str, tmp_path: Path) -> None:
    target = parse_target(warehouse_url)
    models = models_of_build(tmp_path / "models", 1)
    build(target, models)

    models_of_build(models, 2)
    proc = subprocess.run(
        [sys.executable, "-c", KILL_AFTER_FIRST_MODEL, warehouse_url, str(models)],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert proc.stdout.split() == ["core.a"]
    assert published(warehouse_url) == {"core.a": 1, "marts.b": 1, "marts.c": 1}
    assert staged_tables(warehouse_url) == ["core.a__sl_new"]  # what the kill left; readers never see it

    build(target, models)
    assert published(warehouse_url) == {"core.a": 2, "marts.b": 2, "marts.c": 2}
    assert staged_tables(warehouse_url) == []


@pytest.mark.postgres
def test_a_reader_holding_a_table_past_the_lock_timeout_makes_the_build_busy(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "PUBLISH_LOCK_TIMEOUT", "200ms")
    target = parse_target(pg_url)
    models = models_of_build(tmp_path / "models", 1)
    build(target, models)

    models_of_build(models, 2)
    reader = psycopg2.connect(target.dsn)
    try:
        with reader.cursor() as cur:  # a transaction that read marts.c and is still open
            cur.execute("select * from marts.c")
        with pytest.raises(WarehouseBusy, match=r"^the build was not published \(the previous one stays\): a table of"):
            build(target, models)
    finally:
        reader.close()
    assert published(pg_url) == {"core.a": 1, "marts.b": 1, "marts.c": 1}
    assert staged_tables(pg_url) == []
