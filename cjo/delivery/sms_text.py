"""An SMS text as the ``short_message`` octets of one or more SMPP ``submit_sm``: GSM-7 when
every character is in the GSM 03.38 alphabet (with its extension table), UCS-2 otherwise; a text
longer than one message is split into concatenated parts, each behind a User Data Header.

GSM-7 is sent unpacked, one septet per octet, with ``data_coding`` 0 (the SMSC default alphabet:
SMPP leaves it to the SMSC; this assumes GSM 03.38, the common case, and an SMSC whose default
is another alphabet is not supported yet). UCS-2 is UTF-16 big-endian with ``data_coding`` 8.

- One message: 160 septets (an extension character such as ``€`` or ``{`` takes two) or 70
  UCS-2 code units.
- Concatenated: a 6-octet UDH ``05 00 03 <ref> <total> <seq>`` (``esm_class`` UDHI 0x40) leaves
  153 septets or 67 code units per part. A part never ends inside an escape pair or a surrogate
  pair (the character moves to the next part).

Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

# GSM 03.38 default alphabet, by septet value (0x1B is the escape to the extension table)
_BASIC = ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
          "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_EXTENSION = {"\x0c": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C, "~": 0x3D,
              "]": 0x3E, "|": 0x40, "€": 0x65}
_ESCAPE = 0x1B
GSM_TO_SEPTET = {c: i for i, c in enumerate(_BASIC) if i != _ESCAPE}
_SEPTET_TO_GSM = dict(enumerate(_BASIC))
_EXTENSION_TO_GSM = {v: k for k, v in _EXTENSION.items()}

DATA_CODING_DEFAULT = 0x00  # SMSC default alphabet: GSM 03.38 here
DATA_CODING_UCS2 = 0x08
ESM_CLASS_UDHI = 0x40
SINGLE = {DATA_CODING_DEFAULT: 160, DATA_CODING_UCS2: 140}  # octets of one unsplit message
PART = {DATA_CODING_DEFAULT: 153, DATA_CODING_UCS2: 134}  # octets of text after a 6-octet UDH
MAX_PARTS = 255


@dataclass(frozen=True, slots=True)
class Part:
    """One ``submit_sm``'s ``short_message`` (UDH included when split), its coding and esm_class."""

    short_message: bytes
    data_coding: int
    esm_class: int
    seq: int  # 1-based
    total: int


def gsm7_units(char: str) -> bytes | None:
    """The septets (one octet each) of ``char`` in GSM-7, or None if it has none."""
    septet = GSM_TO_SEPTET.get(char)
    if septet is not None:
        return bytes((septet,))
    ext = _EXTENSION.get(char)
    return None if ext is None else bytes((_ESCAPE, ext))


def encode_gsm7(text: str) -> bytes | None:
    """``text`` as unpacked GSM-7 septets, or None when a character is not in the alphabet."""
    out = bytearray()
    for char in text:
        units = gsm7_units(char)
        if units is None:
            return None
        out += units
    return bytes(out)


def decode_gsm7(data: bytes) -> str:
    """Unpacked GSM-7 septets back to text (an unknown escape reads as a space, as GSM says)."""
    out, escaped = [], False
    for octet in data:
        if escaped:
            out.append(_EXTENSION_TO_GSM.get(octet, " "))
            escaped = False
        elif octet == _ESCAPE:
            escaped = True
        else:
            out.append(_SEPTET_TO_GSM.get(octet & 0x7F, "?"))
    return "".join(out)


def _units(text: str) -> tuple[int, list[bytes]]:
    """The coding and the text as indivisible units (a septet or an escape pair; a UTF-16 code
    unit or a surrogate pair)."""
    gsm = [gsm7_units(c) for c in text]
    if all(u is not None for u in gsm):
        return DATA_CODING_DEFAULT, [u for u in gsm if u is not None]
    return DATA_CODING_UCS2, [c.encode("utf-16-be") for c in text]


def split(text: str, ref: int) -> list[Part]:
    """``text`` as the parts to submit, in order; ``ref`` (0-255) names the concatenated
    message (the same for all its parts, a different one for the sender's next long text).
    Raises ValueError for a text that would need more than 255 parts."""
    coding, units = _units(text)
    whole = b"".join(units)
    if len(whole) <= SINGLE[coding]:
        return [Part(whole, coding, 0, 1, 1)]
    chunks: list[bytes] = []
    chunk = bytearray()
    for unit in units:
        if len(chunk) + len(unit) > PART[coding]:
            chunks.append(bytes(chunk))
            chunk = bytearray()
        chunk += unit
    chunks.append(bytes(chunk))
    if len(chunks) > MAX_PARTS:
        raise ValueError(f"text of {len(text)} characters needs {len(chunks)} SMS parts, "
                         f"more than {MAX_PARTS}")
    total, ref = len(chunks), ref & 0xFF
    return [Part(bytes((0x05, 0x00, 0x03, ref, total, seq)) + body, coding, ESM_CLASS_UDHI,
                 seq, total)
            for seq, body in enumerate(chunks, start=1)]


def decode_part(short_message: bytes, data_coding: int, esm_class: int) -> tuple[str, bytes]:
    """A received ``short_message`` back to (text, UDH): for tests and for MO messages."""
    udh = b""
    if esm_class & ESM_CLASS_UDHI and short_message:
        udh = short_message[:short_message[0] + 1]
        short_message = short_message[len(udh):]
    if data_coding == DATA_CODING_UCS2:
        return short_message.decode("utf-16-be", errors="replace"), udh
    if data_coding == DATA_CODING_DEFAULT:
        return decode_gsm7(short_message), udh
    return short_message.decode("latin-1"), udh  # 1 and 3: ASCII / Latin-1
