"""A live worker with the public default models key or log salt refuses to start, in one line
naming the setting, before it talks to any broker; a development run may use them."""

from __future__ import annotations

import pytest

from cjo import cli
from cjo.errors import ConfigError
from cjo.settings import Settings, refuse_public_defaults


@pytest.mark.parametrize(("secret_env", "public"), [("CJO_MODELS_KEY", "CJO_LOG_SALT"),
                                                    ("CJO_LOG_SALT", "CJO_MODELS_KEY")])
def test_the_public_default_is_refused(monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str], secret_env: str,
                                       public: str) -> None:
    monkeypatch.setenv("CJO_DEVELOPMENT", "false")
    monkeypatch.setenv(secret_env, "a-secret-of-our-own")
    monkeypatch.delenv(public, raising=False)
    monkeypatch.setenv("CJO_BROKER", "127.0.0.1:1")  # nothing listens: never reached
    assert cli.main(["worker"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"cjo: {public} is the public default"), err


def test_a_development_run_may_use_them() -> None:
    refuse_public_defaults(Settings(development=True))  # no ConfigError
    with pytest.raises(ConfigError, match="CJO_MODELS_KEY"):
        refuse_public_defaults(Settings(development=False))
