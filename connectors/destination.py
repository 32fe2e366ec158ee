"""Refusing a DuckDB destination that would make every query ambiguous, before any request.

DuckDB names a database's catalog after its file: in ``zendesk.duckdb`` holding the dataset
(schema) ``zendesk``, the name ``zendesk.tickets`` can mean either, and every query fails with
"Ambiguous reference to catalog or schema". dlt's defaults lead straight into it: a pipeline
named ``zendesk`` writes ``zendesk.duckdb``, and a dataset named like the source is natural.
The CLI refuses such file names (``warehouse.target``); this is the same rule for the library,
checked once per HTTP client on its first request, when the running pipeline is known.
"""

from __future__ import annotations

import logging
from pathlib import Path

from common.errors import ConfigError

log = logging.getLogger("supportlake.http")


def refuse_ambiguous_duckdb() -> None:
    """Raise :class:`ConfigError` when the running dlt pipeline loads into a DuckDB file named
    like its dataset; do nothing outside a pipeline or for other destinations."""
    try:
        from dlt.common.configuration.container import Container
        from dlt.common.pipeline import PipelineContext

        context = Container()[PipelineContext]
        if not context.is_active():
            return
        pipeline = context.pipeline()
        destination = getattr(pipeline, "destination", None)
        if destination is None or destination.destination_type != "dlt.destinations.duckdb":
            return
        database = str(getattr(pipeline.destination_client().config.credentials, "database", ""))
        dataset = str(pipeline.dataset_name or "")
    except Exception:  # never let the check itself break a run
        log.debug("could not inspect the pipeline's destination", exc_info=True)
        return
    catalog = Path(database).name.split(".", 1)[0]
    if dataset and catalog.lower() == dataset.lower():
        raise ConfigError(
            f"the DuckDB file {database!r} is named like the dataset {dataset!r}: DuckDB names its catalog "
            f'after the file, so {dataset}.<table> would be ambiguous ("Ambiguous reference to catalog or '
            f'schema"). Name the file otherwise, e.g. dlt.destinations.duckdb("support_raw.duckdb"), '
            f"or the pipeline otherwise than the dataset (pipeline {pipeline.pipeline_name!r})"
        )
