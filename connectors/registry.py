"""The sources supportlake syncs: one :class:`SourceSpec` record per system, found by name.

Each ``connectors/<name>/__init__.py`` exports ``SOURCE = SourceSpec(...)``: its dlt source
function, the tables each resource fills with their column types, the primary object, the settings
that mark it configured, the credential sets to name when they are missing, its ``check`` plan and
the simulator the demo starts. The sync, the CLI, the transforms runner (stand-ins of raw tables),
the warehouse target (reserved schema names), ``supportlake check`` and the demo read these records
and nothing else, so adding a source touches no other module.

Sources are found three ways, in this order:

1. every package under ``connectors/`` whose ``__init__`` exports ``SOURCE``;
2. the entry points of the group :data:`ENTRY_POINT_GROUP` (``supportlake.sources``) of installed
   distributions, each naming a :class:`SourceSpec` (or a function returning one);
3. :func:`register`, called by a plug-in at import time (or a test).

Only ``dlt`` configuration is read here (lazily); nothing imports the warehouse or the transforms.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common.errors import ConfigError

if TYPE_CHECKING:
    from connectors.check import Plan
    from connectors.deletions import SourceDeletions

log = logging.getLogger("supportlake.registry")

ENTRY_POINT_GROUP = "supportlake.sources"
"""The entry-point group a distribution uses to add a source: ``toy = "toy_pkg:SOURCE"``."""

Columns = Mapping[str, Mapping[str, str]]
"""Table → {column: kind}; kinds as :func:`schemas.payload.column_types` gives them (``text``,
``bigint``, ``double``, ``bool``, ``timestamp``, ``json``)."""


def load_ref(ref: str) -> Any:
    """The object ``"package.module:attribute"`` names (imported on first use)."""
    module, _, attribute = ref.partition(":")
    if not module or not attribute:
        raise ValueError(f"{ref!r}: expected 'package.module:attribute'")
    obj: Any = importlib.import_module(module)
    for part in attribute.split("."):
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True, kw_only=True)
class DemoSimulator:
    """How ``supportlake demo`` runs a source against its simulator.

    ``factory`` names the simulator class by import path (``"simulators.zendesk:ZendeskSimulator"``),
    so a connector never imports a simulator. The demo calls ``factory(**options(seed, tickets))``,
    enters its ``serve()`` context (which yields the base URL) and sets the environment variables
    ``settings(simulator, base_url)`` returns while it checks and syncs.
    """

    factory: str
    options: Callable[[int, int], Mapping[str, Any]]
    settings: Callable[[Any, str], Mapping[str, str]]
    label: Callable[[int], str] = lambda tickets: ""
    """A note for the demo's first line (``"5,000 tickets"``), from the number of tickets asked."""

    def create(self, seed: int, tickets: int) -> Any:
        return load_ref(self.factory)(**self.options(seed, tickets))


