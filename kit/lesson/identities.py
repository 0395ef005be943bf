"""Checks for 01 · Identities: the fingerprint built by hand, and a key compared in its two encodings.

The right answers come from the kit (`kit.keys.fingerprint`, `kit.keys.spki`, `kit.keys.sec1`) for the keys the
notebook passes in. The mistakes named are the ones people make with this API: hashing the raw SEC1 point
instead of the SPKI, hashing the base64 text instead of the bytes, padded or standard base64 where the
fingerprint is URL-safe and unpadded, a hex digest, the signing key instead of the identity key; and comparing
the base64 *texts* of an SPKI and a SEC1 point, which never line up (26 bytes of header is not a multiple of 3).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from kit.encoding import b64, b64_nopad, b64url_nopad
from kit.keys import PublicKeys, fingerprint, load_public_key, sec1, spki
from kit.lesson import BLANK, Check, call_learner, check_text, does_nothing, fail, is_blank, passed

__all__ = ["check_fingerprint", "check_same_key_function"]


def check_fingerprint(answer: Any, *, keys: PublicKeys) -> Check:
    """Your fingerprint (text) of `keys`' identity key against `kit.fingerprint`."""
    identity = load_public_key(keys.public_key, what="identity public key")
    expected = fingerprint(identity)
    der, point = spki(identity), sec1(identity)
    digest = hashlib.sha256(der).digest()
    signing_der = spki(load_public_key(keys.signing_public_key, what="signing public key"))
    mistakes = [
        (b64url_nopad(hashlib.sha256(point).digest()), "you hashed the raw 65-byte SEC1 point: the fingerprint is SHA-256 over the 91-byte SPKI (header and point)"),
        (base64.urlsafe_b64encode(hashlib.sha256(point).digest()).decode(), "you hashed the raw SEC1 point, and kept the padding: hash the 91-byte SPKI, and drop the '='"),
        (base64.urlsafe_b64encode(digest).decode(), "that is padded base64url (44 characters, ending '='): the fingerprint drops the padding, 43 characters"),
        (b64_nopad(digest), "that is standard base64 ('+' and '/'): the fingerprint is URL-safe base64 ('-' and '_'), without padding"),
        (b64(digest), "that is standard base64 with padding: the fingerprint is URL-safe base64 ('-' and '_'), without padding"),
        (digest.hex(), "that is the hex digest: the fingerprint is the 32 digest bytes in base64url without padding"),
        (b64url_nopad(hashlib.sha256(keys.public_key.encode()).digest()), "you hashed the base64 text: decode it to the 91 SPKI bytes first, and hash those"),
        (b64url_nopad(hashlib.sha256(signing_der).digest()), "that is the signing key's fingerprint: the fingerprint names the identity key (public_key)"),
    ]
    mistakes = [(m, why) for m, why in mistakes if m != expected]
    return check_text(answer, expected, right="the fingerprint kit.fingerprint gives (and the official SDK's get_public_key_fingerprint)", mistakes=mistakes)


def check_same_key_function(answer: Any, *, keys: PublicKeys, other: PublicKeys) -> Check:
    """Your ``same_key(api_key_b64, sdk_key_b64) -> bool``: does the API's SPKI text hold the SDK's SEC1 point?

    Tried on `keys`' identity key in both forms (True), `other`'s SEC1 point (False) and `keys`' own signing
    key (False). When it says False for the matching pair, the check tries the usual slips to name the one made.
    """
    if is_blank(answer) or (callable(answer) and does_nothing(answer)):
        return Check(False, BLANK)
    if not callable(answer):
        return fail(f"the answer should be a function (def same_key(api_key_b64, sdk_key_b64): ...), got a {type(answer).__name__}")
    api_text = keys.public_key
    point = sec1(load_public_key(api_text, what="identity public key"))
    sdk_text = b64(point)
    said, err = call_learner(answer, api_text, sdk_text)
    if err is not None:
        return fail(f"your function raised {type(err).__name__} ({err}): decode both texts with base64.b64decode, then compare the bytes")
    if said is None:
        return fail("your function returned None: return True when the keys are the same (and False when not)")
    if not isinstance(said, bool):
        return fail(f"your function should return True or False, it returned a {type(said).__name__}")
    if not said:
        probes = [
            ((sdk_text, api_text), "you have the two the wrong way round: the API's SPKI (91 bytes) ends with the SDK's SEC1 point (65 bytes)"),
            (("AAAA" + sdk_text, sdk_text), "you compared the base64 texts: 26 header bytes are not a multiple of 3, so the texts never line up. Decode both to bytes first"),
            ((api_text, api_text), "you compared for equality: the two forms differ in length; the SPKI *ends with* the SEC1 point"),
        ]
        for args, why in probes:
            got, err = call_learner(answer, *args)
            if err is None and got is True:
                return fail(why)
        return fail("your function says False for one identity key in its two forms: decode both texts to bytes, then check that the SPKI ends with the SEC1 point")
    cases = [
        (b64(sec1(load_public_key(other.public_key, what="identity public key"))), "another user's key"),
        (b64(sec1(load_public_key(keys.signing_public_key, what="signing public key"))), "the same user's signing key"),
    ]
    for text, whose in cases:
        got, err = call_learner(answer, api_text, text)
        if err is not None:
            return fail(f"your function raised {type(err).__name__} for {whose} ({err}): it should return False")
        if got is not False:
            return fail(f"your function says True for {whose}: check the whole 65-byte point (bytes.endswith), not a part of it")
    return passed("same_key agrees with the kit: True for one key in its SPKI and SEC1 forms, False for another key")
