"""``supportlake load-input`` end to end, on DuckDB and PostgreSQL: load, reload, upsert,
``--replace``, all-or-nothing on a bad file, rollback on a failed write, stand-ins for models."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from transforms.runner import build
from warehouse.cli import main
from warehouse.sql import connection
from warehouse.target import parse_target

NPS = "inputs.input_nps_responses"
COST = "inputs.input_support_cost_monthly"
OVERRIDES = "inputs.input_account_overrides"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path


def load(warehouse_url: str, kind: str, path: Path, *extra: str) -> int:
    return main(["load-input", kind, str(path), "--warehouse", warehouse_url, *extra])


def rows(warehouse_url: str, sql: str) -> list[tuple[Any, ...]]:
    with connection(parse_target(warehouse_url)) as con:
        return con.query(sql)


def column_types(warehouse_url: str, table: str) -> dict[str, str]:
    schema, name = table.split(".")
    found = rows(
        warehouse_url,
        "select column_name, data_type from information_schema.columns "
        f"where table_schema = '{schema}' and table_name = '{name}' order by ordinal_position",
    )
    return {c: str(t).lower() for c, t in found}


def nps_rows(warehouse_url: str) -> list[tuple[Any, ...]]:
    return rows(
        warehouse_url,
        f"select respondent_email, account_id, score, responded_at, source_file from {NPS} "
        "order by respondent_email, responded_at",
    )


NPS_FILE = (
    "\ufeffRespondent_Email,Account_ID,Score,Responded_At\n"
    "ann@example.com,001000000000001,9,2024-03-05\n"
    "BOB@example.com,,3,2024-03-05T10:00:00+02:00\n"
    "cy@example.com,001Dn00000AbCdEIAV,10,2024-03-06T09:30:00Z\n"
)
NPS_ROWS = [
    ("ann@example.com", "001000000000001AAA", 9, dt.datetime(2024, 3, 5), "nps-march.csv"),
    ("bob@example.com", None, 3, dt.datetime(2024, 3, 5, 8), "nps-march.csv"),
    ("cy@example.com", "001Dn00000AbCdEIAV", 10, dt.datetime(2024, 3, 6, 9, 30), "nps-march.csv"),
]


def test_load_types_and_reload_gives_the_same_rows(
    warehouse_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "exports" / "nps-march.csv", NPS_FILE)
    assert load(warehouse_url, "nps", path) == 0
    assert f"loaded 3 rows into {NPS} (0 replaced, 3 new)" in capsys.readouterr().out
    assert nps_rows(warehouse_url) == NPS_ROWS  # source_file: the base name, never the path
    pg = not warehouse_url.startswith("duckdb")
    text, ts = ("text", "timestamp without time zone") if pg else ("varchar", "timestamp")
    assert column_types(warehouse_url, NPS) == {
        "respondent_email": text,
        "account_id": text,
        "score": "bigint",
        "responded_at": ts,
        "source_file": text,
        "loaded_at": ts,
    }
    (first_load,) = rows(warehouse_url, f"select distinct loaded_at from {NPS}")[0]

    assert load(warehouse_url, "nps", path) == 0
    assert f"loaded 3 rows into {NPS} (3 replaced, 0 new)" in capsys.readouterr().out
    assert nps_rows(warehouse_url) == NPS_ROWS
    (second_load,) = rows(warehouse_url, f"select distinct loaded_at from {NPS}")[0]
    assert second_load > first_load


def test_upsert_changes_a_row_and_keeps_the_others(
    warehouse_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert load(warehouse_url, "nps", write(tmp_path / "nps-march.csv", NPS_FILE)) == 0
    update = write(
        tmp_path / "nps-fix.csv",
        "respondent_email,score,responded_at\n"
        "bob@example.com,4,2024-03-05T08:00:00\n"  # same key as bob's row: 08:00 UTC
        "dee@example.com,8,2024-03-07\n",
    )
    assert load(warehouse_url, "nps", update) == 0
    assert f"loaded 2 rows into {NPS} (1 replaced, 1 new)" in capsys.readouterr().out
    assert nps_rows(warehouse_url) == [
        NPS_ROWS[0],
        ("bob@example.com", None, 4, dt.datetime(2024, 3, 5, 8), "nps-fix.csv"),
        NPS_ROWS[2],
        ("dee@example.com", None, 8, dt.datetime(2024, 3, 7), "nps-fix.csv"),
    ]


def test_replace_keeps_only_the_files_rows(
    warehouse_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert load(warehouse_url, "nps", write(tmp_path / "nps-march.csv", NPS_FILE)) == 0
    only = write(tmp_path / "nps-april.csv", "respondent_email,score,responded_at\neve@example.com,6,2024-04-01\n")
    assert load(warehouse_url, "nps", only, "--replace") == 0
    assert f"loaded 1 row into {NPS} (all 3 previous rows replaced)" in capsys.readouterr().out
    assert nps_rows(warehouse_url) == [("eve@example.com", None, 6, dt.datetime(2024, 4, 1), "nps-april.csv")]


def test_bad_file_loads_nothing_and_leaves_the_table_untouched(
    warehouse_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert load(warehouse_url, "nps", write(tmp_path / "nps-march.csv", NPS_FILE)) == 0
    before = rows(warehouse_url, f"select * from {NPS} order by respondent_email")
    bad = write(
        tmp_path / "nps-bad.csv",
        "respondent_email,score,responded_at\n"
        "ann@example.com,1,2024-03-05\n"  # good, and would replace ann's row
        "zed@example.com,11,2024-03-08\n",
    )
    capsys.readouterr()
    assert load(warehouse_url, "nps", bad, "--replace") == 2
    err = capsys.readouterr().err
    assert "nps-bad.csv: line 3, column score: must be a whole number from 0 to 10, got '11'" in err
    assert "nothing was loaded" in err
    assert rows(warehouse_url, f"select * from {NPS} order by respondent_email") == before


def test_missing_file_and_unknown_kind_are_usage_errors(
    warehouse_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert load(warehouse_url, "nps", tmp_path / "nope.csv") == 2
    assert "nope.csv: no such file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        load(warehouse_url, "csat", write(tmp_path / "x.csv", "a\n1\n"))
    assert info.value.code == 2
    assert "invalid choice: 'csat'" in capsys.readouterr().err


def test_failed_write_rolls_back(warehouse_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A table someone reshaped by hand (no ``note`` column): the insert fails after the delete of
    the matching keys, and the rollback brings the deleted row back."""
    with connection(parse_target(warehouse_url)) as con:
        con.execute("create schema inputs")
        con.execute(
            f"create table {OVERRIDES} (zendesk_organization_id bigint, salesforce_account_id varchar, "
            "source_file varchar, loaded_at timestamp)"
        )
        con.execute(f"insert into {OVERRIDES} values (1, '001000000000001AAA', 'old.csv', '2024-01-01')")
    before = rows(warehouse_url, f"select * from {OVERRIDES}")
    path = write(tmp_path / "ov.csv", "zendesk_organization_id,salesforce_account_id,note\n1,,gone\n2,,new\n")
    assert load(warehouse_url, "account_overrides", path) == 1
    err = capsys.readouterr().err
    assert f"could not write {OVERRIDES}" in err
    assert "rolled back" in err
    assert "note" in err  # the engine's message names the column
    assert rows(warehouse_url, f"select * from {OVERRIDES}") == before


