"""deploy/k8s, offline: every built-in object against the Kubernetes schemas (kubernetes-validate,
strict: an unknown field fails), every Strimzi resource against Strimzi's own CRD schema, and the
properties the runbook relies on."""

from __future__ import annotations

from typing import Any

import jsonschema
import kubernetes_validate
import pytest

from tests.deploy import manifests as m

_STRIMZI_KINDS = {"Kafka", "KafkaNodePool", "KafkaTopic"}
# the keys of the Secret cjo-secrets, as docs/operations.md creates it
SECRET_KEYS = ("models-key", "catalogue-key", "log-salt", "api-token", "sms-password",
               "email-token-secret",
               "push-secret")
_DOCS = list(m.k8s_documents())


def _id(item: tuple[Any, m.Doc]) -> str:
    return f"{item[0].name}:{item[1]['kind']}/{item[1]['metadata']['name']}"


@pytest.mark.parametrize("item", [d for d in _DOCS if d[1]["kind"] not in _STRIMZI_KINDS],
                         ids=_id)
def test_builtin_objects_match_the_kubernetes_schema(item: tuple[Any, m.Doc]) -> None:
    kubernetes_validate.validate(item[1], m.KUBERNETES_VERSION, strict=True)


def test_strimzi_resources_match_strimzi_crds() -> None:
    kinds = {doc["kind"] for _, doc in _DOCS}
    assert kinds >= _STRIMZI_KINDS
    schemas = {kind: m.crd_schema(kind) for kind in _STRIMZI_KINDS}
    for path, doc in _DOCS:
        if doc["kind"] in schemas:
            errors = sorted(jsonschema.Draft7Validator(schemas[doc["kind"]]).iter_errors(doc),
                            key=str)
            assert not errors, f"{path.name} {doc['metadata']['name']}: {errors[0].message} " \
                               f"at {list(errors[0].absolute_path)}"


