"""Hostile input: every reader either succeeds or raises a `kit.KitError` with a message.

Random bytes, truncated and mutated copies of valid events, and hand-made bytes that declare
huge lengths or nest deeply go to each function that reads outside bytes. Any other exception
type (IndexError, struct.error, UnicodeDecodeError, RecursionError, MemoryError, ...) is a bug.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import struct
import time
import tracemalloc
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kit
from kit import encoding, keys, signature, thrift, wrap
from kit.message import open_text
from kit.protocol import key_change_event
from kit.thrift import MessageEvent, encode_text, read_event_signature

ALICE = kit.Identity.from_seed("alice (demo only)", "1215441834412953600", version="1")
BOB = kit.Identity.from_seed("bob (demo only)", "1603419180975409153", version="1")
KEY = bytes(range(32))
VERSION = "1795545957535"
TEXT = "hello, hostile world"

INIT = kit.prepare_key_init(
    ALICE,
    [BOB.public_keys],
    version=VERSION,
    conversation_key=KEY,
    message_id="11111111-2222-4333-8444-555555555555",
)
DETAIL = INIT.encoded_detail
KC_EVENT = key_change_event(
    INIT.body,
    sender_id=ALICE.user_id,
    conversation_id=INIT.conversation_id,
    sequence_id="2070276095283454100",
    created_at_msec=VERSION,
).encode()
PM = kit.prepare_message(
    ALICE,
    BOB.user_id,
    TEXT,
    conversation_key=KEY,
    conversation_key_version=VERSION,
    message_id="66666666-7777-4888-9999-aaaaaaaaaaaa",
    nonce=bytes(range(24)),
    ttl_msec=60_000,
)
MCE = base64.b64decode(PM.body["encoded_message_create_event"])
MES = base64.b64decode(PM.body["encoded_message_event_signature"])
MSG_EVENT = MessageEvent(
    sequence_id="2070276095283454200",
    message_id=PM.message_id,
    sender_id=ALICE.user_id,
    conversation_id=PM.conversation_id,
    created_at_msec=VERSION,
    detail=b"\x0c\x00\x01" + MCE + b"\x00",
    signature=read_event_signature(MES),
).encode()
PLAIN = encode_text(TEXT)
WRAPPED = wrap.wrap(KEY, BOB.public_keys.public_key)
SPKI = base64.b64decode(ALICE.public_keys.public_key)
SIG = ALICE.sign(b"x")


def _read_key_change(data: object) -> object:
    return kit.read_key_change(data, recipient=BOB, signing_keys=[ALICE.public_keys])  # type: ignore[arg-type]


def _read_message(data: object) -> object:
    return kit.read_message(data, conversation_key={VERSION: KEY}, signing_keys=[ALICE.public_keys])  # type: ignore[arg-type]


READERS: dict[str, Callable[[object], object]] = {
    "read_fields": thrift.read_fields,
    "read_detail": thrift.read_detail,
    "read_message_event": thrift.read_message_event,
    "read_message_create_event": thrift.read_message_create_event,
    "read_event_signature": thrift.read_event_signature,
    "read_text": thrift.read_text,
    "read_key_change": _read_key_change,
    "read_message": _read_message,
    "from_b64": lambda d: encoding.from_b64(d, what="hostile field"),
    "load_public_key": keys.load_public_key,
    "decode_signature": signature.decode_signature,
    "unwrap": lambda d: wrap.unwrap(BOB._identity, d),
    "open_text": lambda d: open_text(d, KEY),
}

#: valid encodings and the readers that take them
SAMPLES: dict[str, tuple[bytes, tuple[str, ...]]] = {
    "detail": (DETAIL, ("read_detail", "read_fields")),
    "key-change event": (KC_EVENT, ("read_message_event", "read_key_change", "read_fields")),
    "message event": (MSG_EVENT, ("read_message_event", "read_message", "read_fields")),
    "message create event": (MCE, ("read_message_create_event", "read_fields")),
    "message event signature": (MES, ("read_event_signature", "read_fields")),
    "plaintext": (PLAIN, ("read_text", "read_fields")),
}
SAMPLE_READERS = [(name, reader) for name, (_, readers) in SAMPLES.items() for reader in readers]

HOSTILE = settings(deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow])


def _outcome(reader: str, data: object) -> BaseException | None:
    """Run one reader; return its KitError, None on success, and fail on anything else."""
    try:
        READERS[reader](data)
    except kit.KitError as exc:
        assert str(exc).strip(), f"{reader} raised {type(exc).__name__} with an empty message"
        return exc
    except Exception as exc:  # noqa: BLE001 - the point of the test
        pytest.fail(f"{reader}({data!r:.120}) raised {type(exc).__name__}: {exc}")
    return None


def test_samples_are_valid():
    assert kit.read_key_change(KC_EVENT, recipient=BOB, signing_keys=[ALICE.public_keys]).conversation_key == KEY
    assert _read_message(MSG_EVENT).text == TEXT  # type: ignore[attr-defined]
    for name, (data, readers) in SAMPLES.items():
        for reader in readers:
            assert _outcome(reader, data) is None, (name, reader)
    assert _outcome("unwrap", WRAPPED) is None
    assert _outcome("load_public_key", SPKI) is None
    assert _outcome("decode_signature", base64.b64encode(SIG).decode()) is None


# ----------------------------------------------------------------------------- random bytes


@pytest.mark.timeout(60)
@pytest.mark.parametrize("reader", sorted(READERS))
@HOSTILE
@given(data=st.binary(max_size=400))
def test_random_bytes(reader, data):
    _outcome(reader, data)


_FIELD_BITS = st.one_of(
    st.sampled_from([b"\x00", b"\x02", b"\x0b", b"\x0c", b"\x0d", b"\x0e", b"\x0f", b"\x08", b"\x0a"]),
    st.builds(
        lambda t, f: struct.pack(">bh", t, f),
        st.sampled_from([2, 3, 4, 6, 8, 10, 11, 12, 13, 14, 15]),
        st.integers(-3, 110),
    ),
    st.builds(lambda n: struct.pack(">i", n), st.sampled_from([0, 1, 2, 5, 13, 19, 86, 152, 2**31 - 1, -1, -(2**31)])),
    st.binary(max_size=6),
    st.sampled_from([VERSION.encode(), b"7", b"\xff\xfe", b"1215441834412953600"]),
)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "reader",
    [
        "read_fields",
        "read_detail",
        "read_message_event",
        "read_message_create_event",
        "read_event_signature",
        "read_text",
    ],
)
@HOSTILE
@given(parts=st.lists(_FIELD_BITS, max_size=40))
def test_thrift_shaped_garbage(reader, parts):
    _outcome(reader, b"".join(parts))


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "reader", ["read_key_change", "read_message", "from_b64", "load_public_key", "decode_signature"]
)
@HOSTILE
@given(text=st.one_of(st.text(max_size=300), st.text(alphabet="ABCDEFabcdef0123456789+/=-_ \n", max_size=300)))
def test_random_text(reader, text):
    _outcome(reader, text)


@pytest.mark.parametrize(
    "reader", ["read_key_change", "read_message", "from_b64", "load_public_key", "decode_signature", "unwrap"]
)
@pytest.mark.parametrize("value", [None, 0, 3.5, [], {}, object(), "", b""])
def test_wrong_types(reader, value):
    _outcome(reader, value)


@pytest.mark.timeout(60)
@HOSTILE
@given(data=st.binary(min_size=113, max_size=113))
def test_unwrap_random_blobs(data):
    assert _outcome("unwrap", data) is not None  # 2^-128 chance of a valid tag


@pytest.mark.timeout(60)
@HOSTILE
@given(tail=st.binary(min_size=48, max_size=48))
def test_unwrap_valid_point_random_rest(tail):
    # a valid ephemeral point gets past the curve check to AES-GCM: DecryptionError
    assert isinstance(_outcome("unwrap", WRAPPED[:65] + tail), kit.DecryptionError)


# ----------------------------------------------------------------------------- truncation


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("sample", "reader"), SAMPLE_READERS)
def test_every_truncated_prefix(sample, reader):
    data = SAMPLES[sample][0]
    for n in range(len(data)):
        err = _outcome(reader, data[:n])
        assert isinstance(err, kit.WireFormatError), f"{reader} accepted {n} of {len(data)} bytes of the {sample}"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("reader", ["read_key_change", "read_message"])
def test_truncated_base64_text(reader):
    data = KC_EVENT if reader == "read_key_change" else MSG_EVENT
    text = base64.b64encode(data).decode()
    for n in range(0, len(text.rstrip("=")), 7):  # the unpadded whole text is valid, so stop short
        assert isinstance(_outcome(reader, text[:n]), kit.WireFormatError)


def test_truncated_small_inputs():
    for n in range(len(WRAPPED)):
        assert isinstance(_outcome("unwrap", WRAPPED[:n]), kit.WireFormatError)
    for n in range(len(SPKI)):
        assert isinstance(_outcome("load_public_key", SPKI[:n]), kit.WireFormatError)
    text = base64.b64encode(SIG).decode()
    for n in range(len(text.rstrip("="))):
        assert isinstance(_outcome("decode_signature", text[:n]), kit.WireFormatError)


# ----------------------------------------------------------------------------- mutations


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("sample", "reader"), SAMPLE_READERS)
def test_every_single_byte_flip(sample, reader):
    data = SAMPLES[sample][0]
    for pos in range(len(data)):
        mutated = bytearray(data)
        mutated[pos] ^= 0xFF
        _outcome(reader, bytes(mutated))


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("sample", "reader"), SAMPLE_READERS)
@HOSTILE
@given(data=st.data())
def test_random_mutations(sample, reader, data):
    original = SAMPLES[sample][0]
    mutated = bytearray(original)
    edits = data.draw(
        st.lists(st.tuples(st.integers(0, len(original) - 1), st.integers(0, 255)), min_size=1, max_size=4)
    )
    for pos, value in edits:
        mutated[pos] = value
    if data.draw(st.booleans()):
        cut = data.draw(st.integers(0, len(mutated)))
        mutated = mutated[:cut] + data.draw(st.binary(max_size=8)) + mutated[cut:]
    _outcome(reader, bytes(mutated))


def test_mutated_signature_version_digits():
    # "²" passes str.isdigit() but not int(); a 5000-digit version hits Python's int() limit
    for version in ("²", "٣", "7" * 5000, "0" * 40 + "7", " 7", "7\n"):
        ev = thrift.read_message_event(KC_EVENT)
        ev = dataclasses.replace(ev, signature=dataclasses.replace(ev.signature, signature_version=version))
        assert isinstance(_outcome("read_key_change", ev.encode()), kit.SignatureError), version
        mev = thrift.read_message_event(MSG_EVENT)
        mev = dataclasses.replace(mev, signature=dataclasses.replace(mev.signature, signature_version=version))
        assert isinstance(_outcome("read_message", mev.encode()), kit.SignatureError), version


def test_wrapped_key_mutations_inside_event():
    # every byte of bob's wrapped key changed inside an otherwise valid event
    detail = thrift.read_detail(DETAIL)
    entry = next(p for p in detail.participant_keys if p.user_id == BOB.user_id)
    raw = base64.b64decode(entry.encrypted_conversation_key)
    for pos in range(0, len(raw), 3):
        bad = bytearray(raw)
        bad[pos] ^= 0x40
        keys_ = tuple(
            thrift.ParticipantKey(p.user_id, base64.b64encode(bytes(bad)).decode(), p.public_key_version)
            if p is entry
            else p
            for p in detail.participant_keys
        )
        ev = thrift.read_message_event(KC_EVENT)
        ev = dataclasses.replace(ev, detail=thrift.KeyChangeDetail(detail.conversation_key_version, keys_).encode())
        err = _outcome("read_key_change", ev.encode())
        assert isinstance(err, (kit.DecryptionError, kit.WireFormatError)), pos


# ----------------------------------------------------------------------------- crafted lengths and depth


def _h(ttype: int, fid: int) -> bytes:
    return struct.pack(">bh", ttype, fid)


def _i32(n: int) -> bytes:
    return struct.pack(">i", n)


HUGE = [2**31 - 1, 2**31 - 2, 2**24, -1, -(2**31)]


def _crafted() -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    for n in HUGE:
        out += [
            (f"string {n}", _h(11, 1) + _i32(n) + b"abc" + b"\x00"),
            (f"list<string> {n}", _h(15, 1) + b"\x0b" + _i32(n) + b"\x00"),
            (f"list<struct> {n}", _h(15, 2) + b"\x0c" + _i32(n) + b"\x00\x00"),
            (f"list<bool> {n}", _h(15, 2) + b"\x02" + _i32(n) + b"\x01\x00"),
            (f"list<list> {n}", _h(15, 2) + b"\x0f" + _i32(n) + b"\x00"),
            (f"set<i64> {n}", _h(14, 2) + b"\x0a" + _i32(n) + b"\x00"),
            (f"map<string,string> {n}", _h(13, 1) + b"\x0b\x0b" + _i32(n) + b"\x00"),
            (f"map<bool,struct> {n}", _h(13, 1) + b"\x02\x0c" + _i32(n) + b"\x00\x00"),
            # inside the union and the key change, where the typed readers look
            (f"kce list {n}", _h(12, 3) + _h(11, 1) + _i32(1) + b"1" + _h(15, 2) + b"\x0c" + _i32(n) + b"\x00\x00"),
            (f"kce version {n}", _h(12, 3) + _h(11, 1) + _i32(n) + b"\x00\x00"),
            (f"participant string {n}", _h(12, 3) + _h(15, 2) + b"\x0c" + _i32(1) + _h(11, 1) + _i32(n) + b"\x00" * 4),
            (f"mce contents {n}", _h(11, 100) + _i32(n) + b"\x00" * 8),
            (
                f"event detail {n}",
                _h(11, 1) + _i32(1) + b"1" + _h(12, 7) + _h(12, 1) + _h(11, 100) + _i32(n) + b"\x00" * 3,
            ),
            (f"list inside list {n}", _h(15, 1) + b"\x0f" + _i32(1) + b"\x0b" + _i32(n) + b"\x00"),
        ]
    for depth in (33, 100, 5_000, 50_000):
        out += [
            (f"struct depth {depth}", _h(12, 1) * depth + b"\x00" * (depth + 1)),
            (f"list depth {depth}", _h(15, 1) + (b"\x0f" + _i32(1)) * depth + b"\x0b" + _i32(0) + b"\x00"),
            (
                f"map depth {depth}",
                _h(13, 1) + (b"\x0b\x0d" + _i32(1) + _i32(0)) * depth + b"\x0b\x0b" + _i32(0) + b"\x00",
            ),
            (f"union depth {depth}", _h(12, 3) * depth + b"\x00" * (depth + 1)),
            (f"event depth {depth}", _h(12, 7) + _h(12, 1) * depth + b"\x00" * (depth + 2)),
            (
                f"list<struct> depth {depth}",
                (_h(15, 1) + b"\x0c" + _i32(1)) + (b"\x0f\x00\x01\x0c" + _i32(1)) * depth + b"\x00" * (depth + 2),
            ),
        ]
    return out


CRAFTED = _crafted()
THRIFT_READERS = [
    "read_fields",
    "read_detail",
    "read_message_event",
    "read_message_create_event",
    "read_event_signature",
    "read_text",
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("name", "data"), CRAFTED, ids=[name for name, _ in CRAFTED])
def test_crafted_lengths_and_depth(name, data):
    for reader in THRIFT_READERS + ["read_key_change", "read_message"]:
        err = _outcome(reader, data)
        assert isinstance(err, kit.WireFormatError), f"{reader} accepted {name}"
    for reader in ("read_key_change", "read_message"):
        assert isinstance(_outcome(reader, base64.b64encode(data).decode()), kit.WireFormatError)
    for reader in ("from_b64", "load_public_key", "decode_signature", "unwrap", "open_text"):
        _outcome(reader, data)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "data",
    [
        _h(15, 1) + b"\x0c" + _i32(2**31 - 1) + b"\x00",
        _h(15, 1) + b"\x0b" + _i32(-(2**31)) + b"\x00",
        _h(11, 1) + _i32(2**31 - 1) + b"\x00\x00\x00",
        _h(13, 1) + b"\x0c\x0c" + _i32(2**31 - 1) + b"\x00",
        _h(14, 1) + b"\x02" + _i32(2**31 - 1) + b"\x00",
    ],
    ids=["list<struct>", "list<string> negative", "string", "map<struct,struct>", "set<bool>"],
)
def test_huge_declaration_fails_fast_and_small(data):
    assert len(data) <= 11
    tracemalloc.start()
    try:
        start = time.perf_counter()
        for reader in THRIFT_READERS:
            assert isinstance(_outcome(reader, data), kit.WireFormatError)
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * 1024 * 1024, f"peak {peak} bytes for a {len(data)}-byte input"
    assert elapsed < 1.0


@pytest.mark.timeout(60)
def test_memory_stays_proportional_for_dense_scalars():
    # 40 kB of list<bool>: each element is one input byte; memory grows with the input, not the declared count
    n = 40_000
    data = _h(15, 1) + b"\x02" + _i32(n) + b"\x01" * n + b"\x00"
    tracemalloc.start()
    try:
        with contextlib.suppress(kit.WireFormatError):  # the value budget may refuse it: also fine
            thrift.read_fields(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 * len(data)


# The reader builds a Struct object (~200 bytes) per 1-byte empty struct; its value budget keeps a
# list of empty structs from amplifying memory ~200x.
@pytest.mark.timeout(60)
def test_memory_amplification_of_empty_structs():
    n = 20_000
    data = _h(15, 1) + b"\x0c" + _i32(n) + b"\x00" * n + b"\x00"
    tracemalloc.start()
    try:
        with contextlib.suppress(kit.WireFormatError):  # refusing is a fine answer too
            thrift.read_fields(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * len(data)


@pytest.mark.timeout(60)
def test_oversized_base64_is_refused_before_decoding():
    from kit.protocol import MAX_EVENT_CHARS

    text = "A" * (MAX_EVENT_CHARS + 4)
    for reader in ("read_key_change", "read_message"):
        err = _outcome(reader, text)
        assert isinstance(err, kit.WireFormatError) and "more than" in str(err)
    assert isinstance(_outcome("load_public_key", "A" * 10_000), kit.WireFormatError)
    assert isinstance(_outcome("decode_signature", "A" * 10_000), kit.WireFormatError)


# ----------------------------------------------------------------------------- digits and text from outside

#: Digits str.isdigit() takes and int() may not (superscript, Arabic-Indic, full-width), a lone
#: surrogate (valid in JSON, no text in UTF-8), and a leading zero (a second spelling of a number).
ODD_NUMBERS = ["²", "١٢٣", "１２３", "1²", "\ud800", "1\ud800", "01", "0" + VERSION]


@pytest.mark.parametrize("odd", ODD_NUMBERS)
def test_odd_digits_and_surrogates_in_what_the_kit_builds(odd):
    builders = {
        "ConversationId.parse": lambda: kit.ConversationId.parse(f"1-{odd}"),
        "Identity.generate": lambda: kit.Identity.generate(odd),
        "Identity version": lambda: kit.Identity.generate(ALICE.user_id, version=odd),
        "prepare_key_init": lambda: kit.prepare_key_init(ALICE, [BOB.public_keys], version=odd),
        "prepare_message": lambda: kit.prepare_message(
            ALICE, BOB.user_id, "x", conversation_key=KEY, conversation_key_version=odd
        ),
        "Keyring.key": lambda: kit.Keyring().key("1:2", odd),
    }
    for name, build in builders.items():
        with pytest.raises(kit.WireFormatError) as err:
            build()
        assert str(err.value).strip(), name


@pytest.mark.parametrize("odd", ["\ud800", "A\udfffA", "²", "１２３"])
def test_text_readers_refuse_surrogates_and_odd_digits(odd):
    for reader in ("from_b64", "load_public_key", "decode_signature", "read_key_change", "read_message"):
        assert isinstance(_outcome(reader, odd), kit.KitError), reader
