"""kit.thrift: TBinaryProtocol structs, written byte for byte and read strictly."""

from __future__ import annotations

import base64
import struct

import pytest

from kit import thrift as t
from kit.errors import WireFormatError
from kit.thrift import (
    EventSignature,
    KeyChangeDetail,
    MessageCreateEvent,
    MessageEvent,
    OtherDetail,
    ParticipantKey,
    encode_text,
    read_detail,
    read_event_signature,
    read_fields,
    read_message_create_event,
    read_message_event,
    read_text,
)
from kit.wrap import wrap

ALICE = "1215441834412953600"
BOB = "1603419180975409153"
VERSION = "1795545957535"


def _head(ttype: int, fid: int) -> bytes:
    return struct.pack(">bh", ttype, fid)


def _str(fid: int, value: bytes) -> bytes:
    return _head(11, fid) + struct.pack(">i", len(value)) + value


@pytest.fixture
def sample(alice, bob) -> KeyChangeDetail:
    key = bytes(range(32))
    return KeyChangeDetail(
        VERSION,
        (
            ParticipantKey(ALICE, base64.b64encode(wrap(key, alice.public_keys.public_key)).decode(), "1"),
            ParticipantKey(BOB, base64.b64encode(wrap(key, bob.public_keys.public_key)).decode(), "1"),
        ),
    )


# ----------------------------------------------------------------------------- the spec's decoded sample


