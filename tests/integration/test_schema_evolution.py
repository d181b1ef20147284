"""A worker reads the records of a newer producer once CJO_WRITER_SCHEMAS lists its schema."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cjo.adapters.broker import Broker
from cjo.codec.schemas import schema_json
from tests.integration.pipeline import Pipeline
from tests.unit.test_schema_evolution import written_with

pytestmark = pytest.mark.integration

T0 = 1_767_261_600_000
IMSI = "234150000000042"


def newer_location_schema(symbol: str, field: str) -> dict[str, Any]:
    newer = copy.deepcopy(schema_json("LocationEvent"))
    event_type = next(f for f in newer["fields"] if f["name"] == "event_type")
    event_type["type"]["symbols"].insert(0, symbol)
    newer["fields"].append({"name": field, "type": ["null", "string"], "default": None})
    return newer


def location(**extra: Any) -> dict[str, Any]:
    return {"event_id": "l1", "event_time": T0, "imsi": IMSI, "msisdn": None,
            "event_type": "ATTACH", "home_plmn": "23415", "serving_plmn": "20801", "tac": None,
            "cell_id": None, "lat": None, "lon": None, "imeisv": None, **extra}


@pytest.fixture
def writers(tmp_path: Path) -> Path:
    directory = tmp_path / "writers"
    directory.mkdir()
    (directory / "LocationEvent.avsc").write_text(
        json.dumps(newer_location_schema("PAGING", "slice_id")))
    return directory


@pytest.fixture
def pipeline(broker: Broker, unique_prefix: str, tmp_path: Path,
             writers: Path) -> Iterator[Pipeline]:
    p = Pipeline(broker.bootstrap, unique_prefix, tmp_path, partitions=1,
                 writer_schemas=str(writers))
    yield p
    p.stop()


def test_registered_newer_records_are_used_unknown_ones_dead_lettered(pipeline: Pipeline) -> None:
    registered = newer_location_schema("PAGING", "slice_id")
    unregistered = newer_location_schema("PAGING", "cell_name")
    pipeline.start_worker()
    pipeline.produce_raw("location", IMSI.encode(),
                         written_with(registered, location(event_type="PAGING", slice_id="e")))
    unknown = written_with(unregistered, location(event_id="l2", cell_name="x"))
    pipeline.produce_raw("location", IMSI.encode(), unknown)
    pipeline.wait()

    letters = pipeline.dead_letters()
    assert [(d["payload"], d["source_offset"]) for d in letters] == [(unknown, 1)]
    assert "unknown schema fingerprint" in letters[0]["error"]
    assert "CJO_WRITER_SCHEMAS" in letters[0]["error"]
