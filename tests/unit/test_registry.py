"""The source registry: the three built-in sources are found in ``connectors/``, and every
import path their records name resolves (a moved check plan, deletion rules or simulator would
otherwise surface only in ``supportlake check`` or the demo)."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.errors import ConfigError
from connectors import registry
from connectors.deletions import SourceDeletions

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_built_in_sources_are_found_in_connectors() -> None:
    assert registry.names()[:3] == ["zendesk", "salesforce", "confluence"]
    assert {s.name for s in registry.specs()} >= {"zendesk", "salesforce", "confluence"}


@pytest.mark.parametrize("name", ["zendesk", "salesforce", "confluence"])
def test_every_reference_of_a_record_resolves(name: str) -> None:
    spec = registry.get(name)
    assert callable(registry.load_ref(spec.check) if isinstance(spec.check, str) else spec.check)
    rules = spec.deletion_rules()
    assert isinstance(rules, SourceDeletions)
    assert rules.tables or rules.default.record is not None
    assert spec.simulator is not None
    simulator = registry.load_ref(spec.simulator.factory)
    assert hasattr(simulator, "serve")
    tables = spec.tables()
    declared = spec.columns()
    assert {t for ts in tables.values() for t in ts} <= set(declared)
    assert spec.source.name == name  # type: ignore[attr-defined]  # the dlt section is the source's name


def test_the_readme_names_each_primary_object() -> None:
    text = README.read_text(encoding="utf-8")
    for spec in registry.specs():
        assert f"{spec.title} `{spec.primary}`" in text


def test_missing_credentials_name_every_set() -> None:
    message = registry.get("salesforce").missing_config_message(None)
    assert "SOURCES__SALESFORCE__CREDENTIALS__PRIVATE_KEY" in message
    assert "SOURCES__SALESFORCE__CREDENTIALS__REFRESH_TOKEN" in message
    assert "(+" not in message  # notes in parentheses are not setting names


def test_an_unknown_source_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="choose from: zendesk, salesforce, confluence"):
        registry.get("jira")
    assert "SOURCES__CONFLUENCE__BASE_URL" in registry.not_configured_message()


def test_a_name_is_registered_once() -> None:
    with pytest.raises(ValueError, match="already registered"):
        registry.register(registry.get("zendesk"))


def test_reports_name_each_system_and_its_tickets_from_the_registry() -> None:
    """The KPI report's share lines ask the registry (no per-source map in the report)."""
    assert registry.label("salesforce") == ("Salesforce", "cases")
    assert registry.label("zendesk") == ("Zendesk", "tickets")
    assert registry.label("jira") == ("jira", "tickets")  # not registered: shown as it is