def test_a_misspelt_field_is_refused() -> None:
    """The checks above would see a mistake: an unknown field in a StatefulSet and in a
    KafkaTopic, a string where Strimzi wants a number."""
    stateful = m.by_kind("StatefulSet")[0]
    bad = {**stateful, "spec": {**stateful["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, m.KUBERNETES_VERSION, strict=True)
    topic = m.by_kind("KafkaTopic")[0]
    validator = jsonschema.Draft7Validator(m.crd_schema("KafkaTopic"))
    assert not list(validator.iter_errors(topic))
    assert list(validator.iter_errors({**topic, "spec": {**topic["spec"], "partition": 3}}))
    assert list(validator.iter_errors({**topic, "spec": {**topic["spec"], "partitions": "3"}}))


def _container_env(spec: m.Doc) -> dict[str, m.Doc]:
    return {var["name"]: var for var in spec["containers"][0].get("env", [])}


def _settings() -> dict[str, str]:
    config = next(doc for doc in m.by_kind("ConfigMap")
                  if doc["metadata"]["name"] == "cjo-settings")
    data: dict[str, str] = config["data"]
    return data


def test_workers_are_a_statefulset_with_what_a_worker_needs() -> None:
    (workers,) = m.by_kind("StatefulSet")
    spec = workers["spec"]
    pod = spec["template"]["spec"]
    env = _container_env(pod)
    # a volume per pod, mounted where RocksDB lives
    (claim,) = spec["volumeClaimTemplates"]
    mounts = {v["name"]: v["mountPath"] for v in pod["containers"][0]["volumeMounts"]}
    assert mounts[claim["metadata"]["name"]] == env["CJO_DATA_DIR"]["value"]
    # static membership from the pod's name, kept across restarts
    assert env["CJO_GROUP_INSTANCE_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert int(env["CJO_STANDBY_REPLICAS"]["value"]) >= 1
    # probes on the worker's health endpoints, on the port it serves
    container = pod["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
    port = {p["name"]: p["containerPort"] for p in container["ports"]}["web"]
    assert int(env["CJO_WEB_PORT"]["value"]) == port
    # a drain (a batch, the commit, RocksDB closed) fits in the grace period, and a restarted
    # pod is back within its session timeout only if the grace period is not all of it
    # (a minute for those after the drain delay, in which input still flows)
    assert pod["terminationGracePeriodSeconds"] >= float(env["CJO_DRAIN_DELAY_S"]["value"]) + 60
    # the address the other workers forward to is this pod's own, through the headless service
    assert env["CJO_WEB_URL"]["value"] == f"http://$(POD_NAME).{spec['serviceName']}:{port}"
    assert env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert list(env).index("POD_NAME") < list(env).index("CJO_WEB_URL")  # $(POD_NAME) expands
    assert env["CJO_WEB_BIND"]["value"] == "0.0.0.0"
    # no more workers than partitions, and the secrets from the Secret
    assert spec["replicas"] <= int(_settings()["CJO_PARTITIONS"])
    for secret in ("CJO_MODELS_KEY", "CJO_CATALOGUE_KEY", "CJO_LOG_SALT", "CJO_API_TOKEN"):
        assert env[secret]["valueFrom"]["secretKeyRef"]["name"] == "cjo-secrets"
    # the headless service the StatefulSet names exists
    services = {s["metadata"]["name"]: s for s in m.by_kind("Service")}
    assert services[spec["serviceName"]]["spec"]["clusterIP"] == "None"


def test_the_disruption_budget_covers_the_workers() -> None:
    (budget,) = m.by_kind("PodDisruptionBudget")
    (workers,) = m.by_kind("StatefulSet")
    labels = workers["spec"]["template"]["metadata"]["labels"]
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert budget["spec"]["maxUnavailable"] == 1


def test_every_container_requests_resources_and_runs_unprivileged() -> None:
    for workload, pod in m.pod_specs():
        assert pod["securityContext"]["runAsNonRoot"] is True, workload
        for container in pod["containers"]:
            requests = container["resources"]["requests"]
            assert {"cpu", "memory"} <= requests.keys(), workload
            assert "memory" in container["resources"]["limits"], workload
            assert container["securityContext"]["allowPrivilegeEscalation"] is False, workload


def test_gateways_are_deployments_one_per_channel() -> None:
    from cjo.stream_registry import CHANNELS

    commands = {tuple(d["spec"]["template"]["spec"]["containers"][0]["args"])
                for d in m.by_kind("Deployment")}
    assert commands == {("gateway", channel) for channel in CHANNELS}


def test_the_catalogue_job_applies_the_configmap_and_it_validates() -> None:
    from cjo.catalogue.validate import load_catalogue

    (job,) = m.by_kind("Job")
    pod = job["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["args"][:2] == ["catalogue", "apply"]
    volume = next(v for v in pod["volumes"] if "configMap" in v)
    mount = next(v["mountPath"] for v in container["volumeMounts"]
                 if v["name"] == volume["name"])
    config = next(c for c in m.by_kind("ConfigMap")
                  if c["metadata"]["name"] == volume["configMap"]["name"])
    files = [a for a in container["args"] if a.startswith(mount + "/")]
    assert sorted(f.rsplit("/", 1)[1] for f in files) == sorted(config["data"])
    catalogue = load_catalogue([(name, text) for name, text in config["data"].items()])
    assert catalogue.enabled()
    # it signs what it publishes with the key the workers check (the Secret's, not the public one)
    key = {v["name"]: v for v in container.get("env", [])}["CJO_CATALOGUE_KEY"]
    assert key["valueFrom"]["secretKeyRef"] == {"name": "cjo-secrets", "key": "catalogue-key"}


def test_every_workload_reads_the_settings_and_secrets_declared() -> None:
    runbook = (m.ROOT / "docs/operations.md").read_text()
    for key in SECRET_KEYS:
        assert f"--from-literal={key}=" in runbook
    config_maps = {c["metadata"]["name"] for c in m.by_kind("ConfigMap")}
    for workload, pod in m.pod_specs():
        for container in pod["containers"]:
            for source in container.get("envFrom", []):
                assert source["configMapRef"]["name"] in config_maps, workload
            for var in container.get("env", []):
                ref = var.get("valueFrom", {}).get("secretKeyRef")
                if ref:  # the one Secret the runbook tells how to create, with these keys
                    assert ref["name"] == "cjo-secrets", workload
                    assert ref["key"] in SECRET_KEYS, workload