def test_decoded_sample_layout(sample):
    """Spec §3 'Decoded sample': 425 bytes, field headers at the documented offsets."""
    data = sample.encode()
    assert len(data) == 425
    assert all(len(p.encrypted_conversation_key) == 152 for p in sample.participant_keys)
    table = {
        0: "0c0003",
        3: "0b0001",
        6: "0000000d",
        23: "0f0002",
        26: "0c00000002",
        31: "0b0001",
        57: "0b0002",
        216: "0b0003",
        224: "00",
        225: "0b0001",
        251: "0b0002",
        410: "0b0003",
        418: "00",
        419: "02000500",
        423: "00",
        424: "00",
    }
    for off, hexbytes in table.items():
        got = data[off : off + len(hexbytes) // 2].hex()
        assert got == hexbytes, f"offset {off}: {got} != {hexbytes}"
    assert data[10:23] == VERSION.encode()
    assert data[34:38] == b"\x00\x00\x00\x13" and data[38:57] == ALICE.encode()
    assert data[60:64] == struct.pack(">i", 152)
    assert data[64:65] == b"B"
    assert data[219:224] == b"\x00\x00\x00\x011"
    assert data[228:232] == b"\x00\x00\x00\x13" and data[232:251] == BOB.encode()
    # fully consumed on the way back
    assert read_detail(data) == sample


def test_detail_size_formula(alice):
    # 2 users: 425 bytes; every further 19-digit user with a 1-char version adds 194
    key = bytes(32)
    entry = base64.b64encode(wrap(key, alice.public_keys.public_key)).decode()
    for n in range(0, 5):
        detail = KeyChangeDetail(VERSION, tuple(ParticipantKey(str(10**18 + i), entry, "1") for i in range(n)))
        assert len(detail.encode()) == 37 + 194 * n


def test_rotation_flag(sample):
    rot = KeyChangeDetail(sample.conversation_key_version, sample.participant_keys, for_key_rotation=True)
    data = rot.encode()
    assert data[419:423].hex() == "02000501"
    assert read_detail(data).for_key_rotation is True
    assert read_detail(sample.encode()).for_key_rotation is False


# ----------------------------------------------------------------------------- round trips


def test_key_change_round_trip(sample):
    assert read_detail(sample.encode()) == sample
    empty = KeyChangeDetail("1", ())
    assert read_detail(empty.encode()) == empty


def test_unicode_round_trip():
    d = KeyChangeDetail("1", (ParticipantKey("1", "é🔑", "2"),))
    assert read_detail(d.encode()) == d


@pytest.mark.parametrize("ttl", [None, 0, 86_400_000, -1, 2**63 - 1])
def test_message_create_event_round_trip(ttl):
    mce = MessageCreateEvent(b"\x00\xff" * 30, VERSION, True, ttl)
    assert read_message_create_event(mce.encode()) == mce
    assert read_detail(mce.encode_detail()) == mce
    quiet = MessageCreateEvent(b"x" * 40, "1", False)
    assert read_message_create_event(quiet.encode()).should_notify is False


def test_event_signature_round_trip():
    sig = EventSignature("A" * 86, "1795545957535", "7")
    assert read_event_signature(sig.encode()) == sig


def test_event_signature_version_optional():
    data = _str(1, b"sig") + _str(2, b"1") + b"\x00"
    assert read_event_signature(data) == EventSignature("sig", "1", "")


@pytest.mark.parametrize("with_sig", [True, False])
@pytest.mark.parametrize("prev", [None, "2070276095283454001"])
def test_message_event_round_trip(sample, with_sig, prev):
    ev = MessageEvent(
        sequence_id="2070276095283454100",
        message_id="6f1c2b7e-3d4a-4b5c-8d9e-0f1a2b3c4d5e",
        sender_id=ALICE,
        conversation_id=f"{ALICE}:{BOB}",
        created_at_msec=VERSION,
        detail=sample.encode(),
        signature=EventSignature("s" * 86, "1", "7") if with_sig else None,
        previous_sequence_id=prev,
    )
    back = read_message_event(ev.encode())
    assert back == ev
    assert back.read_detail() == sample
    assert back.extra_fields == ()


def test_message_event_keeps_detail_bytes_unchanged(sample):
    # a detail with fields in an unusual order and an unknown extra field: not re-encoded
    kce = (
        _head(15, 2) + bytes([12]) + struct.pack(">i", 0)
        + _str(1, b"99")
        + _head(8, 77) + struct.pack(">i", 5)
        + b"\x00"
    )  # fmt: skip
    detail = _head(12, 3) + kce + b"\x00"
    assert read_detail(detail) == KeyChangeDetail("99", ())
    ev = MessageEvent("1", "m", "2", "2:3", "4", detail)
    back = read_message_event(ev.encode())
    assert back.detail == detail
    assert KeyChangeDetail("99", ()).encode() != detail  # re-encoding would have changed them
    back2 = read_message_event(MessageEvent("1", "m", "2", "2:3", "4", sample.encode()).encode())
    assert back2.detail == sample.encode()


def test_message_event_layout(sample):
    ev = MessageEvent("11", "m", "22", "22:33", "44", sample.encode(), EventSignature("s", "1", "7"), "10")
    data = ev.encode()
    s = read_fields(data)
    assert sorted(s.fields) == [1, 2, 3, 4, 6, 7, 9, 10]
    assert {fid: ttype for fid, (ttype, _) in s.fields.items()} == {
        1: 11,
        2: 11,
        3: 11,
        4: 11,
        6: 11,
        7: 12,
        9: 12,
        10: 11,
    }
    assert data.index(_head(12, 7) + sample.encode()) > 0


def test_message_event_extra_fields_reported(sample):
    body = MessageEvent("1", "m", "2", "2:3", "4", sample.encode()).encode()[:-1]
    body += _str(5, b"token") + _head(2, 11) + b"\x01" + b"\x00"
    back = read_message_event(body)
    assert back.extra_fields == (5, 11)


def test_message_event_missing_fields(sample):
    full = {1: b"1", 2: b"m", 3: b"2", 4: b"2:3"}
    for missing, name in [(1, "sequence_id"), (2, "message_id"), (3, "sender_id"), (4, "conversation_id")]:
        data = b"".join(_str(fid, v) for fid, v in full.items() if fid != missing)
        data += _head(12, 7) + sample.encode() + b"\x00"
        with pytest.raises(WireFormatError, match=f"field {missing} {name} is missing"):
            read_message_event(data)
    data = b"".join(_str(fid, v) for fid, v in full.items()) + b"\x00"
    with pytest.raises(WireFormatError, match="field 7 detail is missing"):
        read_message_event(data)


def test_message_event_rejects_bad_union_eagerly():
    detail = _head(12, 1) + b"\x00" + _head(12, 3) + b"\x00" + b"\x00"
    data = _str(1, b"1") + _str(2, b"m") + _str(3, b"2") + _str(4, b"2:3") + _head(12, 7) + detail + b"\x00"
    with pytest.raises(WireFormatError, match=r"exactly one field, got fields \[1, 3\]"):
        read_message_event(data)


def test_other_detail_kinds():
    for fid, name in t.DETAIL_FIELDS.items():
        if fid in (1, 3, 7):  # modelled: message, key change, delete
            continue
        assert read_detail(_head(12, fid) + b"\x00" + b"\x00") == OtherDetail(fid, name)
    assert read_detail(_head(12, 99) + b"\x00" + b"\x00") == OtherDetail(99, "field 99")


# ----------------------------------------------------------------------------- the plaintext


def test_hello_is_21_bytes_as_in_spec():
    data = encode_text("hello")
    assert data.hex() == "0c00010c00010b00010000000568656c6c6f000000"
    assert len(data) == 21
    assert read_text(data) == "hello"


@pytest.mark.parametrize("text", ["", "a", "héllo, wörld", "🔑" * 10, "line\nbreak\x00nul", "x" * 5000])
def test_text_round_trip_and_size(text):
    data = encode_text(text)
    assert len(data) == len(text.encode()) + 16
    assert read_text(data) == text


def test_read_text_missing_text_is_empty():
    assert read_text(_head(12, 1) + _head(12, 1) + b"\x00" + b"\x00" + b"\x00") == ""


def test_read_text_rejects_other_content():
    with pytest.raises(WireFormatError, match="field 1 contents is missing"):
        read_text(b"\x00")
    with pytest.raises(WireFormatError, match="only text messages"):
        read_text(_head(12, 1) + _head(12, 2) + b"\x00" + b"\x00" + b"\x00")


# ----------------------------------------------------------------------------- strict reading


def test_trailing_bytes_rejected(sample):
    with pytest.raises(WireFormatError, match=r"1 trailing bytes after the struct's STOP \(at byte 425 of 426\)"):
        read_detail(sample.encode() + b"\x00")
    with pytest.raises(WireFormatError, match="3 trailing bytes"):
        read_fields(b"\x00abc")


def test_duplicate_field_rejected():
    data = _str(1, b"a") + _str(1, b"b") + b"\x00"
    with pytest.raises(WireFormatError, match="field 1 appears twice"):
        read_fields(data)
    # the same field id in different structs is fine
    read_fields(_str(1, b"a") + _head(12, 2) + _str(1, b"b") + b"\x00" + b"\x00")


@pytest.mark.parametrize("value", [2, 0x80, 0xFF])
def test_bad_bool_rejected(value):
    with pytest.raises(WireFormatError, match=f"bool must be 0 or 1, got {value}"):
        read_fields(_head(2, 5) + bytes([value]) + b"\x00")
    with pytest.raises(WireFormatError, match=f"bool must be 0 or 1, got {value}"):
        read_fields(_head(15, 1) + bytes([2]) + struct.pack(">i", 1) + bytes([value]) + b"\x00")


@pytest.mark.parametrize("code", [1, 5, 7, 9, 16, 17, 0x7F, 0xFF])
def test_unknown_field_type_rejected(code):
    with pytest.raises(WireFormatError, match="unknown Thrift type code"):
        read_fields(bytes([code]) + b"\x00\x01" + b"\x00" * 8)


@pytest.mark.parametrize("code", [0, 1, 16])
def test_unknown_element_type_rejected(code):
    with pytest.raises(WireFormatError, match="unknown Thrift type code"):
        read_fields(_head(15, 1) + bytes([code]) + struct.pack(">i", 0) + b"\x00")
    with pytest.raises(WireFormatError, match="unknown Thrift type code"):
        read_fields(_head(13, 1) + bytes([11, code]) + struct.pack(">i", 0) + b"\x00")


def _nested(depth: int) -> bytes:
    return _head(12, 1) * depth + b"\x00" * (depth + 1)


def test_depth_limit():
    read_fields(_nested(32))
    with pytest.raises(WireFormatError, match="nested more than 32 deep"):
        read_fields(_nested(33))
    with pytest.raises(WireFormatError, match="nested more than 32 deep"):
        read_fields(_nested(5000))


def test_depth_limit_through_lists():
    # list<list<...>> nesting counts too
    data = (_head(15, 1) + b"\x0f" + struct.pack(">i", 1)) + (b"\x0f" + struct.pack(">i", 1)) * 40
    with pytest.raises(WireFormatError, match="nested more than 32 deep"):
        read_fields(data + b"\x00" * 10)


def test_invalid_utf8_names_the_field():
    pk = _str(1, b"1") + _str(2, b"\xff\xfe") + _str(3, b"1") + b"\x00"
    kce = _str(1, b"5") + _head(15, 2) + b"\x0c" + struct.pack(">i", 1) + pk + b"\x00"
    with pytest.raises(
        WireFormatError,
        match=r"conversation_participant_keys\[0\]: field 2 encrypted_conversation_key is not valid UTF-8",
    ):
        read_detail(_head(12, 3) + kce + b"\x00")
    with pytest.raises(WireFormatError, match="field 1 conversation_key_version is not valid UTF-8"):
        read_detail(_head(12, 3) + _str(1, b"\xc3") + _head(15, 2) + b"\x0c" + bytes(4) + b"\x00" + b"\x00")


def test_wrong_field_type_names_field_and_types():
    kce = _head(8, 1) + struct.pack(">i", 5) + _head(15, 2) + b"\x0c" + bytes(4) + b"\x00"
    with pytest.raises(WireFormatError, match="field 1 conversation_key_version must be a string, got a i32"):
        read_detail(_head(12, 3) + kce + b"\x00")
    kce = _str(1, b"5") + _head(15, 2) + b"\x0b" + struct.pack(">i", 1) + struct.pack(">i", 1) + b"x" + b"\x00"
    with pytest.raises(WireFormatError, match=r"conversation_participant_keys\[0\] must be a struct"):
        read_detail(_head(12, 3) + kce + b"\x00")
    kce = _str(1, b"5") + _str(2, b"x") + b"\x00"
    with pytest.raises(WireFormatError, match="field 2 conversation_participant_keys must be a list, got a string"):
        read_detail(_head(12, 3) + kce + b"\x00")
    with pytest.raises(
        WireFormatError, match=r"union field 3 \(conversationKeyChangeEvent\) must be a struct, got a string"
    ):
        read_detail(_str(3, b"x") + b"\x00")
    mce = _str(100, b"x") + _str(101, b"1") + _head(8, 102) + bytes(4) + b"\x00"
    with pytest.raises(WireFormatError, match="field 102 should_notify must be a bool, got a i32"):
        read_message_create_event(mce)


def test_required_fields_named():
    with pytest.raises(WireFormatError, match="field 1 conversation_key_version is missing"):
        read_detail(_head(12, 3) + _head(15, 2) + b"\x0c" + bytes(4) + b"\x00" + b"\x00")
    with pytest.raises(WireFormatError, match="field 2 conversation_participant_keys is missing"):
        read_detail(_head(12, 3) + _str(1, b"1") + b"\x00" + b"\x00")
    with pytest.raises(WireFormatError, match="field 100 contents is missing"):
        read_message_create_event(_str(101, b"1") + b"\x00")
    with pytest.raises(WireFormatError, match="field 1 signature is missing"):
        read_event_signature(_str(2, b"1") + b"\x00")


@pytest.mark.parametrize("fields", [[], [1, 3], [3, 4], [1, 3, 4]])
def test_union_needs_exactly_one_field(fields):
    data = b"".join(_head(12, fid) + b"\x00" for fid in fields) + b"\x00"
    with pytest.raises(WireFormatError, match="must set exactly one field"):
        read_detail(data)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x0b",
        b"\x0b\x00",
        b"\x0b\x00\x01\x00\x00\x00",
        b"\x0b\x00\x01\x00\x00\x00\x05abc",
        b"\x0c\x00\x03",
        b"\x0b\x00\x01\x00\x00\x00\x00",  # no STOP
    ],
)
def test_truncated(data):
    with pytest.raises(WireFormatError, match="(truncated|more than the 3 remaining bytes)"):
        read_fields(data)


