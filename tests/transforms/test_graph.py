"""Models and their dependency order, found from the SQL (no database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.errors import ConfigError
from transforms import dialect
from transforms.graph import (
    DependencyCycleError,
    ModelDefinitionError,
    UnknownModelError,
    load_models,
    qualified_name,
    select_models,
    tables_read,
)

from .conftest import FIXTURES, write_models


def reads(sql: str) -> set[str]:
    return {qualified_name(t) for t in tables_read(dialect.parse(sql))}


def test_dependency_order_is_discovered_from_the_sql() -> None:
    models = load_models(FIXTURES / "project")
    keys = [m.key for m in models]
    assert keys == [
        "staging.stg_zendesk__calls",
        "staging.stg_zendesk__organizations",
        "staging.stg_zendesk__tickets",
        "intermediate.int_tickets_with_accounts",
        "core.tickets",
        "core.accounts_summary",  # sorts first by name, but reads core.tickets
        "marts.agg_tickets_monthly",
    ]
    by_key = {m.key: m for m in models}
    # The CTE named stg_zendesk__tickets shadows nothing: the model reads the staging model.
    assert by_key["intermediate.int_tickets_with_accounts"].depends_on == (
        "staging.stg_zendesk__organizations",
        "staging.stg_zendesk__tickets",
    )
    assert by_key["core.tickets"].depends_on == ("intermediate.int_tickets_with_accounts", "staging.stg_zendesk__calls")
    assert by_key["staging.stg_zendesk__tickets"].sources == ("zendesk.tickets",)
    assert by_key["staging.stg_zendesk__tickets"].depends_on == ()
    assert by_key["marts.agg_tickets_monthly"].path.name == "agg_tickets_monthly.sql"


def test_ctes_shadowing_tables_are_not_dependencies() -> None:
    # An unqualified name that a CTE defines is the CTE, in its scope and in nested ones.
    assert reads("with tickets as (select * from core.tickets) select * from tickets") == {"core.tickets"}
    assert reads(
        "with a as (select * from staging.x), b as (select * from a join zendesk.users u on true) "
        "select * from (select * from b) as s"
    ) == {"staging.x", "zendesk.users"}
    # A schema-qualified name is never a CTE, even when a CTE has the same name.
    assert reads("with tickets as (select 1 as id) select * from core.tickets join tickets using (id)") == {
        "core.tickets"
    }
    # Subqueries, set operations and table functions.
    assert reads(
        "select id from core.a where id in (select id from core.b) "
        "and exists (select 1 from core.c where c.id = a.id) "
        "union all select i as id from generate_series(1, 3) as g(i) "
        "union all select unnest([1, 2]) as id"
    ) == {"core.a", "core.b", "core.c"}
    # Unquoted names fold to lower case, as the warehouse resolves them.
    assert reads('select * from Core.Tickets join "core"."tickets" as t2 on true') == {"core.tickets"}


def test_cycle_is_an_error_naming_the_models() -> None:
    with pytest.raises(DependencyCycleError) as info:
        load_models(FIXTURES / "cycle")
    assert set(info.value.cycle) == {"core.a", "core.b"}
    assert "core.a" in str(info.value)
    assert "core.b" in str(info.value)
    assert "cycle" in str(info.value)


def test_a_model_reading_itself_is_a_cycle(tmp_path: Path) -> None:
    write_models(tmp_path, {"core/x.sql": "select * from core.x"})
    with pytest.raises(DependencyCycleError, match=r"core\.x → core\.x"):
        load_models(tmp_path)


def test_unknown_model_is_an_error_naming_both() -> None:
    with pytest.raises(UnknownModelError) as info:
        load_models(FIXTURES / "unknown")
    message = str(info.value)
    assert "staging.stg_things" in message
    assert "staging.stg_nothing" in message
    assert "stg_things.sql" in message
    assert info.value.model == "staging.stg_things"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"core/x.sql": "select * from tickets"}, r"table 'tickets' has no schema"),
        ({"core/x.sql": "select 1 as a; select 2 as b"}, r"exactly one SELECT"),
        ({"core/x.sql": "create table core.y as select 1 as a"}, r"expected a SELECT"),
        ({"core/x.sql": "select count(*) from zendesk.tickets"}, r"output column 1 \(COUNT\(\*\)\) has no name"),
        ({"core/x.sql": "select * from wh.zendesk.tickets"}, r"names a catalog"),
        ({"core/x.sql": "select json_array_length(tags -> 'a') as n from zendesk.tickets"}, r"read as a lambda"),
        ({"core/x.sql": "select * from"}, r"model core\.x"),
        ({"reports/x.sql": "select 1 as a"}, r"lives under one of staging/, intermediate/, core/, marts/"),
        ({"x.sql": "select 1 as a"}, r"lives under one of"),
        ({"core/Bad-Name.sql": "select 1 as a"}, r"model name 'Bad-Name'"),
        ({"core/x__sl_new.sql": "select 1 as a"}, r"__sl_new"),
        ({f"core/{'x' * 56}.sql": "select 1 as a"}, r"at most 55 characters"),
        ({"core/x.sql": "select 1 as a", "core/sub/x.sql": "select 1 as a"}, r"core\.x is defined twice"),
    ],
)
def test_bad_model_files_are_errors_naming_the_file(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    write_models(tmp_path, files)
    with pytest.raises(ModelDefinitionError, match=expected) as info:
        load_models(tmp_path)
    assert info.value.path is not None
    assert info.value.path.is_relative_to(tmp_path)


def test_missing_models_folder_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_models(tmp_path / "nope")


def test_shipped_models_folder_loads() -> None:
    load_models()  # the real models (possibly none yet) are valid and acyclic


def test_select_by_name_layer_and_downstream() -> None:
    models = load_models(FIXTURES / "project")

    def keys(*select: str) -> list[str]:
        return [m.key for m in select_models(models, select)]

    assert keys("tickets") == ["core.tickets"]
    assert keys("core.tickets", "stg_zendesk__calls") == ["staging.stg_zendesk__calls", "core.tickets"]
    assert keys("marts") == ["marts.agg_tickets_monthly"]
    assert keys("int_tickets_with_accounts+") == [
        "intermediate.int_tickets_with_accounts",
        "core.tickets",
        "core.accounts_summary",
        "marts.agg_tickets_monthly",
    ]
    assert len(select_models(models, None)) == len(models)
    with pytest.raises(ConfigError, match="no_such_model"):
        select_models(models, ["no_such_model"])
