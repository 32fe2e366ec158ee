"""Structural comparison of a published response with ours.

A fixture under ``tests/contracts/<system>/`` is a response taken from material we did not write
(the vendor's documentation or published API description, or a well-known peer's recorded
fixture); its folder's README names the source of each file. Two things are checked against it:

- the connector parses it into the expected rows (tests per endpoint, beside the fixtures);
- the simulator's response for the same endpoint has every key path the fixture has, with the
  same nesting and kind of value (:func:`assert_same_shape`), so the simulator cannot drift from
  the real shape.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


def load(system: str, name: str) -> Any:
    """The fixture ``tests/contracts/<system>/<name>`` (``.json`` added when missing)."""
    path = HERE / system / (name if "." in name else f"{name}.json")
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else text


def kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def key_paths(doc: Any, prefix: str = "$") -> dict[str, set[str]]:
    """Every path of ``doc`` → the kinds of value seen there. List items share the path
    ``<list>[]``, so a fixture's three tickets and the simulator's thousand compare alike."""
    out: dict[str, set[str]] = {}

    def walk(path: str, value: Any) -> None:
        out.setdefault(path, set()).add(kind(value))
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{path}.{k}", v)
        elif isinstance(value, list):
            for item in value:
                walk(f"{path}[]", item)

    walk(prefix, doc)
    return out


def shape_differences(published: Any, ours: Any, *, ignore: Iterable[str] = ()) -> list[str]:
    """What the published document has that ours lacks or nests differently.

    A path missing from ours, or present with another kind of value, is a difference; ``null``
    on either side matches any kind (a field that happens to be empty). Paths in ``ignore`` (and
    everything below them) are not compared: name each with the reason at the call site.
    """
    skip = tuple(ignore)
    theirs, mine = key_paths(published), key_paths(ours)
    problems: list[str] = []
    for path, kinds in sorted(theirs.items()):
        if any(path == s or path.startswith((s + ".", s + "[")) for s in skip):
            continue
        if path not in mine:
            problems.append(f"{path}: missing (published as {'/'.join(sorted(kinds))})")
            continue
        a, b = kinds - {"null"}, mine[path] - {"null"}
        if a and b and not (a & b):
            problems.append(f"{path}: published as {'/'.join(sorted(a))}, ours is {'/'.join(sorted(b))}")
    return problems


def assert_same_shape(published: Any, ours: Any, *, ignore: Iterable[str] = ()) -> None:
    problems = shape_differences(published, ours, ignore=ignore)
    assert not problems, "the response differs from the published shape:\n  " + "\n  ".join(problems)
