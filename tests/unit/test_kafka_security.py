"""SASL/TLS settings reach every Kafka client cjo creates, and the secrets no output."""

from __future__ import annotations

import ast
import shutil
import ssl
import subprocess
from pathlib import Path

import faust
import pytest
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from pydantic import ValidationError

from cjo.adapters import kafka_admin
from cjo.adapters.kafka_security import (
    aiokafka_security,
    confluent_config,
    confluent_security,
    faust_security,
    ssl_context,
)
from cjo.settings import load

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "pw-Zq81-never-logged"
KEY_PASSWORD = "kp-Xy55-never-logged"
SASL = {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_username": "cjo-worker", "sasl_password": PASSWORD}


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A self-signed certificate (also the CA file) and its key, encrypted with KEY_PASSWORD."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-keyout", str(key),
                    "-out", str(cert), "-days", "1", "-subj", "/CN=cjo-test",
                    "-passout", f"pass:{KEY_PASSWORD}"], check=True, capture_output=True)
    return {"ssl_cafile": str(cert), "ssl_certfile": str(cert), "ssl_keyfile": str(key),
            "ssl_password": KEY_PASSWORD}


def test_plaintext_adds_nothing() -> None:
    settings = load()
    assert settings.security_protocol == "PLAINTEXT"
    assert confluent_security(settings) == {}
    assert confluent_config("h:1", {"group.id": "g"}, settings) == {
        "bootstrap.servers": "h:1", "group.id": "g"}
    assert aiokafka_security(settings) == {}
    assert faust_security(settings) == {}


def test_confluent_maps_every_setting(tls_files: dict[str, str]) -> None:
    settings = load(**{**SASL, **tls_files, "security_protocol": "SASL_SSL"})
    assert confluent_security(settings) == {
        "security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "cjo-worker", "sasl.password": PASSWORD,
        "ssl.ca.location": tls_files["ssl_cafile"],
        "ssl.certificate.location": tls_files["ssl_certfile"],
        "ssl.key.location": tls_files["ssl_keyfile"], "ssl.key.password": KEY_PASSWORD}
    assert confluent_security(load(**SASL)) == {
        "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "cjo-worker", "sasl.password": PASSWORD}
    assert confluent_security(load(security_protocol="SSL", ssl_cafile="/ca.pem")) == {
        "security.protocol": "SSL", "ssl.ca.location": "/ca.pem"}


def test_helpers_that_know_only_a_bootstrap_read_the_environment(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in SASL.items():
        monkeypatch.setenv(f"CJO_{name.upper()}", value)
    expected = {"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "SCRAM-SHA-512",
                "sasl.username": "cjo-worker", "sasl.password": PASSWORD}
    produced = kafka_admin.producer_config("h:1", linger_ms=7)
    assert produced.items() >= {**expected, "linger.ms": 7, "bootstrap.servers": "h:1"}.items()
    assert confluent_config("h:1").items() >= expected.items()


def test_aiokafka_maps_every_setting(tls_files: dict[str, str]) -> None:
    kwargs = aiokafka_security(load(**{**SASL, **tls_files, "security_protocol": "SASL_SSL"}))
    context = kwargs.pop("ssl_context")
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert kwargs == {"security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512",
                      "sasl_plain_username": "cjo-worker", "sasl_plain_password": PASSWORD}
    assert aiokafka_security(load(**SASL)) == {
        "security_protocol": "SASL_PLAINTEXT", "ssl_context": None,
        "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": "cjo-worker",
        "sasl_plain_password": PASSWORD}


def test_ssl_context_loads_the_ca_and_the_client_certificate(tls_files: dict[str, str]) -> None:
    context = ssl_context(load(security_protocol="SSL", **tls_files))
    assert context is not None
    assert [c["subject"] for c in context.get_ca_certs()] == [((("commonName", "cjo-test"),),)]
    wrong = {**tls_files, "ssl_password": "not-the-key-password"}
    with pytest.raises(ssl.SSLError):
        ssl_context(load(security_protocol="SSL", **wrong))


@pytest.mark.parametrize("protocol", ["SASL_PLAINTEXT", "SASL_SSL", "SSL"])
def test_faust_gets_credentials_its_aiokafka_clients_use(protocol: str) -> None:
    settings = load(**{**SASL, "security_protocol": protocol})
    credentials = faust_security(settings)["broker_credentials"]
    app = faust.App("security-test", broker="kafka://127.0.0.1:1", broker_credentials=credentials)
    auth = credentials_to_aiokafka_auth(app.conf.broker_credentials)
    assert auth["security_protocol"] == protocol
    assert isinstance(auth["ssl_context"], ssl.SSLContext) == protocol.endswith("SSL")
    if protocol.startswith("SASL_"):
        assert (auth["sasl_mechanism"], auth["sasl_plain_username"],
                auth["sasl_plain_password"]) == ("SCRAM-SHA-512", "cjo-worker", PASSWORD)


def test_sasl_without_a_user_is_refused() -> None:
    with pytest.raises(ValidationError, match="CJO_SASL_USERNAME is required"):
        load(security_protocol="SASL_SSL")


def test_secrets_never_show_in_settings_output(tls_files: dict[str, str]) -> None:
    settings = load(**{**SASL, **tls_files, "security_protocol": "SASL_SSL"})
    for shown in (repr(settings), str(settings), settings.model_dump_json(),
                  repr(faust_security(settings)["broker_credentials"])):
        assert PASSWORD not in shown and KEY_PASSWORD not in shown
    assert "sasl_password=SecretStr('**********')" in repr(settings)


# --- no client constructor bypasses the builders -------------------------------------------------

CONSTRUCTORS = {"Producer", "Consumer", "AdminClient", "AIOKafkaConsumer", "AIOKafkaProducer",
                "AIOKafkaClient", "App", "SerializingProducer", "DeserializingConsumer"}
BUILDERS = {"confluent_config", "producer_config", "aiokafka_security", "faust_security"}
# the embedded broker's own readiness probe: a loopback Tansu that has no SASL or TLS
EXEMPT = {("cjo/adapters/broker.py", "AdminClient")}


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def client_constructions() -> list[tuple[str, int, str, bool]]:
    """(file, line, constructor, routed through a builder) of every Kafka client cjo creates."""
    found = []
    for path in sorted([*ROOT.glob("cjo/**/*.py"), *ROOT.glob("streams/**/*.py")]):
        relative = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(), relative)):
            if not isinstance(node, ast.Call) or _name(node.func) not in CONSTRUCTORS:
                continue
            if _name(node.func) == "App" and _name(getattr(node.func, "value", node)) != "faust":
                continue
            arguments = [*node.args, *(k.value for k in node.keywords)]
            routed = any(isinstance(inner, ast.Call) and _name(inner.func) in BUILDERS
                         for argument in arguments for inner in ast.walk(argument))
            found.append((relative, node.lineno, _name(node.func), routed))
    return found


def test_every_kafka_client_gets_its_config_from_a_builder() -> None:
    found = client_constructions()
    assert {c for _, _, c, _ in found} >= {"Producer", "Consumer", "AdminClient",
                                          "AIOKafkaConsumer", "App"}
    bypassing = [f"{file}:{line}: {name}" for file, line, name, routed in found
                 if not routed and (file, name) not in EXEMPT]
    assert bypassing == [], "Kafka clients built without cjo.adapters.kafka_security"



def test_every_setting_is_documented_in_the_readme() -> None:
    from cjo.settings import Settings

    section = (ROOT / "docs" / "settings.md").read_text()
    assert [n for n in Settings.model_fields if f"`CJO_{n.upper()}`" not in section] == []