@pytest.mark.parametrize("n", [2**31 - 1, -1, -(2**31)])
def test_huge_or_negative_lengths(n):
    for data in (
        _head(11, 1) + struct.pack(">i", n) + b"abc\x00",
        _head(15, 1) + b"\x0c" + struct.pack(">i", n) + b"\x00",
        _head(14, 1) + b"\x08" + struct.pack(">i", n) + b"\x00",
        _head(13, 1) + b"\x0b\x0b" + struct.pack(">i", n) + b"\x00",
    ):
        with pytest.raises(WireFormatError, match="(negative length|declares)"):
            read_fields(data)


def test_other_scalar_types_read():
    data = (
        _head(3, 1) + b"\x7f"
        + _head(6, 2) + struct.pack(">h", -2)
        + _head(8, 3) + struct.pack(">i", -3)
        + _head(10, 4) + struct.pack(">q", -4)
        + _head(4, 5) + struct.pack(">d", 1.5)
        + _head(13, 6) + b"\x08\x0b" + struct.pack(">i", 1) + struct.pack(">i", 7) + _str(0, b"")[3:]
        + _head(14, 7) + b"\x02" + struct.pack(">i", 2) + b"\x01\x00"
        + b"\x00"
    )  # fmt: skip
    s = read_fields(data)
    assert {fid: v for fid, (_, v) in s.fields.items()} == {
        1: 0x7F,
        2: -2,
        3: -3,
        4: -4,
        5: 1.5,
        6: [(7, b"")],
        7: [True, False],
    }
    assert s.start == 0 and s.end == len(data)


