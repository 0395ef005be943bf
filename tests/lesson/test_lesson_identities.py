"""kit.lesson.identities: the fingerprint and same-key checks pass the right answer and name each mistake."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any

import pytest

import kit
from kit.lesson import BLANK, identities


def spki_of(text: str) -> bytes:
    return base64.b64decode(text)


def right_fingerprint(keys: kit.PublicKeys) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(spki_of(keys.public_key)).digest()).decode().rstrip("=")


def test_the_right_fingerprint_passes(bob: kit.Identity) -> None:
    c = identities.check_fingerprint(right_fingerprint(bob.public_keys), keys=bob.public_keys)
    assert c and c.message.startswith("✓ the fingerprint kit.fingerprint gives"), c.message
    assert right_fingerprint(bob.public_keys) == bob.fingerprint


def sec1_of(keys: kit.PublicKeys) -> bytes:
    return spki_of(keys.public_key)[26:]


FINGERPRINT_MISTAKES: list[tuple[Callable[[kit.PublicKeys], Any], str]] = [
    (lambda k: base64.urlsafe_b64encode(hashlib.sha256(sec1_of(k)).digest()).decode().rstrip("="), "raw 65-byte SEC1 point"),
    (lambda k: base64.urlsafe_b64encode(hashlib.sha256(sec1_of(k)).digest()).decode(), "raw SEC1 point, and kept the padding"),
    (lambda k: base64.urlsafe_b64encode(hashlib.sha256(spki_of(k.public_key)).digest()).decode(), "padded base64url"),
    (lambda k: base64.b64encode(hashlib.sha256(spki_of(k.public_key)).digest()).decode().rstrip("="), "standard base64 ('+' and '/')"),
    (lambda k: base64.b64encode(hashlib.sha256(spki_of(k.public_key)).digest()).decode(), "standard base64 with padding"),
    (lambda k: hashlib.sha256(spki_of(k.public_key)).hexdigest(), "hex digest"),
    (lambda k: base64.urlsafe_b64encode(hashlib.sha256(k.public_key.encode()).digest()).decode().rstrip("="), "hashed the base64 text"),
    (lambda k: base64.urlsafe_b64encode(hashlib.sha256(spki_of(k.signing_public_key)).digest()).decode().rstrip("="), "signing key's fingerprint"),
    (lambda k: right_fingerprint(k).encode(), "got bytes"),
    (lambda k: ..., "fill in the blank"),
    (lambda k: None, "is None"),
    (lambda k: right_fingerprint(k)[:-1], "stops after 42 characters"),
]


@pytest.mark.parametrize(("make", "said"), FINGERPRINT_MISTAKES, ids=[s for _, s in FINGERPRINT_MISTAKES])
def test_each_fingerprint_mistake_is_named(bob: kit.Identity, make: Callable[[kit.PublicKeys], Any], said: str) -> None:
    c = identities.check_fingerprint(make(bob.public_keys), keys=bob.public_keys)
    assert not c and said in c.message, c.message


def test_bobs_fingerprint_tells_the_alphabets_apart(bob: kit.Identity) -> None:
    """The exercise uses bob: his fingerprint has '_' in it, so the standard-base64 mistake differs from the right answer."""
    assert set(bob.fingerprint) & set("-_")


# ----------------------------------------------------------------------------- same_key


def good(api: str, sdk: str) -> bool:
    return base64.b64decode(api).endswith(base64.b64decode(sdk))


def reversed_(api: str, sdk: str) -> bool:
    return base64.b64decode(sdk).endswith(base64.b64decode(api))


def texts(api: str, sdk: str) -> bool:
    return api.endswith(sdk)


def equal(api: str, sdk: str) -> bool:
    return base64.b64decode(api) == base64.b64decode(sdk)


def last_32(api: str, sdk: str) -> bool:
    return base64.b64decode(api)[-32:] == base64.b64decode(sdk)[-32:]


def always(api: str, sdk: str) -> bool:
    return True


def raises(api: str, sdk: str) -> bool:
    raise ValueError("boom")


def no_return(api: str, sdk: str) -> None:
    good(api, sdk)


def blank(api: str, sdk: str) -> None:
    ...


def test_the_right_same_key_passes(alice: kit.Identity, bob: kit.Identity) -> None:
    c = identities.check_same_key_function(good, keys=alice.public_keys, other=bob.public_keys)
    assert c and c.message.startswith("✓"), c.message


@pytest.mark.parametrize(
    ("fn", "said"),
    [
        (reversed_, "wrong way round"),
        (texts, "compared the base64 texts"),
        (equal, "compared for equality"),
        (always, "True for another user's key"),
        (raises, "raised ValueError"),
        (no_return, "returned None"),
        (blank, "fill in the blank"),
        (..., "fill in the blank"),
        ("same", "should be a function"),
        (lambda a, s: "yes", "True or False"),
    ],
)
def test_each_same_key_mistake_is_named(alice: kit.Identity, bob: kit.Identity, fn: Any, said: str) -> None:
    c = identities.check_same_key_function(fn, keys=alice.public_keys, other=bob.public_keys)
    assert not c and said in c.message, c.message
    assert c.message != BLANK or said == "fill in the blank"
