"""``supportlake check [--source NAME]``: which sources to probe, their settings, the exit code.

Settings are resolved exactly as a sync resolves them: the parameters of each source's dlt
function (:attr:`connectors.registry.SourceSpec.source`), from the same environment variables and
``.dlt`` files; the probes come from the source's ``check`` plan. A
source whose settings are missing is a configuration error (exit 2) named like the sync names it.

Exit codes: 0 when every primary object (:attr:`connectors.registry.SourceSpec.primary`) is readable, 1
otherwise, 2 on configuration errors, refused credentials included (as for ``sync``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

from common.errors import ConfigError
from connectors import registry
from connectors.check import MISCONFIGURED, REFUSED, Plan, Result, primaries_readable, render, run

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2


def settings(source: str) -> dict[str, Any]:
    """The source's settings as its dlt source function would receive them.

    Raises :class:`ConfigError` naming the settings to add when the credentials are missing.
    """
    return registry.get(source).settings()


def plan(source: str) -> Plan:
    """The probes of ``source`` (raises :class:`ConfigError` for settings that cannot work)."""
    spec = registry.get(source)
    return spec.plan(spec.settings())


def check(sources: Sequence[str], *, on_result: Callable[[Result], None] | None = None) -> list[Result]:
    """Probe every source; a source whose settings are missing or wrong gets one
    ``configuration error`` row and the others are still probed."""
    results: list[Result] = []
    for source in sources:
        try:
            made = plan(source)
        except ConfigError as exc:
            result = Result(source, "settings", MISCONFIGURED, str(exc), primary=True)
            results.append(result)
            if on_result is not None:
                on_result(result)
            continue
        results.extend(run(made, on_result=on_result))
    return results


def exit_code(results: Sequence[Result]) -> int:
    # Refused credentials are fixed in the settings, like a missing one: 2, the same as a sync.
    if any(r.verdict in (MISCONFIGURED, REFUSED) for r in results):
        return EXIT_CONFIG
    return EXIT_OK if primaries_readable(results) else EXIT_FAILED


def run_check(sources: Sequence[str]) -> int:
    """Probe ``sources``, print the table and a verdict line; the exit code."""
    results = check(sources)
    print(render(results))
    code = exit_code(results)
    if code == EXIT_OK:
        print(f"\ncheck: every primary object is readable ({_primaries(sources)})")
    else:
        bad = sorted({f"{r.source}.{r.name}" for r in results if r.primary and not r.ok})
        what = "configuration error" if code == EXIT_CONFIG else "not readable"
        print(f"\ncheck: {what}: {', '.join(bad)}", file=sys.stderr)
    return code


def _primaries(sources: Sequence[str]) -> str:
    return ", ".join(f"{s}.{registry.get(s).primary}" for s in sources)
