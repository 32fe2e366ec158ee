"""Recovery from the state a kill between dlt's normalize commit and its clean-up leaves.

dlt normalizes into load/new/<id>, renames that to load/normalized/<id>, then deletes the
extracted package. Killed after the rename, both copies exist and dlt's next normalize fails
('Directory not empty'). This test builds that state exactly, without relying on kill timing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import dlt
import pyarrow as pa

from warehouse.sql import connection
from warehouse.sync import complete_pending
from warehouse.target import parse_target


@dlt.resource(name="items", primary_key="id", write_disposition="merge")
def items() -> object:
    yield pa.table({"id": [1, 2, 3], "v": ["a", "b", "c"]})


def test_a_package_both_extracted_and_normalized_loads_once(tmp_path: Path) -> None:
    target = parse_target(f"duckdb:///{tmp_path / 'wh.duckdb'}")
    pipeline = dlt.pipeline(
        "stale_test", pipelines_dir=str(tmp_path / "pl"), destination=target.destination(), dataset_name="raw"
    )
    pipeline.extract(items())
    (load_id,) = pipeline.list_extracted_load_packages()
    extracted = Path(pipeline.working_dir) / "normalize" / "extracted" / load_id
    saved = tmp_path / "saved_package"
    shutil.copytree(extracted, saved)
    pipeline.normalize()  # commits load/normalized/<id> and deletes the extracted package
    shutil.copytree(saved, extracted)  # ... as if killed before that deletion
    assert pipeline.list_extracted_load_packages() == [load_id]
    assert pipeline.list_normalized_load_packages() == [load_id]

    assert complete_pending(pipeline)

    assert not pipeline.has_pending_data
    with connection(target) as con:
        assert con.query("select id, v from raw.items order by id") == [(1, "a"), (2, "b"), (3, "c")]
