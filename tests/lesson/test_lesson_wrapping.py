"""kit.lesson.wrapping: the by-hand wrap check knows the usual mistakes, and the tamper check tries it for real."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import kit
from kit.lesson import wrapping
from kit.points import sec1

KEY = bytes(range(32))
EPH = ec.derive_private_key(0xC0FFEE, ec.SECP256R1())


def parts(recipient: kit.Identity) -> tuple[bytes, bytes, bytes]:
    e = sec1(EPH.public_key())
    z = EPH.exchange(ec.ECDH(), recipient.public_keys.identity_key)
    return e, z, hashlib.sha256(z + b"\x00\x00\x00\x01" + e).digest()


def check(answer: object, bob: kit.Identity, alice: kit.Identity) -> kit.lesson.Check:
    return wrapping.check_wrap(answer, conversation_key=KEY, recipient=bob.public_keys.identity_key, ephemeral=EPH,
                               others={"alice": alice.public_keys.identity_key})  # fmt: skip


def test_the_right_wrap_passes(alice: kit.Identity, bob: kit.Identity) -> None:
    e, _, k = parts(bob)
    c = check(e + AESGCM(k[:16]).encrypt(k[16:], KEY, None), bob, alice)
    assert c and c.message == "✓ the same 113 bytes as kit.wrap"


@pytest.mark.parametrize(
    ("mistake", "said"),
    [
        ("iv12", "12-byte IV"),
        ("swapped", "swapped"),
        ("counter0", "counter starts at 1"),
        ("no_info", "shared info is E"),
        ("no_e", "goes first"),
        ("no_prefix", "04 prefix"),
        ("alice", "alice's identity key"),
        ("base64", "not base64"),
        ("flipped", "byte 70 (in the ciphertext"),
    ],
)
def test_each_usual_mistake_is_named(alice: kit.Identity, bob: kit.Identity, mistake: str, said: str) -> None:
    e, z, k = parts(bob)
    good = e + AESGCM(k[:16]).encrypt(k[16:], KEY, None)
    if mistake == "iv12":
        answer: object = e + AESGCM(k[:16]).encrypt(k[16:28], KEY, None)
    elif mistake == "swapped":
        answer = e + AESGCM(k[16:]).encrypt(k[:16], KEY, None)
    elif mistake == "counter0":
        k0 = hashlib.sha256(z + bytes(4) + e).digest()
        answer = e + AESGCM(k0[:16]).encrypt(k0[16:], KEY, None)
    elif mistake == "no_info":
        kz = hashlib.sha256(z + b"\x00\x00\x00\x01").digest()
        answer = e + AESGCM(kz[:16]).encrypt(kz[16:], KEY, None)
    elif mistake == "no_e":
        answer = good[65:]
    elif mistake == "no_prefix":
        answer = good[1:]
    elif mistake == "alice":
        answer = kit.wrap.wrap_steps(KEY, alice.public_keys.identity_key, ephemeral=EPH).wrapped
    elif mistake == "base64":
        answer = kit.encoding.b64(good)
    else:
        answer = good[:70] + bytes([good[70] ^ 1]) + good[71:]
    c = check(answer, bob, alice)
    assert not c and said in c.message, c.message


def test_tamper_check_follows_what_unwrap_does(bob: kit.Identity) -> None:
    wrapped = kit.wrap.wrap_steps(KEY, bob.public_keys.identity_key, ephemeral=EPH).wrapped
    assert wrapping.check_tamper_error("encoding error", wrapped=wrapped, byte=0, recipient=bob)
    assert wrapping.check_tamper_error("encoding error", wrapped=wrapped, byte=10, recipient=bob)
    assert wrapping.check_tamper_error("authentication failure", wrapped=wrapped, byte=90, recipient=bob)
    wrong = wrapping.check_tamper_error("encoding error", wrapped=wrapped, byte=100, recipient=bob)
    assert not wrong and wrong.message.startswith("✗ not 'encoding error': flipping byte 100 gives a DecryptionError")
    assert not wrapping.check_tamper_error("opens to another key", wrapped=wrapped, byte=100, recipient=bob)


def test_byte_0_is_an_invalid_prefix_not_an_off_curve_point(bob: kit.Identity) -> None:
    wrapped = bytearray(kit.wrap.wrap(KEY, bob.public_keys.identity_key))
    wrapped[0] = 0x05
    with pytest.raises(kit.WireFormatError, match="ephemeral key .* must start with 04 .*got 05"):
        bob.unwrap(bytes(wrapped))