def test_read_fields_type_check():
    with pytest.raises(WireFormatError, match="must be bytes, got str"):
        read_fields("\x00")
    assert read_fields(memoryview(b"\x00")).fields == {}
    assert read_fields(bytearray(b"\x00")).fields == {}


def test_errors_name_struct_and_offset():
    with pytest.raises(WireFormatError, match=r"^my detail: .*\(at byte \d+ of \d+\)"):
        read_detail(b"\x0c\x00\x03\x0b", what="my detail")


def test_a_read_event_decodes_its_detail_once_and_a_replaced_detail_is_decoded_anew() -> None:
    import dataclasses

    from kit import thrift

    first = thrift.KeyChangeDetail("1700000000000", (thrift.ParticipantKey("1", "QUJD", "1"),))
    second = thrift.KeyChangeDetail("1700000000001", (thrift.ParticipantKey("2", "REVG", "1"),))
    event = thrift.MessageEvent("5", "m", "1", "1-2", "0", first.encode())
    read = thrift.read_message_event(event.encode())
    assert read.read_detail() == first
    assert read.read_detail() is read.read_detail()  # kept from the read, not decoded again
    swapped = dataclasses.replace(read, detail=second.encode())
    assert swapped.read_detail() == second
    assert read == thrift.read_message_event(event.encode())  # the cache takes no part in equality


