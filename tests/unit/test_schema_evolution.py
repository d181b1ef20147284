"""Schema evolution: `cjo schemas check` and decoding records of older and newer writers."""

from __future__ import annotations

import copy
import io
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastavro import schemaless_writer
from fastavro.schema import parse_schema, to_parsing_canonical_form

from cjo import cli
from cjo.codec import decode, record_names, wire
from cjo.codec.evolution import Problem, check_release, check_schemas, register_writer_schemas
from cjo.codec.schemas import fingerprint_of, schema_dir, schema_json, strip_logical_types
from cjo.errors import ConfigError, DecodeError

from .test_codec import SAMPLES, sample

Change = Callable[[dict[str, Any]], None]


def _field(record: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(f for f in record["fields"] if f["name"] == name)
    return found


def _changed(name: str, change: Change) -> dict[str, Any]:
    new = copy.deepcopy(schema_json(name))
    change(new)
    return new


def written_with(writer: dict[str, Any], record: dict[str, Any]) -> bytes:
    """``record`` as a producer holding the schema ``writer`` puts it on the wire."""
    parsed = parse_schema(strip_logical_types(writer))
    stream = io.BytesIO()
    schemaless_writer(stream, parsed, record)
    return wire.MAGIC + fingerprint_of(to_parsing_canonical_form(parsed)) + stream.getvalue()


@pytest.fixture
def fresh_readings() -> Iterator[None]:
    """The decoder's table of writer schemas rebuilt before and after the test."""
    wire._readings.cache_clear()
    yield
    wire._readings.cache_clear()


# --- the check ---------------------------------------------------------------------------------


def test_the_repository_schemas_pass_the_check() -> None:
    previous = {p.stem for p in (schema_dir() / "previous").glob("*.avsc")}
    # a record new since the previous release has nothing to stay compatible with
    assert previous and previous <= set(record_names())
    assert check_release() == []
    assert cli.main(["schemas", "check"]) == 0


COMPATIBLE: list[tuple[str, Change]] = [
    ("DeadLetter", lambda s: s["fields"].append(
        {"name": "attempts", "type": ["null", "int"], "default": None})),
    ("DeadLetter", lambda s: s["fields"].append(
        {"name": "stage", "type": "string", "default": "decode"})),
    ("ChargingEvent", lambda s: _field(s, "request_type")["type"]["symbols"].insert(4, "INTERIM")),
    ("SubscriberProfile", lambda s: _field(s, "trials")["type"]["items"]["fields"][2]["type"][
        "symbols"].insert(0, "PAUSED")),
    ("ChargingEvent", lambda s: s["fields"].remove(_field(s, "bundle_id"))),  # had a default
    ("UsageEvent", lambda s: _field(s, "duration_ms").update(doc="changed doc only")),
]


@pytest.mark.parametrize(("name", "change"), COMPATIBLE)
def test_compatible_changes_pass(name: str, change: Change) -> None:
    assert check_schemas(name, schema_json(name), _changed(name, change)) == []


INCOMPATIBLE: list[tuple[str, Change, str, str]] = [
    # (record, change, field, words of the reason)
    ("DeadLetter", lambda s: s["fields"].append({"name": "stage", "type": "string"}),
     "stage", "field added without default"),
    ("ChargingEvent", lambda s: s["fields"].remove(_field(s, "session_id")),
     "session_id", "field removed without default"),
    ("ChargingEvent", lambda s: _field(s, "session_id").update(type="long"),
     "session_id", "type changed (reader type: long not compatible with writer type: string)"),
    ("ChargingEvent", lambda s: _field(s, "used_total_octets").update(type="int"),
     "used_total_octets", "type changed"),
    ("ChargingEvent", lambda s: _field(s, "rating_group").update(type=["null", "string"]),
     "rating_group", "union branch missing"),
    ("ChargingEvent", lambda s: _field(s, "request_type")["type"]["symbols"].remove("EVENT"),
     "request_type", "enum symbol EVENT removed from cjo.v1.RequestType"),
    ("ChargingEvent", lambda s: _field(s, "request_type")["type"].pop("default"),
     "request_type", "enum default removed from cjo.v1.RequestType"),
    ("DeadLetter", lambda s: _field(s, "key").pop("default"), "key", "default removed"),
    ("SubscriberProfile", lambda s: _field(s, "trials")["type"]["items"]["fields"][2]["type"][
        "symbols"].remove("CANCELLED"), "trials", "enum symbol CANCELLED removed"),
]


@pytest.mark.parametrize(("name", "change", "field", "words"), INCOMPATIBLE)
def test_incompatible_changes_are_refused(name: str, change: Change, field: str,
                                          words: str) -> None:
    problems = check_schemas(name, schema_json(name), _changed(name, change))
    assert problems, "an incompatible change passed"
    assert {p.schema for p in problems} == {name}
    assert {p.field for p in problems} == {field}
    assert any(words in p.reason for p in problems), problems


def test_check_refuses_a_removed_schema_and_a_rename(tmp_path: Path) -> None:
    current = tmp_path / "current"
    shutil.copytree(schema_dir() / "previous", current)
    (current / "Outcome.avsc").unlink()
    renamed = _changed("Offer", lambda s: s.update(namespace="cjo.v2"))
    (current / "Offer.avsc").write_text(json.dumps(renamed))
    assert check_release(current) == [
        Problem("Offer", "-", "record renamed (full name changed)"),
        Problem("Outcome", "-", "schema removed"),
    ]


def test_cli_exits_1_naming_schema_field_and_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    current = tmp_path / "current"
    shutil.copytree(schema_dir() / "previous", current)
    (current / "README.md").unlink()
    changed = _changed("UsageEvent", lambda s: s["fields"].remove(_field(s, "app_id")))
    (current / "UsageEvent.avsc").write_text(json.dumps(changed))

    assert cli.main(["schemas", "check", "--current", str(current)]) == 1
    err = capsys.readouterr().err
    assert err == ("incompatible: UsageEvent.app_id: field removed without default (the "
                   "previous release cannot read new records)\n")


def test_cli_passes_a_compatible_change(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    current = tmp_path / "current"
    shutil.copytree(schema_dir() / "previous", current)
    changed = _changed("DeadLetter", COMPATIBLE[0][1])
    (current / "DeadLetter.avsc").write_text(json.dumps(changed))
    assert cli.main(["schemas", "check", "--current", str(current)]) == 0
    assert capsys.readouterr().out.startswith("OK: schemas compatible with release ")


# --- decoding older and newer writers ------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_records_of_the_previous_release_decode(name: str) -> None:
    previous = json.loads((schema_dir() / "previous" / f"{name}.avsc").read_text())
    assert decode(written_with(previous, SAMPLES[name])) == (name, SAMPLES[name])


def test_previous_release_schemas_are_registered_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_readings: None
) -> None:
    """A release that added ``slice_id`` still reads what the previous release's producers
    write: schemas/previous/ is read by every decoder without any setting."""
    older = copy.deepcopy(schema_json("ChargingEvent"))
    older["fields"].remove(_field(older, "bundle_id"))
    (tmp_path / "ChargingEvent.avsc").write_text(json.dumps(older))
    monkeypatch.setattr(wire, "previous_schema_dir", lambda: tmp_path)
    written = {k: v for k, v in SAMPLES["ChargingEvent"].items() if k != "bundle_id"}

    _, record = decode(written_with(older, written), expected="ChargingEvent")
    assert record == sample("ChargingEvent", bundle_id=None)


def test_newer_writer_schemas_decode_once_registered(tmp_path: Path,
                                                      fresh_readings: None) -> None:
    def newer_release(s: dict[str, Any]) -> None:
        _field(s, "event_type")["type"]["symbols"].insert(0, "PAGING")
        s["fields"].append({"name": "slice_id", "type": ["null", "string"], "default": None})

    newer = _changed("LocationEvent", newer_release)
    (tmp_path / "LocationEvent.avsc").write_text(json.dumps(newer))
    data = written_with(newer, sample("LocationEvent", event_type="PAGING", slice_id="embb"))
    with pytest.raises(DecodeError, match="CJO_WRITER_SCHEMAS"):
        decode(data)

    assert register_writer_schemas([tmp_path]) == ["LocationEvent"]
    assert decode(data) == ("LocationEvent", sample("LocationEvent", event_type="UNKNOWN"))


def test_a_bad_writer_schema_setting_is_a_one_line_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^CJO_WRITER_SCHEMAS: .*missing\.avsc is neither"):
        register_writer_schemas([tmp_path / "missing.avsc"])
    (tmp_path / "Broken.avsc").write_text("{not json")
    with pytest.raises(ConfigError, match=r"Broken\.avsc: Expecting property name"):
        register_writer_schemas([tmp_path])
    (tmp_path / "Broken.avsc").write_text(json.dumps(
        {"type": "record", "name": "Other", "namespace": "x", "fields": []}))
    with pytest.raises(ConfigError, match=r"'x\.Other' is none of our records"):
        register_writer_schemas([tmp_path])


def test_cli_names_a_missing_previous_directory(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere"
    assert cli.main(["schemas", "check", "--previous", str(missing)]) == 2
    assert capsys.readouterr().err == f"cjo: schema directory {missing} does not exist\n"


def test_a_previous_schema_of_a_dropped_record_does_not_stop_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_readings: None
) -> None:
    gone = {"type": "record", "name": "Gone", "namespace": "cjo.v1",
            "fields": [{"name": "x", "type": "string"}]}
    (tmp_path / "Gone.avsc").write_text(json.dumps(gone))
    monkeypatch.setattr(wire, "previous_schema_dir", lambda: tmp_path)
    data = written_with(schema_json("Outcome"), SAMPLES["Outcome"])
    assert decode(data) == ("Outcome", SAMPLES["Outcome"])