@dataclass(frozen=True, kw_only=True, eq=False)
class SourceSpec:
    """Everything the rest of supportlake knows about one source."""

    name: str
    """The source's name: ``--source`` value, dlt section (``SOURCES__<NAME>__...``), pipeline
    suffix and raw schema (dataset) name."""
    title: str
    """Human name (``Zendesk Support``)."""
    source: Callable[..., Any]
    """The ``@dlt.source`` function; called with ``resources=[...]`` and settings resolved by dlt."""
    tables: Callable[[], Mapping[str, tuple[str, ...]]]
    """Resource → the tables it fills, its main table first (may read configuration:
    Salesforce's configured objects)."""
    columns: Callable[[], Columns]
    """Each raw table's declared columns (from the payload models), without the loader's columns;
    the transforms runner stands in for an absent table with them."""
    primary: str
    """The object (resource, endpoint or API object name as ``check`` calls it) whose refusal fails
    a run or a check; every other one is an optional enrichment."""
    config_keys: tuple[str, ...]
    """dlt settings (``sources.zendesk.base_url``) of which one present means configured: what
    ``supportlake sync`` without ``--source`` syncs. Keys under ``credentials`` are read as secrets."""
    ticket_noun: str = "tickets"
    """What the source calls its tickets, in reports (``3,100 cases``)."""
    credential_sets: tuple[str, ...] = ()
    """The alternative credential sets, named in the message when credentials are missing
    (``"EMAIL + API_TOKEN"``; a parenthesis is a note)."""
    check: str | Callable[[Mapping[str, Any]], Plan] | None = None
    """``check.plan(settings)`` (or its import path): the probes of ``supportlake check``."""
    deletions: str | SourceDeletions | None = None
    """How each table's records say they are deleted: a
    :class:`connectors.deletions.SourceDeletions`, or its import path; None: never deleted."""
    models: Path | None = None
    """A folder of the source's own SQL models, laid out like ``transforms/models``
    (``staging/stg_<name>__<table>.sql``), built with the shipped ones; None: its staging models
    are in ``transforms/models/staging/<name>/``."""
    simulator: DemoSimulator | None = None
    """The simulator the demo runs this source against (None: the demo skips it)."""
    order: int = 100
    """Sources sync and print in this order, then by name."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Anything a plug-in wants to carry along; supportlake ignores it."""

    def resolve(self, names: Sequence[str] | None) -> list[str]:
        """Resource names from ``--resource`` values, which may also name a table."""
        tables = self.tables()
        if not names:
            return list(tables)
        table_to_resource = {t: r for r, ts in tables.items() for t in ts}
        out: list[str] = []
        for n in names:
            r = n if n in tables else table_to_resource.get(n)
            if r is None:
                raise ConfigError(f"--resource {n!r} is not a {self.name} resource; choose from: {', '.join(tables)}")
            if r not in out:
                out.append(r)
        return out

    def knows(self, name: str) -> bool:
        """``name`` is one of this source's resources or tables."""
        tables = self.tables()
        return name in tables or any(name in ts for ts in tables.values())

    def is_configured(self) -> bool:
        """Whether dlt finds one of :attr:`config_keys` (environment or ``.dlt/`` files)."""
        import dlt

        value: Any
        for key in self.config_keys:
            try:
                value = dlt.secrets.get(key) if "credentials" in key.split(".") else dlt.config.get(key)
            except Exception:  # an unreadable provider is the same as no setting here
                value = None
            if value:
                return True
        return False

    def settings(self) -> dict[str, Any]:
        """The settings the dlt source function would receive (for ``check``); a
        :class:`ConfigError` naming what to add when the credentials are missing."""
        from dlt.common.configuration import resolve_configuration
        from dlt.common.configuration.exceptions import ConfigFieldMissingException

        ref = self.source.ref  # type: ignore[attr-defined]
        try:
            resolved = resolve_configuration(ref.SPEC(), sections=("sources", ref.section, ref.name))
        except ConfigFieldMissingException as exc:
            raise ConfigError(self.missing_config_message(exc)) from None
        return dict(resolved)

    def build(self, resources: Sequence[str]) -> Any:
        """The dlt source with ``resources`` selected; missing settings as a :class:`ConfigError`."""
        from dlt.common.configuration.exceptions import ConfigFieldMissingException

        try:
            return self.source(resources=list(resources))
        except ConfigFieldMissingException as exc:
            raise ConfigError(self.missing_config_message(exc)) from None

    def plan(self, settings: Mapping[str, Any]) -> Plan:
        """The ``check`` probes."""
        if self.check is None:
            raise ConfigError(f"{self.name} declares no check plan")
        function = load_ref(self.check) if isinstance(self.check, str) else self.check
        made: Plan = function(settings)
        return made

    def deletion_rules(self) -> SourceDeletions:
        """The deletion rules of this source (none declared: every table is never deleted)."""
        from connectors.deletions import SourceDeletions

        rules = load_ref(self.deletions) if isinstance(self.deletions, str) else self.deletions
        return rules if isinstance(rules, SourceDeletions) else SourceDeletions()

    def missing_config_message(self, exc: Any) -> str:
        """Which settings to add, by name (dlt's own message lists every lookup it tried)."""
        upper = self.name.upper()
        if not self.credential_sets:
            fields = ", ".join(getattr(exc, "fields", []) or [])
            return f"{self.name}: missing configuration {fields}; set SOURCES__{upper}__... (see README)"
        prefix = f"SOURCES__{upper}__CREDENTIALS__"
        options = " or ".join(
            "{" + ", ".join(prefix + part.strip() for part in s.split("(")[0].split("+")) + "}"
            for s in self.credential_sets
        )
        return (
            f"{self.name} credentials are missing: set {options} "
            f"(environment variables, or .dlt/secrets.toml [sources.{self.name}.credentials])"
        )

    def config_hint(self) -> str:
        """The settings that configure this source, as environment variables."""
        return " or ".join(_env_name(k) for k in self.config_keys)