def test_text_list_reads_a_list_of_strings_and_names_what_is_wrong() -> None:
    from kit.thrift import Fields, read_fields
    from kit.thrift.codec import I32, STRING, field_i32, field_list, string_item

    good = read_fields(field_list(1, STRING, [string_item("a"), string_item("é")]) + b"\x00", what="t")
    assert Fields(good, "t").text_list(1, "ids") == ("a", "é")
    assert Fields(good, "t").text_list(2, "other") == ()
    with pytest.raises(WireFormatError, match="field 2 other is missing"):
        Fields(good, "t").text_list(2, "other", required=True)
    ints = read_fields(field_list(1, I32, [b"\x00\x00\x00\x01"]) + b"\x00", what="t")
    with pytest.raises(WireFormatError, match=r"ids must be a list of strings \(ids\[0\] is not\)"):
        Fields(ints, "t").text_list(1, "ids")
    bad = read_fields(field_list(1, STRING, [b"\x00\x00\x00\x01\xff"]) + b"\x00", what="t")
    with pytest.raises(WireFormatError, match=r"ids\[0\] is not valid UTF-8"):
        Fields(bad, "t").text_list(1, "ids")
    scalar = read_fields(field_i32(1, 5) + b"\x00", what="t")
    with pytest.raises(WireFormatError, match="ids must be a list of strings, got a i32"):
        Fields(scalar, "t").text_list(1, "ids")
