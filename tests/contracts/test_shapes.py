"""The structural comparison itself, and the rule that every fixture names its source."""

from __future__ import annotations

import re

import pytest

from tests.contracts.shapes import HERE, shape_differences


def test_a_missing_or_renested_path_is_a_difference() -> None:
    published = {"tickets": [{"id": 1, "metric_set": {"reopens": 0}}], "end_of_stream": True}
    same = {"tickets": [{"id": 2, "metric_set": {"reopens": None}, "extra": 1}], "end_of_stream": False}
    top_level = {"tickets": [{"id": 2}], "metric_sets": [{"reopens": 0}], "end_of_stream": True}
    assert shape_differences(published, same) == []
    assert shape_differences(published, top_level) == [
        "$.tickets[].metric_set: missing (published as object)",
        "$.tickets[].metric_set.reopens: missing (published as number)",
    ]
    assert shape_differences({"a": {"b": 1}}, {"a": [1]}) == [
        "$.a: published as object, ours is array",
        "$.a.b: missing (published as number)",
    ]
    assert shape_differences({"a": {"b": 1}}, {"a": [1]}, ignore=["$.a"]) == []


def _fixtures() -> list[tuple[str, str]]:
    return sorted(
        (p.parent.name, p.name)
        for p in HERE.glob("*/*")
        if p.is_file() and p.name != "README.md" and p.suffix in (".json", ".csv", ".xml", ".txt")
    )


@pytest.mark.parametrize(
    ("system", "name"), _fixtures() or [pytest.param("-", "-", marks=pytest.mark.skip("none yet"))]
)
def test_every_fixture_names_its_source(system: str, name: str) -> None:
    readme = HERE / system / "README.md"
    assert readme.exists(), f"tests/contracts/{system}/README.md must name the source of each fixture"
    text = readme.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if name in line]
    assert lines, f"tests/contracts/{system}/README.md does not mention {name}"
    assert any(re.search(r"https?://|[\w.-]+/[\w.-]+:? ?\S*/", line) for line in lines), (
        f"the README line of {name} must name its source: a URL, or repository and path"
    )
