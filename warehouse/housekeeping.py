"""Keeping dlt's local working folder small.

dlt keeps every load package it has loaded under ``<pipelines_dir>/<pipeline>/load/loaded/`` —
the Parquet files, the schema and the job states — and never removes them: a 200k-ticket sync
left 175 MB, and every later run added its own. Nothing reads them again (the counts a run
reports come from its trace in memory, cursors live in dlt's state and in the warehouse), so
each successful load removes them.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("supportlake.sync")


def prune_loaded_packages(pipeline: Any) -> int:
    """Delete the completed (loaded) packages of ``pipeline``; the number deleted. Pending
    packages — extracted or normalized, not yet loaded — are kept: the next run completes them."""
    storage = pipeline._get_load_storage()
    loaded = storage.loaded_packages
    pruned = 0
    for load_id in loaded.list_packages():
        loaded.delete_package(load_id)
        pruned += 1
    if pruned:
        log.debug("%s: removed %d loaded package(s)", pipeline.pipeline_name, pruned)
    return pruned
