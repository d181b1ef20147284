"""Control records are untrusted input: every parser of one is bounded and raises nothing but the
project's error type, with a clear one-line reason (catalogue payloads and YAML, do-not-contact
records; scorer snapshots are in test_scorer_snapshot.py)."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.scaled_catalogue import scaled_sources
from cjo.adapters.catalogue_commands import run_apply
from cjo.catalogue import source
from cjo.catalogue.catalogue import MAX_PAYLOAD_BYTES, PAYLOAD_FORMAT, digest_of
from cjo.catalogue.validate import default_catalogue, load_catalogue, load_payload
from cjo.cli import main
from cjo.control_records import (
    CATALOGUE_KEY,
    ControlRecordError,
    apply_dnc,
    catalogue_of,
    dnc_entry,
)
from cjo.control_signing import SignatureError, fingerprint, sign_catalogue
from cjo.errors import CatalogueError, CatalogueRejected, CjoError
from cjo.settings import load

IMSI = "234150000000001"


def payload(*sources: tuple[str, str], digest: str | None = None) -> bytes:
    return orjson.dumps({
        "format": PAYLOAD_FORMAT,
        "digest": digest_of(sources) if digest is None else digest,
        "sources": [{"name": name, "text": text} for name, text in sources],
    })


def nested_block(depth: int) -> str:
    return "".join(f"{'  ' * i}k{i}:\n" for i in range(depth)) + f"{'  ' * depth}x\n"


def nested_flow(depth: int) -> str:
    return "triggers: " + "[" * depth + "]" * depth + "\n"


def alias_bomb() -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


# --- catalogue YAML bounds --------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    nested_block(300),
    nested_flow(5_000),
    "x: " + "{a: " * 5_000 + "1" + "}" * 5_000 + "\n",
])
def test_a_catalogue_nested_5000_deep_is_refused_at_its_line(text: str) -> None:
    with pytest.raises(CatalogueError, match=f"nested deeper than {source.MAX_DEPTH}") as info:
        source.parse("deep.yaml", text)
    assert info.value.file == "deep.yaml" and info.value.line >= 1


def test_a_recursive_alias_is_refused() -> None:
    with pytest.raises(CatalogueError, match="nested deeper"):
        source.parse("r.yaml", "a: &a [*a]\n")


def test_an_alias_bomb_is_refused_before_it_expands() -> None:
    text = alias_bomb()
    assert len(text) < 1_300  # 9**9 = 387 million strings once expanded
    with pytest.raises(CatalogueError, match="alias bomb"):
        source.parse("bomb.yaml", text)


def test_too_many_values_are_refused_while_composing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(source, "MAX_NODES", 20_000)  # the mechanism, at a bound quick to reach
    text = "triggers: [" + ",".join(["1"] * (source.MAX_NODES + 1)) + "]\n"
    with pytest.raises(CatalogueError, match=f"more than {source.MAX_NODES:,} values") as info:
        source.parse("long.yaml", text)
    assert "alias" not in str(info.value)  # while composing, before any value is built


def test_a_500_trigger_catalogue_validates() -> None:
    catalogue = load_catalogue(scaled_sources(500))
    assert len(catalogue.enabled()) == 500


def test_aliases_within_the_bound_still_work() -> None:
    parsed = source.parse("ok.yaml", "base: &b {x: 1}\nthen: *b\n")
    assert parsed.value == {"base": {"x": 1}, "then": {"x": 1}}


def test_a_text_over_the_size_bound_is_refused_unread() -> None:
    with pytest.raises(CatalogueError, match="too large"):
        source.parse("big.yaml", "#" * (source.MAX_CHARS + 1))


def test_the_bundled_catalogue_is_well_within_the_bounds() -> None:
    for name, text in default_catalogue().sources:
        assert len(text) < source.MAX_CHARS / 10, name
        parsed = source.parse(name, text)
        assert max(len(path) for path in parsed.lines) < source.MAX_DEPTH / 2


# --- catalogue payloads (what a worker reads from cjo.catalogue) -------------------------------


@pytest.mark.parametrize(("data", "says"), [
    (b"[" * 5_000 + b"]" * 5_000, "not JSON"),
    (b" " * (MAX_PAYLOAD_BYTES + 1), "at most"),
    (payload(("deep.yaml", nested_flow(5_000))), "nested deeper"),
    (payload(("bomb.yaml", alias_bomb())), "alias bomb"),
    (payload(("empty.yaml", "# nothing\n")), "has no trigger"),
    (payload(("venues.yaml", "venues: []\ntriggers: []\n")), "has no trigger"),
    (payload(("t.yaml", "triggers: []\n"), digest="0" * 12), "does not match"),
    (b"\xff\xfe not utf-8", "not JSON"),
])
def test_a_bad_catalogue_payload_is_refused(data: bytes, says: str) -> None:
    with pytest.raises(CatalogueRejected, match=says):
        load_payload(data)


def test_a_good_payload_still_round_trips() -> None:
    catalogue = default_catalogue()
    assert load_payload(catalogue.to_payload()).digest == catalogue.digest


def test_apply_refuses_an_empty_catalogue_before_reaching_the_broker(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("# every trigger gone\n")
    nowhere = load(broker="127.0.0.1:1")  # would fail on contact: apply must not get there
    with pytest.raises(CatalogueRejected, match="has no trigger"):
        run_apply(nowhere, [empty], out=io.StringIO())


def test_a_worker_refuses_an_empty_fallback_catalogue(tmp_path: Path) -> None:
    from cjo.adapters.catalogue_topic import fallback_catalogue

    empty = tmp_path / "empty.yaml"
    empty.write_text("venues: []\n")
    with pytest.raises(CatalogueRejected, match=r"empty\.yaml:1: catalogue .* has no trigger"):
        fallback_catalogue(load(catalogue=str(empty)))


@pytest.mark.parametrize(("text", "says"), [
    (nested_flow(5_000), "nested deeper than"),
    (alias_bomb(), "alias bomb"),
])
def test_validate_and_apply_print_one_line_not_a_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, says: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    for command in (["catalogue", "validate", str(bad)],
                    ["catalogue", "apply", "--broker", "127.0.0.1:1", str(bad)]):
        assert main(command) == 1
        err = capsys.readouterr().err
        assert says in err and len(err.strip().splitlines()) == 1, err


# --- do-not-contact records --------------------------------------------------------------------


@pytest.mark.parametrize("key", [
    b"\xff\xfe\x00bad", b"", b"alice@example.com", b"2341500000000011234", b"12 34",
    "２３４１５００００".encode(),  # full-width digits: str.isdigit, not an IMSI
])
def test_a_dnc_key_that_is_not_an_imsi_is_refused_and_never_shown(key: bytes) -> None:
    blocked = {IMSI}
    with pytest.raises(ControlRecordError, match="is not an IMSI") as info:
        apply_dnc(blocked, key, b"1")
    assert blocked == {IMSI}
    message = str(info.value)
    assert "alice" not in message and "\\x" not in message and len(message.splitlines()) == 1


def test_a_dnc_record_without_a_key_is_refused() -> None:
    blocked: set[str] = set()
    with pytest.raises(ControlRecordError):
        apply_dnc(blocked, None, b"1")
    assert blocked == set()


def test_dnc_block_and_lift() -> None:
    blocked: set[str] = set()
    apply_dnc(blocked, IMSI.encode(), b"1")
    assert blocked == {IMSI}
    apply_dnc(blocked, IMSI.encode(), None)
    assert blocked == set()


# --- fuzzing: arbitrary bytes raise nothing but the project's error ---------------------------


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.none(), st.binary(max_size=40)), st.one_of(st.none(), st.binary(max_size=8)))
def test_fuzz_dnc_records(key: bytes | None, value: bytes | None) -> None:
    blocked: set[str] = set()
    try:
        imsi, block = dnc_entry(key, value)
    except ControlRecordError:
        return
    assert key is not None and imsi.encode() == key and imsi.isascii() and imsi.isdigit()
    apply_dnc(blocked, key, value)
    assert blocked == ({imsi} if block else set())


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_fuzz_catalogue_payload_bytes(data: bytes) -> None:
    with pytest.raises(CjoError):
        load_payload(data)


YAMLISH = st.text(alphabet=st.sampled_from(list("[]{}:-,&*!|>?'\"#%@` \n\tabk01.~")),
                  max_size=200)


@settings(max_examples=400, deadline=None)
@given(YAMLISH)
def test_fuzz_catalogue_yaml_in_a_signed_payload(text: str) -> None:
    """Arbitrary YAML-ish text with a correct digest: refused as a catalogue, never a crash."""
    try:
        catalogue = load_payload(payload(("fuzz.yaml", text)))
    except CatalogueRejected:
        return
    assert catalogue.triggers  # only a catalogue with triggers is ever accepted


@settings(max_examples=200, deadline=None)
@given(YAMLISH)
def test_fuzz_catalogue_files(text: str) -> None:
    try:
        load_catalogue([("fuzz.yaml", text)])
    except CatalogueRejected as err:
        assert err.problems


CATALOGUE_WORDS = st.sampled_from([
    "triggers", "venues", "policy", "id", "kind", "params", "offers", "code", "channels",
    "templates", "en", "match", "event", "where", "steps", "count", "within", "measure", "below",
    "above", "venue_kind", "center", "lat", "lon", "radius_m", "polygon", "trigger", "anchor",
    "caps", "quiet_hours", "dedupe", "threshold", "count", "sequence", "geofence", "deadline",
    "usage", "charging", "balance", "sms", "push", "enabled", "priority", "value", "validity"])
SHAPES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True)
    | CATALOGUE_WORDS | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(CATALOGUE_WORDS, inner,
                                                                max_size=5),
    max_leaves=25)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["triggers", "venues", "policy"]), SHAPES, max_size=3))
def test_fuzz_catalogue_shapes_in_a_signed_payload(document: dict[str, object]) -> None:
    """Valid YAML of odd shapes (the checker's cross checks see them): refused, never a crash."""
    text = orjson.dumps(document, option=orjson.OPT_NON_STR_KEYS).decode()  # JSON is YAML
    try:
        catalogue = load_payload(payload(("shapes.yaml", text)))
    except CatalogueRejected as err:
        assert err.problems
        return
    assert catalogue.triggers


def _bundled_documents() -> list[object]:
    return [source.parse(name, text).value for name, text in default_catalogue().sources]


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_fuzz_the_bundled_catalogue_with_one_field_replaced(data: st.DataObject) -> None:
    """The bundled catalogue with one value anywhere replaced by an odd one: the cross checks
    see valid neighbours around it; refused or accepted, never a crash."""
    documents = _bundled_documents()
    node: object = data.draw(st.sampled_from(documents))
    while True:
        children = (list(node) if isinstance(node, dict)
                    else list(range(len(node))) if isinstance(node, list) else [])
        if not children:
            break
        at = data.draw(st.sampled_from(children))
        if data.draw(st.booleans()):
            node[at] = data.draw(SHAPES)  # type: ignore[index]
            break
        node = node[at]  # type: ignore[index]
    texts = [("venues.yaml", orjson.dumps(documents[0]).decode()),
             ("triggers.yaml", orjson.dumps(documents[1]).decode())]
    try:
        catalogue = load_payload(payload(*texts))
    except CatalogueRejected as err:
        assert err.problems
        return
    assert catalogue.triggers


def test_a_catalogue_record_is_taken_only_signed_with_the_worker_s_key() -> None:
    payload = default_catalogue().to_payload()
    key = b"operator-key"
    assert catalogue_of(CATALOGUE_KEY, sign_catalogue(payload, key), key) is not None
    with pytest.raises(SignatureError, match="not signed"):
        catalogue_of(CATALOGUE_KEY, payload, key)
    with pytest.raises(SignatureError, match="another CJO_CATALOGUE_KEY"):
        catalogue_of(CATALOGUE_KEY, sign_catalogue(payload, b"someone-else"), key)
    signed = sign_catalogue(payload, key)
    altered = signed[:-1] + b" " + signed[-1:]  # still a valid payload, no longer the signed one
    with pytest.raises(SignatureError, match="does not match"):
        catalogue_of(CATALOGUE_KEY, altered, key)


def test_a_key_is_named_by_a_fingerprint_that_says_when_it_is_the_public_default() -> None:
    assert fingerprint(b"operator-key") == fingerprint(b"operator-key")
    assert fingerprint(b"operator-key") != fingerprint(b"operator-key2")
    assert "operator-key" not in fingerprint(b"operator-key")
    assert fingerprint(b"cjo-development-models-key").endswith("(public default)")
    assert not fingerprint(b"operator-key").endswith("(public default)")


def test_a_tombstone_of_a_refused_dnc_key_purges_it_quietly() -> None:
    blocked = {"234150000000001"}
    apply_dnc(blocked, b"\xff\xfenot-an-imsi", None)  # `cjo control purge`: nothing to lift
    assert blocked == {"234150000000001"}
    with pytest.raises(ControlRecordError):
        apply_dnc(blocked, b"\xff\xfenot-an-imsi", b"1")
