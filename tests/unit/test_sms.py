"""The SMS channel's pure parts: GSM-7 / UCS-2 encoding, UDH splitting, receipts, keywords, PDUs."""

from __future__ import annotations

import struct

import pytest

from cjo.delivery import smpp_pdu as smpp
from cjo.delivery.sms_inbound import (
    STOP_KEYWORDS,
    TLV_MESSAGE_STATE,
    TLV_RECEIPTED_MESSAGE_ID,
    id_key,
    is_receipt,
    keyword,
    parse_receipt,
)
from cjo.delivery.sms_text import (
    DATA_CODING_DEFAULT,
    DATA_CODING_UCS2,
    ESM_CLASS_UDHI,
    Part,
    decode_part,
    encode_gsm7,
    split,
)


def joined(parts: list[Part]) -> str:
    return "".join(decode_part(p.short_message, p.data_coding, p.esm_class)[0] for p in parts)


def test_gsm7_has_the_extension_table_and_refuses_what_it_lacks() -> None:
    assert encode_gsm7("A@£{€") == bytes((0x41, 0x00, 0x01, 0x1B, 0x28, 0x1B, 0x65))
    assert encode_gsm7("Zażółć") is None


def test_a_short_gsm_text_is_one_part_without_udh() -> None:
    [part] = split("Welcome to France! 1 GB for 7 days: €5.", ref=7)
    assert part.data_coding == DATA_CODING_DEFAULT and part.esm_class == 0
    assert joined([part]) == "Welcome to France! 1 GB for 7 days: €5."


def test_160_septets_fit_one_part_161_need_two_of_at_most_153() -> None:
    assert len(split("x" * 160, ref=1)) == 1
    parts = split("x" * 161, ref=1)
    assert [len(p.short_message) - 6 for p in parts] == [153, 8]
    assert len(split("€" * 80, ref=1)) == 1  # 160 septets with the escapes
    assert len(split("€" * 81, ref=1)) == 2


def test_a_long_text_has_the_concatenation_udh_on_every_part() -> None:
    text = "Bienvenue ! " * 40
    parts = split(text, ref=0x1A5)
    assert len(parts) == 4 and all(p.esm_class == ESM_CLASS_UDHI for p in parts)
    assert [p.short_message[:6] for p in parts] == [
        bytes((5, 0, 3, 0xA5, 4, seq)) for seq in (1, 2, 3, 4)]
    assert joined(parts) == text


def test_an_escape_pair_is_never_cut_between_parts() -> None:
    text = "x" * 152 + "€" + "y" * 10
    first, second = split(text, ref=3)
    assert first.short_message[6:].endswith(b"x") and len(first.short_message) == 6 + 152
    assert joined([first, second]) == text


def test_a_non_gsm_text_is_ucs2_70_per_message_67_per_part_surrogates_kept_whole() -> None:
    [part] = split("Witamy w Polsce, zażółć", ref=1)
    assert part.data_coding == DATA_CODING_UCS2
    assert part.short_message == "Witamy w Polsce, zażółć".encode("utf-16-be")
    assert len(split("ż" * 70, ref=1)) == 1
    parts = split("ż" * 66 + "😀" + "ż" * 10, ref=1)
    assert [len(p.short_message) - 6 for p in parts] == [132, 24]  # the emoji moved whole
    assert joined(parts) == "ż" * 66 + "😀" + "ż" * 10


def test_a_text_of_more_than_255_parts_is_refused() -> None:
    with pytest.raises(ValueError, match="more than 255"):
        split("x" * 153 * 256, ref=0)


def tlv(tag: int, value: bytes) -> dict[int, bytes]:
    return {tag: value}


def test_receipt_tlvs_come_before_the_text() -> None:
    r = parse_receipt({TLV_RECEIPTED_MESSAGE_ID: b"000000A1\x00", TLV_MESSAGE_STATE: b"\x02"},
                      "id:999 sub:001 dlvrd:000 submit date:2612080100 done date:2612080101 "
                      "stat:UNDELIV err:001 text:")
    assert r is not None and r.message_id == "000000A1" and r.id_source == "submit"
    assert r.status == "DELIVERED" and r.stat == "DELIVRD"