def _env_name(key: str) -> str:
    return "__".join(part.upper() for part in key.split("."))


_registered: dict[str, SourceSpec] = {}
_discovered: dict[str, SourceSpec] | None = None


def register(spec: SourceSpec, *, replace: bool = False) -> SourceSpec:
    """Add a source (a plug-in calls this at import time). A second source of the same name is an
    error unless ``replace``."""
    if not isinstance(spec, SourceSpec):
        raise TypeError(f"register() takes a SourceSpec, got {type(spec).__name__}")
    if not replace and spec.name in _all():
        raise ValueError(f"a source named {spec.name!r} is already registered")
    _registered[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    """Remove a source added with :func:`register` (tests)."""
    _registered.pop(name, None)


def refresh() -> None:
    """Find the built-in and plug-in sources again on next use (after installing a plug-in)."""
    global _discovered
    _discovered = None


def _builtin() -> Iterator[SourceSpec]:
    import connectors

    for info in pkgutil.iter_modules(connectors.__path__, "connectors."):
        if not info.ispkg:
            continue
        module = importlib.import_module(info.name)
        spec = getattr(module, "SOURCE", None)
        if isinstance(spec, SourceSpec):
            yield spec


def _plugins() -> Iterator[SourceSpec]:
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
            spec = obj() if callable(obj) and not isinstance(obj, SourceSpec) else obj
        except Exception:  # a broken plug-in must not take the built-in sources down with it
            log.exception("source plug-in %s (%s) could not be loaded", ep.name, ep.value)
            continue
        if isinstance(spec, SourceSpec):
            yield spec
        else:
            log.error("source plug-in %s (%s) is not a SourceSpec", ep.name, ep.value)


def _all() -> dict[str, SourceSpec]:
    global _discovered
    if _discovered is None:
        found: dict[str, SourceSpec] = {}
        for spec in (*_builtin(), *_plugins()):
            found.setdefault(spec.name, spec)
        _discovered = found
    return {**_discovered, **_registered}


def specs() -> list[SourceSpec]:
    """Every known source, in :attr:`SourceSpec.order`."""
    return sorted(_all().values(), key=lambda s: (s.order, s.name))


def names() -> list[str]:
    """The names of every known source, in order."""
    return [s.name for s in specs()]


def label(name: str) -> tuple[str, str]:
    """A system's title and what it calls its tickets, for reports: ``("Salesforce", "cases")``;
    an unregistered name is shown as it is."""
    spec = _all().get(name)
    return (spec.title, spec.ticket_noun) if spec is not None else (name, "tickets")


def get(name: str) -> SourceSpec:
    """The source named ``name``; a :class:`ConfigError` listing the known ones otherwise."""
    found = _all().get(name)
    if found is None:
        raise ConfigError(f"--source {name!r} is not known; choose from: {', '.join(names())}")
    return found


def configured() -> list[str]:
    """The sources with settings present: what ``supportlake sync`` without ``--source`` syncs."""
    return [s.name for s in specs() if s.is_configured()]


def not_configured_message() -> str:
    """The configuration error when no source is configured, naming each source's settings."""
    hints = ", ".join(s.config_hint() for s in specs() if s.config_keys)
    return f"no source is configured: set {hints} (and credentials), or name one with --source"
