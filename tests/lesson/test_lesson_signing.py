"""kit.lesson.signing: each check passes the right answer and names every mistake it claims to know."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

import kit
from kit.lesson import BLANK, signing

ALICE_ID = "1215441834412953600"
BOB_ID = "1603419180975409153"
MID = "5b0b8f0e-8c1f-4d7e-9a51-3f5c2b9d7e10"
VERSION = "1795545957535"
KEY = bytes(range(32))
# a key whose base64 has '+' and '/' (so URL-safe base64 differs) and needs padding
KEY_PLUS = bytes([0xFB, 0xFF, 0xBF] * 10 + [0xFE, 0xFF])


def payload_check(answer: object, key: bytes = KEY, conversation_id: str = f"{ALICE_ID}:{BOB_ID}") -> kit.lesson.Check:
    return signing.check_payload(answer, message_id=MID, sender_id=ALICE_ID, conversation_id=conversation_id,
                                 conversation_key_version=VERSION, conversation_key=key)  # fmt: skip


def right_payload(key: bytes = KEY, conv: str = f"{ALICE_ID}:{BOB_ID}", k: str | None = None) -> str:
    k = base64.b64encode(key).decode().rstrip("=") if k is None else k
    return f"ConversationKeyChangeEvent,{MID},{ALICE_ID},{conv},{VERSION},{k}"


def test_the_right_payload_passes() -> None:
    assert payload_check(right_payload())
    assert payload_check(right_payload(KEY_PLUS), key=KEY_PLUS)
    # any spelling of the conversation passed in: the check signs the canonical form
    assert payload_check(right_payload(), conversation_id=f"{BOB_ID}-{ALICE_ID}")
    assert payload_check(right_payload()).message == "✓ the kit's v7 payload"


@pytest.mark.parametrize(
    ("answer", "key", "said"),
    [
        (right_payload(conv=f"{ALICE_ID}-{BOB_ID}"), KEY, "URL form A-B"),
        (right_payload(conv=f"{BOB_ID}:{ALICE_ID}"), KEY, "wrong order"),
        (right_payload(conv=f"{BOB_ID}-{ALICE_ID}"), KEY, "URL form, reversed"),
        (right_payload(k=base64.b64encode(KEY).decode()), KEY, "*with* padding"),
        (right_payload(KEY_PLUS, k=base64.urlsafe_b64encode(KEY_PLUS).decode().rstrip("=")), KEY_PLUS, "URL-safe"),
        (right_payload(k=KEY.hex()), KEY, "in hex"),
        (right_payload() + "\n", KEY, "newline at the end"),
        (f"ConversationKeyChangeEvent,{ALICE_ID},{MID},{ALICE_ID}:{BOB_ID},{VERSION},{right_payload().rsplit(',', 1)[1]}", KEY, "swapped"),
        (right_payload().removeprefix("ConversationKeyChangeEvent,"), KEY, "event type is missing"),
        (right_payload().encode(), KEY, "got bytes"),
        (..., KEY, "fill in the blank"),
        (right_payload().replace(VERSION, "1795545957536"), KEY, "character 136"),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 40 else "",
)
def test_each_payload_mistake_is_named(answer: object, key: bytes, said: str) -> None:
    c = payload_check(answer, key=key)
    assert not c and said in c.message, c.message


def test_signature_text(alice: kit.Identity) -> None:
    sig = alice.sign(b"x")
    while b"/" not in base64.b64encode(sig) and b"+" not in base64.b64encode(sig):  # pragma: no cover - seed dependent
        sig = alice.sign(sig)
    assert signing.check_signature_text(base64.b64encode(sig).decode().rstrip("="), signature=sig)
    for wrong, said in [
        (base64.b64encode(sig).decode(), "padded base64"),
        (base64.urlsafe_b64encode(sig).decode().rstrip("="), "URL-safe base64 ('-'"),
        (base64.urlsafe_b64encode(sig).decode(), "URL-safe base64 with padding"),
        (sig.hex(), "hex"),
        (sig, "got bytes"),
        (..., "fill in the blank"),
    ]:
        c = signing.check_signature_text(wrong, signature=sig)
        assert not c and said in c.message, (wrong, c.message)


def good_verify(public_key: Any, signature: bytes, payload: bytes) -> bool:
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    try:
        public_key.verify(encode_dss_signature(r, s), payload, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def little_endian(public_key: Any, signature: bytes, payload: bytes) -> bool:
    return good_verify(public_key, signature[:32][::-1] + signature[32:][::-1], payload)


def swapped(public_key: Any, signature: bytes, payload: bytes) -> bool:
    return good_verify(public_key, signature[32:] + signature[:32], payload)


def prehashed(public_key: Any, signature: bytes, payload: bytes) -> bool:
    return good_verify(public_key, signature, hashlib.sha256(payload).digest())


def raw_to_cryptography(public_key: Any, signature: bytes, payload: bytes) -> bool:
    try:
        public_key.verify(signature, payload, ec.ECDSA(hashes.SHA256()))  # raw r‖s, not DER
    except InvalidSignature:
        return False
    return True


def lets_it_raise(public_key: Any, signature: bytes, payload: bytes) -> bool:
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    public_key.verify(encode_dss_signature(r, s), payload, ec.ECDSA(hashes.SHA256()))
    return True


def no_return(public_key: Any, signature: bytes, payload: bytes) -> None:
    good_verify(public_key, signature, payload)


def blank(public_key: Any, signature: bytes, payload: bytes) -> None:
    ...


GLOBAL_PAYLOAD: list[bytes] = []


def ignores_payload(public_key: Any, signature: bytes, payload: bytes) -> bool:
    return good_verify(public_key, signature, GLOBAL_PAYLOAD[0])


GLOBAL_KEY: list[Any] = []


def ignores_key(public_key: Any, signature: bytes, payload: bytes) -> bool:
    return good_verify(GLOBAL_KEY[0], signature, payload)


@pytest.fixture
def signed(alice: kit.Identity) -> tuple[bytes, bytes]:
    payload = kit.signature.key_change_payload(message_id=MID, sender_id=ALICE_ID, conversation_id=f"{ALICE_ID}:{BOB_ID}",
                                               conversation_key_version=VERSION, conversation_key=KEY)  # fmt: skip
    GLOBAL_PAYLOAD[:] = [payload]
    GLOBAL_KEY[:] = [alice.public_keys.signing_key]
    return alice.sign(payload), payload


def test_the_right_verify_passes(alice: kit.Identity, bob: kit.Identity, signed: tuple[bytes, bytes]) -> None:
    sig, payload = signed
    c = signing.check_verify_function(good_verify, signer=alice, signature=sig, payload=payload, other=bob)
    assert c and c.message.startswith("✓"), c.message


@pytest.mark.parametrize(
    ("fn", "said"),
    [
        (little_endian, "not little-endian"),
        (swapped, "swapped"),
        (prehashed, "do not hash the payload yourself"),
        (raw_to_cryptography, "encode_dss_signature"),
        (lets_it_raise, "InvalidSignature escape"),
        (no_return, "returned None"),
        (blank, "fill in the blank"),
        (..., "fill in the blank"),
        (ignores_payload, "verify the `payload` argument"),
        (ignores_key, "bob's signing key"),
        ("not a function", "should be a function"),
        (lambda k, s, p: "yes", "True or False"),
    ],
)
def test_each_verify_mistake_is_named(alice: kit.Identity, bob: kit.Identity, signed: tuple[bytes, bytes], fn: Callable[..., Any], said: str) -> None:
    sig, payload = signed
    c = signing.check_verify_function(fn, signer=alice, signature=sig, payload=payload, other=bob)
    assert not c and said in c.message, c.message


@pytest.fixture
def detail(alice: kit.Identity, bob: kit.Identity) -> bytes:
    return kit.prepare_key_init(alice, [bob.public_keys], version=VERSION, message_id=MID, conversation_key=KEY).encoded_detail


def test_the_right_list_header_passes(detail: bytes) -> None:
    at = 3 + 3 + 4 + len(VERSION)
    c = signing.check_list_header(detail[at], int.from_bytes(detail[at + 1 : at + 3], "big"), detail[at + 3],
                                  int.from_bytes(detail[at + 4 : at + 8], "big"), detail=detail)  # fmt: skip
    assert c and "element-type byte and a four-byte count" in c.message


@pytest.mark.parametrize(
    ("answers", "said"),
    [
        ((0x0B, 1, 0x0C, 2), "field 1's header"),
        ((0x0C, 2, 0x0C, 2), "type byte"),
        ((0x0F, 512, 0x0C, 2), "big-endian (00 02 = 2), not little-endian"),
        ((0x0F, 3, 0x0C, 2), "are the field id"),
        ((0x0F, 2, 0x0F, 2), "elements' type"),
        ((0x0F, 2, 0x0C, 0x0C000000), "included the element-type byte"),
        ((0x0F, 2, 0x0C, 0), "not one or two"),
        ((0x0F, 2, 0x0C, 0x02000000), "big-endian, not little-endian"),
        ((0x0F, 2, 0x0C, 3), "number of entries"),
        ((b"\x0f", 2, 0x0C, 2), "got bytes"),
        (("0f", 2, 0x0C, 2), "got text"),
        ((0x0F, 2, 0x0C, ...), "fill in the blank"),
    ],
)
def test_each_list_header_mistake_is_named(detail: bytes, answers: tuple[Any, ...], said: str) -> None:
    c = signing.check_list_header(*answers, detail=detail)
    assert not c and said in c.message, c.message
    assert c.message != BLANK or said == "fill in the blank"
