"""kit.wrap: ECIES wrap / unwrap of a conversation key to an identity key."""

from __future__ import annotations

import base64
import hashlib
import os

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.x963kdf import X963KDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from kit import wrap as w
from kit.wrap import workers
from kit.errors import DecryptionError, WireFormatError
from kit.keys import Identity, load_public_key, sec1

P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
KEY = bytes(range(100, 132))


def _on_curve(point: bytes) -> bool:
    if len(point) != 65 or point[0] != 4:
        return False
    x, y = int.from_bytes(point[1:33], "big"), int.from_bytes(point[33:], "big")
    return x < P and y < P and (y * y - (x * x * x - 3 * x + B)) % P == 0


def _forms(identity: Identity) -> dict[str, object]:
    pub = load_public_key(identity.public_keys.public_key)
    spki = base64.b64decode(identity.public_keys.public_key)
    return {
        "parsed": pub,
        "spki": spki,
        "raw": sec1(pub),
        "compressed": pub.public_bytes(Encoding.X962, PublicFormat.CompressedPoint),
        "spki-b64": identity.public_keys.public_key,
        "raw-b64": base64.b64encode(sec1(pub)).decode(),
        "compressed-b64": base64.b64encode(pub.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)).decode(),
    }


@pytest.mark.parametrize("form", ["parsed", "spki", "raw", "compressed", "spki-b64", "raw-b64", "compressed-b64"])
def test_round_trip_every_recipient_form(bob, form):
    wrapped = w.wrap(KEY, _forms(bob)[form])
    assert len(wrapped) == w.WRAPPED_KEY_SIZE == 113
    assert wrapped[0] == 0x04
    assert _on_curve(wrapped[:65])
    assert w.unwrap(bob._identity, wrapped) == KEY
    assert bob.unwrap(wrapped) == KEY
    text = base64.b64encode(wrapped).decode()
    assert len(text) == 152 and text.startswith("B")
    assert bob.unwrap(text) == KEY


def test_wrap_is_randomised(bob):
    a, b = w.wrap(KEY, bob.public_keys.public_key), w.wrap(KEY, bob.public_keys.public_key)
    assert a != b
    assert a[:65] != b[:65]
    assert w.unwrap(bob._identity, a) == w.unwrap(bob._identity, b) == KEY


def test_bytearray_key_and_blob(bob):
    wrapped = w.wrap(bytearray(KEY), bob.public_keys.public_key)
    assert w.unwrap(bob._identity, bytearray(wrapped)) == KEY
    assert w.unwrap(bob._identity, memoryview(wrapped)) == KEY


def test_wrap_many(alice, bob, carol):
    recipients = [alice, bob, carol]
    out = list(w.wrap_many(KEY, [load_public_key(r.public_keys.public_key) for r in recipients]))
    assert len(out) == 3
    for r, wrapped in zip(recipients, out, strict=True):
        assert len(wrapped) == 113
        assert r.unwrap(wrapped) == KEY
    with pytest.raises(DecryptionError):
        bob.unwrap(out[0])
    assert list(w.wrap_many(KEY, [])) == []


# ----------------------------------------------------------------------------- the steps


def test_steps_match_an_independent_implementation(bob):
    eph = ec.generate_private_key(ec.SECP256R1())
    steps = w.wrap_steps(KEY, bob.public_keys.public_key, ephemeral=eph)
    e = eph.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    z = eph.exchange(ec.ECDH(), load_public_key(bob.public_keys.public_key))
    k = X963KDF(algorithm=hashes.SHA256(), length=32, sharedinfo=e).derive(z)
    assert steps.ephemeral_public == e
    assert steps.shared_secret == z == bob.exchange(e)
    assert steps.kdf_output == k  # the hashlib shortcut equals cryptography's X9.63 KDF
    assert steps.kdf_output == hashlib.sha256(z + b"\x00\x00\x00\x01" + e).digest()
    assert steps.aes_key == k[:16] and len(steps.aes_key) == 16  # AES-128
    assert steps.iv == k[16:] and len(steps.iv) == 16  # the 16-byte GCM nonce
    ct_tag = AESGCM(k[:16]).encrypt(k[16:], KEY, None)
    assert steps.ciphertext == ct_tag[:32]
    assert steps.tag == ct_tag[32:] and len(steps.tag) == 16
    assert steps.wrapped == e + ct_tag
    assert bob.unwrap(steps.wrapped) == KEY


@pytest.mark.parametrize("seed", range(5))
def test_kdf_equals_x963kdf_for_many_keys(seed):
    # The module's hashlib KDF against cryptography's X963KDF, through wrap_steps.
    recipient = Identity.from_seed(f"kdf {seed}", "1")
    steps = w.wrap_steps(os.urandom(32), recipient.public_keys.public_key)
    ref = X963KDF(algorithm=hashes.SHA256(), length=32, sharedinfo=steps.ephemeral_public).derive(steps.shared_secret)
    assert steps.kdf_output == ref


def test_steps_with_fixed_ephemeral_are_deterministic(bob):
    eph = ec.derive_private_key(123456789, ec.SECP256R1())
    a = w.wrap_steps(KEY, bob.public_keys.public_key, ephemeral=eph)
    b = w.wrap_steps(KEY, base64.b64decode(bob.public_keys.public_key)[26:], ephemeral=eph)
    assert a == b
    assert a.wrapped == b.wrapped
    assert len(a.wrapped) == 113
    assert w.unwrap(bob._identity, a.wrapped) == KEY
    assert w.wrap_steps(bytes(32), bob.public_keys.public_key, ephemeral=eph).wrapped != a.wrapped


