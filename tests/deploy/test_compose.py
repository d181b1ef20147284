"""docker-compose.yml, offline: the compose specification's schema, and what the laptop setup
promises (two workers sharing the partitions, each with its own volume and member id; the
gateways; Prometheus scraping every worker; every file it mounts present)."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from tests.deploy import manifests as m


def _validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads((m.SCHEMAS / "compose-spec.json").read_text()))


def test_compose_file_matches_the_compose_specification() -> None:
    errors = sorted(_validator().iter_errors(m.compose()), key=str)
    assert not errors, f"{errors[0].message} at {list(errors[0].absolute_path)}"


def test_the_schema_check_sees_a_mistake() -> None:
    spec = m.compose()
    spec["services"]["worker-1"]["depends_on"]["topics"]["condition"] = "bogus"
    assert list(_validator().iter_errors(spec))
    spec = m.compose()
    spec["services"]["worker-1"]["restrat"] = "always"
    assert list(_validator().iter_errors(spec))


def _workers() -> dict[str, m.Doc]:
    return {name: s for name, s in m.compose()["services"].items()
            if s.get("command") == ["worker"]}


def test_two_workers_each_with_its_own_state_and_member_id() -> None:
    workers = _workers()
    assert len(workers) == 2
    envs = [m.compose_env(s) for s in workers.values()]
    assert len({e["CJO_GROUP_INSTANCE_ID"] for e in envs}) == 2
    assert len({e["CJO_PARTITIONS"] for e in envs}) == 1
    data_volumes = set()
    for service in workers.values():
        (volume,) = [v.split(":")[0] for v in service["volumes"] if v.split(":")[1] == "/data"]
        data_volumes.add(volume)
    assert len(data_volumes) == 2
    assert data_volumes <= set(m.compose()["volumes"])


def test_the_gateways_run_one_per_channel() -> None:
    from cjo.stream_registry import CHANNELS

    commands = {tuple(s["command"]) for s in m.compose()["services"].values()
                if s.get("command", [""])[0] == "gateway"}
    assert commands == {("gateway", channel) for channel in CHANNELS}


def test_prometheus_scrapes_every_worker() -> None:
    config = yaml.safe_load((m.ROOT / "deploy/compose/prometheus.yml").read_text())
    targets = {t for job in config["scrape_configs"] for sc in job["static_configs"]
               for t in sc["targets"]}
    port = m.compose_env(next(iter(_workers().values())))
    assert targets == {f"{name}:{port.get('CJO_WEB_PORT', '6066')}" for name in _workers()}


@pytest.mark.parametrize("service", sorted(m.compose()["services"]))
def test_every_mounted_file_exists(service: str) -> None:
    for volume in m.compose()["services"][service].get("volumes", []):
        source = volume.split(":")[0]
        if source.startswith("."):
            assert (m.ROOT / source).exists(), f"{service}: {source}"