def test_receipt_text_alone() -> None:
    r = parse_receipt({}, "id:161 sub:001 dlvrd:000 submit date:261208010000 done "
                      "date:261208010100 stat:UNDELIV err:001 text:Welcome")
    assert r is not None and (r.message_id, r.status, r.reason, r.id_source) == (
        "161", "FAILED", "stat:UNDELIV err:001", "receipt")


@pytest.mark.parametrize(("stat", "status"), [
    ("DELIVRD", "DELIVERED"), ("EXPIRED", "FAILED"), ("DELETED", "FAILED"),
    ("UNDELIV", "FAILED"), ("REJECTD", "FAILED"), ("UNKNOWN", "FAILED"),
    ("ENROUTE", None), ("ACCEPTD", None)])
def test_receipt_states(stat: str, status: str | None) -> None:
    r = parse_receipt({}, f"id:abc stat:{stat} err:000")
    assert r is not None and r.status == status


def test_a_receipt_without_an_id_is_none() -> None:
    assert parse_receipt({}, "stat:DELIVRD") is None


def test_hex_and_decimal_ids_meet_on_one_key() -> None:
    assert id_key("000000A1", "hex") == id_key("161", "dec") == "161"
    assert id_key("AbC-1", "text") == id_key("abc-1", "text")
    assert id_key("not-hex", "hex") == "not-hex"


def test_receipt_esm_class() -> None:
    assert is_receipt(0x04) and is_receipt(0x44) and not is_receipt(0x00)
    assert not is_receipt(0x40)


@pytest.mark.parametrize(("text", "expected"), [
    ("STOP", "STOP"), (" stop ", "STOP"), ("Stop.", "STOP"), ("unsubscribe", "UNSUBSCRIBE"),
    ("STOP PLEASE", None), ("stopp", None), ("", None), ("HALT", "HALT"), ("halt!", "HALT")])
def test_keywords_are_the_whole_text_one_word(text: str, expected: str | None) -> None:
    assert keyword(text, (*STOP_KEYWORDS, "Halt")) == expected


def test_submit_sm_pdu_layout() -> None:
    addressing = smpp.Addressing("CJO")
    data = smpp.submit_sm(7, addressing, "+447700900001", b"hi", 0, 0x40, 1, "261208013000000+")
    h = smpp.header(data)
    assert (h.length, h.command_id, h.status, h.sequence) == (len(data), smpp.SUBMIT_SM, 0, 7)
    body = data[16:]
    assert body.startswith(b"\x00\x05\x00CJO\x00\x01\x01447700900001\x00\x40\x00\x00\x00"
                           b"261208013000000+\x00\x01\x00\x00\x00\x02hi")


def test_deliver_sm_decodes_with_its_tlvs_and_refuses_a_truncated_body() -> None:
    body = (b"\x00\x01\x01447700900001\x00\x05\x00CJO\x00\x04\x00\x00\x00\x00\x01\x00\x00\x00"
            + bytes((4,)) + b"id:1" + struct.pack(">HH", 0x0427, 1) + b"\x02")
    d = smpp.deliver_sm(body)
    assert (d.source_addr, d.destination_addr, d.esm_class, d.short_message) == (
        "447700900001", "CJO", 4, b"id:1")
    assert d.tlvs == {0x0427: b"\x02"}
    with pytest.raises(smpp.PduError):
        smpp.deliver_sm(body[:20])


def test_header_refuses_a_length_out_of_range() -> None:
    with pytest.raises(smpp.PduError):
        smpp.header(struct.pack(">IIII", 8, 4, 0, 1))


def test_absolute_validity_time() -> None:
    assert smpp.absolute_time(1_796_693_400_000) == "261208013000000+"
