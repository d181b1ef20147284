"""Every CJO_ variable the deployment files set is a cjo setting, with a value it accepts."""

from __future__ import annotations

import pytest

from cjo.settings import Settings
from tests.deploy import manifests as m

KNOWN = {f"CJO_{name.upper()}" for name in Settings.model_fields}


def test_every_cjo_variable_in_the_deploy_files_is_a_setting() -> None:
    found = m.cjo_variables()
    assert {"CJO_BROKER", "CJO_GROUP_INSTANCE_ID", "CJO_MODELS_KEY", "CJO_LOG_SALT"} <= set(found)
    unknown = {name: where for name, where in found.items() if name not in KNOWN}
    assert not unknown, f"not cjo settings (cjo/settings.py): {unknown}"


@pytest.mark.parametrize("service", sorted(m.compose()["services"]))
def test_compose_values_are_accepted(service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in m.compose_env(m.compose()["services"][service]).items():
        monkeypatch.setenv(name, value)
    Settings()  # raises on a value a setting refuses


def test_kubernetes_values_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    config = next(c for c in m.by_kind("ConfigMap") if c["metadata"]["name"] == "cjo-settings")
    for name, value in config["data"].items():
        monkeypatch.setenv(name, value)
    for _, pod in m.pod_specs():
        for var in pod["containers"][0].get("env", []):
            if "value" in var:
                monkeypatch.setenv(var["name"], var["value"])
    settings = Settings()
    assert settings.replication_factor >= settings.min_insync_replicas


def test_no_live_process_runs_on_the_public_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The compose workers start (their secrets are not cjo's public defaults, and they are not
    development runs); the Kubernetes ones take both secrets from the Secret."""
    from cjo.settings import refuse_public_defaults

    for name, service in m.compose()["services"].items():
        env = m.compose_env(service)
        if service.get("command") == ["worker"]:
            assert env.get("CJO_DEVELOPMENT", "false") == "false", name
            with monkeypatch.context() as patch:
                for var, value in env.items():
                    patch.setenv(var, value)
                refuse_public_defaults(Settings())
