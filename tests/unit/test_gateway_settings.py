"""Every gateway setting (the shared ones and each channel module's) is documented, and a
channel without its required settings is refused in one line."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from cjo.adapters.gateways import channel_factory
from cjo.adapters.gateways.settings import GatewaySettings
from cjo.errors import ConfigError
from cjo.stream_registry import CHANNELS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def _settings_classes() -> list[type[BaseSettings]]:
    found: list[type[BaseSettings]] = [GatewaySettings]
    for name in CHANNELS:
        try:
            module = importlib.import_module(f"cjo.adapters.gateways.{name}")
        except ModuleNotFoundError:
            continue
        found += [c for _, c in inspect.getmembers(module, inspect.isclass)
                  if issubclass(c, BaseSettings) and c.__module__ == module.__name__]
    return found


def test_every_gateway_setting_has_a_row_in_docs_settings() -> None:
    text = DOCS.read_text(encoding="utf-8")
    classes = _settings_classes()
    assert len(classes) >= 3
    missing = [f"{c.model_config['env_prefix']}{n}".upper() for c in classes
               for n in c.model_fields
               if f"`{c.model_config['env_prefix']}{n}`".upper() not in text.upper()]
    assert missing == []


def test_push_without_its_url_or_secret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CJO_PUSH_URL", raising=False)
    with pytest.raises(ConfigError, match="CJO_PUSH_URL"):
        channel_factory("push")()
    monkeypatch.setenv("CJO_PUSH_URL", "https://push.example/notify")
    monkeypatch.setenv("CJO_PUSH_SECRET", "not-whsec")
    with pytest.raises(ConfigError, match="CJO_PUSH_SECRET"):
        channel_factory("push")()


def test_a_channel_without_a_module_is_named() -> None:
    with pytest.raises(ConfigError, match=r"rcs\.py is missing"):
        channel_factory("rcs")
