"""The deployment files, read as data: documents, schemas and the CJO_ variables they set.

Nothing here reaches a network: the schemas are vendored in ``tests/deploy/schemas`` (see its
README) and ``kubernetes-validate`` bundles the Kubernetes ones.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = Path(__file__).resolve().parent / "schemas"
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
K8S = ROOT / "deploy" / "k8s"
STRIMZI = SCHEMAS / "strimzi-1.2.0"
KUBERNETES_VERSION = "1.33.0"  # the oldest Kubernetes the manifests are meant for

Doc = dict[str, Any]
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: the CRDs are 400 kB


def k8s_documents() -> Iterator[tuple[Path, Doc]]:
    """Every document of every manifest in deploy/k8s, with its file (a fresh copy each time:
    a test may change what it gets)."""
    for path, doc in _k8s_documents():
        yield path, copy.deepcopy(doc)


@functools.cache
def _k8s_documents() -> tuple[tuple[Path, Doc], ...]:
    return tuple((path, doc) for path in sorted(K8S.glob("*.yaml"))
                 for doc in yaml.load_all(path.read_text(), Loader=_Loader) if doc)


def by_kind(kind: str) -> list[Doc]:
    return [doc for _, doc in k8s_documents() if doc["kind"] == kind]


def compose() -> Doc:
    return copy.deepcopy(_compose())


@functools.cache
def _compose() -> Doc:
    loaded: Doc = yaml.load(COMPOSE.read_text(), Loader=_Loader)  # anchors, merge keys resolved
    return loaded


def crd_schema(kind: str) -> Doc:
    return copy.deepcopy(_crd_schema(kind))


@functools.cache
def _crd_schema(kind: str) -> Doc:
    """The ``openAPIV3Schema`` of Strimzi's CRD for ``kind`` (its served v1 version), made
    strict: an object with declared properties takes no other field, as the API server's strict
    field validation (``kubectl apply --validate=strict``) refuses unknown fields."""
    for path in STRIMZI.glob("*.yaml"):
        crd = yaml.load(path.read_text(), Loader=_Loader)
        if crd["spec"]["names"]["kind"] == kind:
            version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1")
            schema: Doc = _strict(version["schema"]["openAPIV3Schema"])
            return schema
    raise LookupError(f"no Strimzi CRD for {kind} in {STRIMZI}")


def _strict(schema: Any) -> Any:
    if isinstance(schema, dict):
        if ("properties" in schema and "additionalProperties" not in schema
                and not schema.get("x-kubernetes-preserve-unknown-fields")):
            schema["additionalProperties"] = False
        for value in schema.values():
            _strict(value)
    elif isinstance(schema, list):
        for value in schema:
            _strict(value)
    return schema


def pod_specs() -> Iterator[tuple[str, Doc]]:
    """(workload name, pod spec) of every workload in deploy/k8s."""
    for _, doc in k8s_documents():
        if doc["kind"] in ("StatefulSet", "Deployment", "Job"):
            yield doc["metadata"]["name"], doc["spec"]["template"]["spec"]


_INTERPOLATION = re.compile(r"^\$\{(\w+):-(.*)\}$")


def compose_env(service: Doc) -> dict[str, str]:
    """A compose service's environment as the container sees it, with ``${VAR:-default}``
    taken at its default."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    out = {}
    for name, value in env.items():
        text = str(value)
        match = _INTERPOLATION.match(text)
        out[name] = match.group(2) if match else text
    return out


def cjo_variables() -> dict[str, list[str]]:
    """Every CJO_ variable a deployment file sets -> where (file: place)."""
    found: dict[str, list[str]] = {}

    def add(name: str, where: str) -> None:
        if name.startswith("CJO_"):
            found.setdefault(name, []).append(where)

    for name, service in compose()["services"].items():
        for var in compose_env(service):
            add(var, f"docker-compose.yml: services.{name}.environment")
    for path, doc in k8s_documents():
        where = f"{path.relative_to(ROOT)}: {doc['kind']} {doc['metadata']['name']}"
        if doc["kind"] == "ConfigMap" and doc["metadata"]["name"] == "cjo-settings":
            for var in doc["data"]:
                add(var, where)
    for workload, spec in pod_specs():
        for container in spec["containers"]:
            for var in container.get("env", []):
                add(var["name"], f"deploy/k8s: {workload}")
    for line in DOCKERFILE.read_text().splitlines():
        for var in re.findall(r"\b(CJO_\w+)=", line):
            add(var, "deploy/Dockerfile")
    return found