# ----------------------------------------------------------------------------- failures


def test_every_flipped_byte_is_caught(bob):
    wrapped = w.wrap(KEY, bob.public_keys.public_key)
    for pos in range(len(wrapped)):
        for bit in (0x01, 0x80):
            bad = bytearray(wrapped)
            bad[pos] ^= bit
            if pos < 65 and not _on_curve(bytes(bad[:65])):
                with pytest.raises(WireFormatError, match="ephemeral key"):
                    w.unwrap(bob._identity, bytes(bad))
            else:
                with pytest.raises(DecryptionError, match="does not open"):
                    w.unwrap(bob._identity, bytes(bad))


def test_valid_but_different_ephemeral_point_is_decryption_error(bob, carol):
    wrapped = w.wrap(KEY, bob.public_keys.public_key)
    other_point = sec1(load_public_key(carol.public_keys.public_key))  # on the curve, wrong point
    with pytest.raises(DecryptionError):
        w.unwrap(bob._identity, other_point + wrapped[65:])
    # the negated point (x, p - y) is on the curve too
    y = int.from_bytes(wrapped[33:65], "big")
    negated = wrapped[:33] + (P - y).to_bytes(32, "big")
    assert _on_curve(negated)
    with pytest.raises(DecryptionError):
        w.unwrap(bob._identity, negated + wrapped[65:])


def test_wrong_identity(alice, bob):
    wrapped = w.wrap(KEY, bob.public_keys.public_key)
    with pytest.raises(DecryptionError, match="wrapped to another identity key"):
        alice.unwrap(wrapped)
    # signing key of the right user is not the identity key
    with pytest.raises(DecryptionError):
        w.unwrap(bob._signing, wrapped)


@pytest.mark.parametrize("n", [0, 1, 65, 80, 81, 97, 112, 114, 200])
def test_wrong_lengths(bob, n):
    with pytest.raises(WireFormatError, match=rf"must be 113 bytes .*got {n}"):
        w.unwrap(bob._identity, b"\x04" * n)


def test_wrong_type(bob):
    with pytest.raises(WireFormatError, match="must be bytes, got str"):
        w.unwrap(bob._identity, "x" * 113)


def test_identity_unwrap_rejects_bad_text(bob):
    with pytest.raises(WireFormatError, match="encrypted_conversation_key"):
        bob.unwrap("B" * 153)
    with pytest.raises(WireFormatError, match="more than the 400 allowed"):
        bob.unwrap("B" * 404)


@pytest.mark.parametrize("key", [bytes(31), bytes(33), b"", bytes(16), "k" * 32, None])
def test_conversation_key_must_be_32_bytes(bob, key):
    for call in (
        lambda: w.wrap(key, bob.public_keys.public_key),
        lambda: w.wrap_steps(key, bob.public_keys.public_key),
        lambda: list(w.wrap_many(key, [load_public_key(bob.public_keys.public_key)])),
    ):
        with pytest.raises(WireFormatError, match="conversation key must be exactly 32 bytes long"):
            call()


def test_bad_recipient_key(bob):
    with pytest.raises(WireFormatError, match="^recipient identity key"):
        w.wrap(KEY, b"\x04" + bytes(64))
    with pytest.raises(WireFormatError, match="^recipient identity key"):
        w.wrap(KEY, "nope!")


# ----------------------------------------------------------------------------- the helper-process path
#
# Large rosters are wrapped partly by helper processes (kit.wrap.workers, "both cores"). These tests force that
# path on a small roster so a bug in the helper's own copy of the wrap loop is caught in a second, not
# only by the large-roster interop test.


def _roster(n: int) -> list[ec.EllipticCurvePrivateKey]:
    return [ec.generate_private_key(ec.SECP256R1()) for _ in range(n)]


def test_helper_process_wraps_what_unwrap_opens() -> None:
    helper = workers.Helper()
    try:
        helper.start()
        privates = _roster(70)
        key = os.urandom(32)
        out = helper.wrap(key, [sec1(p.public_key()) for p in privates])
        assert len(out) == 70 and all(len(b) == w.WRAPPED_KEY_SIZE for b in out)
        for private, blob in zip(privates, out, strict=True):
            assert w.unwrap(private, blob) == key
        assert len({blob[:65] for blob in out}) == 70  # a fresh ephemeral key per participant
    finally:
        helper.close()


def test_forced_helper_path_inwrap_all(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "PARALLEL_MIN", 2)
    monkeypatch.setattr(workers, "WORKERS", 1)
    helpers = workers.helpers_for(1000)
    assert len(helpers) == 1
    helpers[0].start()  # ready before the job, so it takes chunks at once
    taken: list[int] = []
    real = workers.Helper.wrap

    def spy(self: workers.Helper, key: bytes, points: list[bytes]) -> list[bytes]:
        taken.append(len(points))
        return real(self, key, points)

    monkeypatch.setattr(workers.Helper, "wrap", spy)
    privates = _roster(600)
    key = os.urandom(32)
    progress: list[tuple[int, int]] = []
    out = w.wrap_all(key, [p.public_key() for p in privates], progress=lambda d, t: progress.append((d, t)))
    assert taken and sum(taken) >= 64, "the helper process wrapped nothing: the test did not reach the helper path"
    assert len(out) == 600
    for private, blob in zip(privates, out, strict=True):  # order is the roster's, every entry opens
        assert w.unwrap(private, blob) == key
    assert progress[-1] == (600, 600) and [d for d, _ in progress[:-1]] == [256, 512]
