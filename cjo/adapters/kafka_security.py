"""How cjo's Kafka clients authenticate and encrypt: one builder per client library.

Every client cjo creates gets its security settings here (``CJO_SECURITY_PROTOCOL``,
``CJO_SASL_*``, ``CJO_SSL_*``; docs/security.md):

- :func:`confluent_config`: confluent-kafka ``Producer``, ``Consumer``, ``AdminClient``;
- :func:`aiokafka_security`: keyword arguments of ``AIOKafkaConsumer`` / ``AIOKafkaProducer``;
- :func:`faust_security`: keyword arguments of ``faust.App`` (its own aiokafka clients).

A builder called without settings reads them from the environment, so helpers that only know a
bootstrap string (and child processes, which inherit the environment) get the same security.
With ``PLAINTEXT`` (the default) every builder adds nothing. Secrets are ``SecretStr`` in the
settings and leave them only here, into the clients' configurations, which cjo never logs.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import Any

from cjo.settings import Settings, load


def _settings(settings: Settings | None) -> Settings:
    return settings if settings is not None else load()


def confluent_security(settings: Settings | None = None) -> dict[str, str]:
    """librdkafka's security properties for these settings (empty for PLAINTEXT)."""
    s = _settings(settings)
    if s.security_protocol == "PLAINTEXT":
        return {}
    config: dict[str, str] = {"security.protocol": s.security_protocol}
    if s.security_protocol.startswith("SASL_"):
        config.update({"sasl.mechanism": s.sasl_mechanism, "sasl.username": s.sasl_username,
                       "sasl.password": s.sasl_password.get_secret_value()})
    if s.security_protocol.endswith("SSL"):
        optional = {"ssl.ca.location": s.ssl_cafile, "ssl.certificate.location": s.ssl_certfile,
                    "ssl.key.location": s.ssl_keyfile,
                    "ssl.key.password": s.ssl_password.get_secret_value()}
        config.update({name: value for name, value in optional.items() if value})
    return config


def confluent_config(bootstrap: str, properties: Mapping[str, Any] | None = None,
                     settings: Settings | None = None) -> dict[str, Any]:
    """A confluent-kafka client configuration: ``bootstrap.servers``, the security properties,
    then ``properties`` (librdkafka names: ``{"group.id": "g"}``)."""
    return {"bootstrap.servers": bootstrap, **confluent_security(settings), **(properties or {})}


def ssl_context(settings: Settings | None = None) -> ssl.SSLContext | None:
    """The TLS context of the Python clients (aiokafka, faust); None unless SSL/SASL_SSL."""
    s = _settings(settings)
    if not s.security_protocol.endswith("SSL"):
        return None
    # verifies the brokers' certificates and host names; the system's CAs unless CJO_SSL_CAFILE
    context = ssl.create_default_context(cafile=s.ssl_cafile or None)
    if s.ssl_certfile:
        context.load_cert_chain(s.ssl_certfile, s.ssl_keyfile or None,
                                s.ssl_password.get_secret_value() or None)
    return context


def aiokafka_security(settings: Settings | None = None) -> dict[str, Any]:
    """Keyword arguments of an aiokafka client for these settings (empty for PLAINTEXT)."""
    s = _settings(settings)
    if s.security_protocol == "PLAINTEXT":
        return {}
    kwargs: dict[str, Any] = {"security_protocol": s.security_protocol,
                              "ssl_context": ssl_context(s)}
    if s.security_protocol.startswith("SASL_"):
        kwargs.update(sasl_mechanism=s.sasl_mechanism, sasl_plain_username=s.sasl_username,
                      sasl_plain_password=s.sasl_password.get_secret_value())
    return kwargs


def faust_security(settings: Settings | None = None) -> dict[str, Any]:
    """Keyword arguments of ``faust.App`` (``broker_credentials``; empty for PLAINTEXT)."""
    import faust  # noqa: PLC0415 - only the worker (and the bench's faust child) need faust

    s = _settings(settings)
    if s.security_protocol == "PLAINTEXT":
        return {}
    context = ssl_context(s)
    credentials: Any
    if s.security_protocol.startswith("SASL_"):
        credentials = faust.SASLCredentials(
            username=s.sasl_username, password=s.sasl_password.get_secret_value(),
            ssl_context=context, mechanism=s.sasl_mechanism)
    else:
        credentials = faust.SSLCredentials(context)
    return {"broker_credentials": credentials}