def test_a_lock_lost_while_writing_rolls_back_and_exits_75(
    warehouse_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The lock is checked again just before the write commits (not only when it was taken): a
    run that lost it — its PostgreSQL session dropped, its lease taken over — writes nothing."""
    from warehouse.lock import LockLost, RunLock

    path = write(tmp_path / "cost.csv", "Month,Cost,Currency\n2024-03,12500.50,\n")
    assert load(warehouse_url, "support_cost", path) == 0
    before = rows(warehouse_url, f"select * from {COST}")
    checked: list[str] = []

    def lost(self: RunLock) -> None:
        checked.append(self.target.display)
        raise LockLost(f"lost the warehouse lock on {self.target.display} (test)")

    monkeypatch.setattr(RunLock, "verify", lost)
    again = write(tmp_path / "cost2.csv", "Month,Cost,Currency\n2024-03,1,\n2024-04,2,\n")
    assert load(warehouse_url, "support_cost", again) == 75
    assert checked  # the check ran, after the rows were written and before the commit
    assert "lost the warehouse lock" in capsys.readouterr().err
    monkeypatch.undo()
    assert rows(warehouse_url, f"select * from {COST}") == before


def test_support_cost_and_overrides(warehouse_url: str, tmp_path: Path) -> None:
    cost = write(tmp_path / "cost.csv", "Month,Cost,Currency\n2024-03,12500.50,\n2024-04-01,900,eur\n")
    assert load(warehouse_url, "support_cost", cost) == 0
    assert rows(warehouse_url, f"select month, cost, currency, source_file from {COST} order by month") == [
        (dt.date(2024, 3, 1), 12500.5, "USD", "cost.csv"),
        (dt.date(2024, 4, 1), 900.0, "EUR", "cost.csv"),
    ]
    types = column_types(warehouse_url, COST)
    assert (types["month"], types["cost"]) == (
        ("date", "double precision") if warehouse_url.startswith("postgres") else ("date", "double")
    )

    overrides = write(
        tmp_path / "overrides.csv",
        "zendesk_organization_id,salesforce_account_id,note\n"
        "101,001Dn00000AbCdE,acquired by Acme\n"
        "102,,a reseller: never match\n",
    )
    assert load(warehouse_url, "account_overrides", overrides) == 0
    got = rows(
        warehouse_url, f"select zendesk_organization_id, salesforce_account_id, note from {OVERRIDES} order by 1"
    )
    assert got == [(101, "001Dn00000AbCdEIAV", "acquired by Acme"), (102, None, "a reseller: never match")]

    # Edited with plain SQL, as the README shows: the loader's columns have defaults; the key stays unique.
    with connection(parse_target(warehouse_url)) as con:
        con.execute(
            f"update {OVERRIDES} set salesforce_account_id = %s, note = %s where zendesk_organization_id = %s",
            ["001000000000001AAA", "fixed by hand", 102],
        )
        con.execute(f"insert into {OVERRIDES} (zendesk_organization_id, salesforce_account_id) values (103, null)")
        with pytest.raises(Exception, match=r"(?i)duplicate|unique|primary key"):
            con.execute(f"insert into {OVERRIDES} (zendesk_organization_id) values (101)")
    edited = rows(
        warehouse_url,
        f"select zendesk_organization_id, salesforce_account_id, source_file, loaded_at is not null from {OVERRIDES} "
        "where zendesk_organization_id >= 102 order by 1",
    )
    assert edited == [(102, "001000000000001AAA", "overrides.csv", True), (103, None, "sql", True)]


def test_models_read_a_stand_in_until_the_input_is_loaded(warehouse_url: str, tmp_path: Path) -> None:
    models = tmp_path / "models"
    write(
        models / "marts" / "nps_monthly.sql",
        "select cast(date_trunc('month', responded_at) as date) as month, count(*) as responses, "
        "avg(score) as avg_score from inputs.input_nps_responses group by 1",
    )
    target = parse_target(warehouse_url)
    (first,) = build(target, models)
    assert (first.rows, first.standins) == (0, (NPS,))
    empty_types = column_types(warehouse_url, "marts.nps_monthly")

    assert load(warehouse_url, "nps", write(tmp_path / "nps.csv", NPS_FILE)) == 0
    (second,) = build(target, models)
    assert (second.rows, second.standins) == (1, ())
    assert column_types(warehouse_url, "marts.nps_monthly") == empty_types
    assert rows(warehouse_url, "select month, responses from marts.nps_monthly") == [(dt.date(2024, 3, 1), 3)]


@pytest.mark.slow
def test_a_hundred_thousand_rows(warehouse_url: str, tmp_path: Path) -> None:
    lines = ["respondent_email,score,responded_at"]
    start = dt.datetime(2024, 1, 1)
    lines += [f"user{i}@example.com,{i % 11},{(start + dt.timedelta(minutes=i)).isoformat()}" for i in range(100_000)]
    path = write(tmp_path / "big.csv", "\n".join(lines) + "\n")
    assert load(warehouse_url, "nps", path) == 0
    assert rows(warehouse_url, f"select count(*), sum(score) from {NPS}") == [
        (100_000, sum(i % 11 for i in range(100_000)))
    ]
