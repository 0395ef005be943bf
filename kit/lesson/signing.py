"""Checks for 03 · Signing and describing: the v7 payload, the signature text, a verify by hand, a Thrift header.

Each checker rebuilds the right answer with the kit (`kit.signature`, `kit.thrift`) from the values the
notebook passes in, and names the mistakes people make: the URL form ``A-B`` (or ``max:min``) where the
signed text has ``min:max``, padded or URL-safe base64, raw ``r‖s`` where `cryptography` wants DER, a
little-endian field id, a list count that is not the four bytes after the element-type byte.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from kit import thrift
from kit.encoding import b64, b64_nopad, b64url_nopad
from kit.ids import ConversationId
from kit.keys import Identity
from kit.lesson import BLANK, Check, call_learner, check_text, does_nothing, fail, is_blank, passed
from kit.signature import encode_signature, key_change_payload, verify
from kit.errors import KitError

__all__ = ["check_list_header", "check_payload", "check_signature_text", "check_verify_function"]


def check_payload(
    answer: Any, *, message_id: str, sender_id: str, conversation_id: str, conversation_key_version: str, conversation_key: bytes
) -> Check:
    """Your v7 key-change payload (text) against `kit.signature.key_change_payload` for the same values.

    `conversation_id` may be any spelling of the conversation (the check signs its canonical form).
    """
    cid = ConversationId.parse(conversation_id, caller=sender_id)
    expected = key_change_payload(
        message_id=message_id, sender_id=sender_id, conversation_id=cid.canonical,
        conversation_key_version=conversation_key_version, conversation_key=conversation_key,
    ).decode()  # fmt: skip
    key = b64_nopad(conversation_key)

    def text(*, mid: str = message_id, sender: str = sender_id, conv: str = cid.canonical, k: str = key) -> str:
        return ",".join(("ConversationKeyChangeEvent", mid, sender, conv, conversation_key_version, k))

    mistakes: list[tuple[Any, str]] = []
    if not cid.is_group:
        lo, hi = cid.members
        mistakes += [
            (text(conv=cid.path), "the conversation id is the URL form A-B: what is signed is the canonical min:max, with a colon"),
            (text(conv=f"{hi}:{lo}"), "the two user ids are in the wrong order: the canonical id is min:max, the smaller id first"),
            (text(conv=f"{hi}-{lo}"), "that is the URL form, reversed: what is signed is the canonical min:max, smaller id first, with a colon"),
        ]
    padded, urlsafe = b64(conversation_key), b64url_nopad(conversation_key)
    if padded != key:
        mistakes.append((text(k=padded), "the key is base64 *with* padding ('='): the signed text has it without padding (43 characters)"))
    if urlsafe != key:
        mistakes.append((text(k=urlsafe), "the key is URL-safe base64 ('-' and '_'): the signed text uses standard base64 ('+' and '/'), unpadded"))
    mistakes += [
        (text(k=conversation_key.hex()), "the key is in hex: the signed text has it in base64 without padding"),
        (expected + "\n", "there is a newline at the end: the signed text ends with the key, no newline"),
        (text(mid=sender_id, sender=message_id), "message_id and sender_id are swapped: the message id comes first, right after the event type"),
        (",".join((message_id, sender_id, cid.canonical, conversation_key_version, key)), "the event type is missing: the text starts with ConversationKeyChangeEvent,"),
        (text(sender=""), "a part is empty: every part is there, joined by single commas"),
    ]
    mistakes = [(m, why) for m, why in mistakes if m != expected]
    return check_text(answer, expected, right="the kit's v7 payload", mistakes=mistakes)


def check_signature_text(answer: Any, *, signature: bytes) -> Check:
    """Your base64 text of a raw 64-byte action signature against `kit.signature.encode_signature`."""
    expected = encode_signature(signature)
    mistakes = [
        (b64(signature), "that is padded base64 (88 characters, ending '=='): an action signature is base64 *without* padding, 86 characters (only the registration's binding signatures are padded)"),
        (b64url_nopad(signature), "that is URL-safe base64 ('-' and '_'): action signatures use standard base64 ('+' and '/'); the fingerprint is the URL-safe one"),
        (base64.urlsafe_b64encode(signature).decode(), "that is URL-safe base64 with padding: action signatures use standard base64 ('+' and '/') without padding"),
        (signature.hex(), "that is hex: the wire text is base64 without padding"),
    ]
    mistakes = [(m, why) for m, why in mistakes if m != expected]
    return check_text(answer, expected, right="the signature text as it goes in the body (86 characters)", mistakes=mistakes)


def check_verify_function(
    answer: Any, *, signer: Identity, signature: bytes, payload: bytes, other: Identity
) -> Check:
    """Your ``verify(public_key, signature, payload) -> bool``, built on `cryptography`, tried on four cases.

    It must say True for `signer`'s genuine `signature` over `payload`, and False for the payload with the URL
    form ``A-B``, `other`'s signing key and `signer`'s identity key. When it says False for the genuine one,
    the check tries the usual slips (little-endian r and s, r and s swapped, the payload hashed twice) to name
    the one made.
    """
    if is_blank(answer) or (callable(answer) and does_nothing(answer)):
        return Check(False, BLANK)
    if not callable(answer):
        return fail(f"the answer should be a function (def my_verify(public_key, signature, payload): ...), got a {type(answer).__name__}")
    public = signer.public_keys.signing_key
    verify(public, signature, payload)  # the notebook's own values must be right before a learner is judged on them
    genuine, err = call_learner(answer, public, signature, payload)
    if err is not None:
        return fail(f"your function raised {type(err).__name__} on alice's genuine signature ({err}): cryptography's verify wants the DER form, encode_dss_signature(r, s)")
    if genuine is None:
        return fail("your function returned None: return True when the signature verifies (and False when cryptography raises InvalidSignature)")
    if not isinstance(genuine, bool):
        return fail(f"your function should return True or False, it returned a {type(genuine).__name__}")
    if not genuine:
        r, s = signature[:32], signature[32:]
        diagnoses = [
            (r[::-1] + s[::-1], "r and s are 32-byte big-endian numbers: int.from_bytes(..., 'big'), not little-endian"),
            (s + r, "r is the first 32 bytes and s the last 32: you have them swapped"),
        ]
        prehashed = signer.sign(hashlib.sha256(payload).digest())
        diagnoses.append((prehashed, "do not hash the payload yourself: ec.ECDSA(hashes.SHA256()) hashes the bytes it is given"))
        for variant, why in diagnoses:
            said, err = call_learner(answer, public, variant, payload)
            if err is None and said is True:
                return fail(why)
        return fail("your function says False for alice's genuine signature: turn the raw r‖s into DER with encode_dss_signature(r, s) and verify the payload bytes with ec.ECDSA(hashes.SHA256())")
    # the same text with the URL form A-B (or, for a group id, one flipped bit): it must not verify
    changed = payload.replace(b":", b"-") if b":" in payload else payload[:-1] + bytes([payload[-1] ^ 1])
    cases = [
        ("the URL-form payload", public, signature, changed, "your function says True for the payload with A-B in it: verify the `payload` argument, not a variable from the notebook"),
        ("bob's signing key", other.public_keys.signing_key, signature, payload, "your function says True with bob's signing key: verify with the `public_key` argument"),
        ("alice's identity key", signer.public_keys.identity_key, signature, payload, "your function says True with alice's identity key: verify with the `public_key` argument (signatures are made with the signing key)"),
    ]
    for _, key, sig, data, why in cases:
        said, err = call_learner(answer, key, sig, data)
        if err is not None:
            if type(err).__name__ == "InvalidSignature":
                return fail("your function lets cryptography's InvalidSignature escape: catch it and return False")
            return fail(f"your function raised {type(err).__name__} for a signature that does not verify: catch InvalidSignature and return False")
        if said is not False:
            return fail(why)
    return passed("your verify agrees with kit.signature.verify: True for alice's signature, False for a changed payload or another key")


def _list_header_offset(detail: bytes) -> int:
    """Where field 2 (the participant list) of the ConversationKeyChangeEvent starts in `detail`."""
    # union header (3) + field 1 header (3) + its i32 length (4) + the version text
    parsed = thrift.read_detail(detail)
    if not isinstance(parsed, thrift.KeyChangeDetail):
        raise KitError("the detail is not a key change")
    return 3 + 3 + 4 + len(parsed.conversation_key_version.encode())


def check_list_header(field_type: Any, field_id: Any, element_type: Any, count: Any, *, detail: bytes) -> Check:
    """The four numbers of the participant list's header, read by hand from the event `detail` bytes."""
    answers = (field_type, field_id, element_type, count)
    if any(is_blank(a) for a in answers):
        return Check(False, BLANK)
    for name, value in zip(("field_type", "field_id", "element_type", "count"), answers):
        if isinstance(value, (bytes, bytearray)):
            return fail(f"{name} should be a number (int), got bytes: detail[i] is already an int; int.from_bytes(..., 'big') for several bytes")
        if isinstance(value, str):
            return fail(f"{name} should be a number (int), got text {value!r}: read it from the bytes, e.g. detail[23] or int.from_bytes(detail[24:26], 'big')")
        if not isinstance(value, int) or isinstance(value, bool):
            return fail(f"{name} should be a number (int), got a {type(value).__name__}")
    at = _list_header_offset(detail)
    parsed = thrift.read_detail(detail)
    assert isinstance(parsed, thrift.KeyChangeDetail)
    expected = (detail[at], int.from_bytes(detail[at + 1 : at + 3], "big"), detail[at + 3], int.from_bytes(detail[at + 4 : at + 8], "big"))
    # what the kit's reader found, so the check never drifts from the bytes
    assert expected == (thrift.LIST, 2, thrift.STRUCT, len(parsed.participant_keys)), expected
    if answers == expected:
        return passed(f"field type 0f (list), field id 2, element type 0c (struct), {count} entries: a list header is an element-type byte and a four-byte count")
    if (field_type, field_id) == (detail[3], int.from_bytes(detail[4:6], "big")):
        return fail("that is field 1's header (0b 00 01: the version string); the list is the next field, after the version's length and text")
    if field_type != expected[0]:
        return fail(f"field_type: the field header starts with the type byte (byte {at}), 0f = list")
    if field_id != expected[1]:
        if field_id == int.from_bytes(detail[at + 1 : at + 3], "little"):
            return fail("field_id: the two-byte field id is big-endian (00 02 = 2), not little-endian")
        return fail(f"field_id: the two bytes after the type byte (bytes {at + 1}–{at + 2}) are the field id")
    if element_type != expected[2]:
        return fail(f"element_type: a list's value starts with one byte naming its elements' type (byte {at + 3}, 0c = struct)")
    if count == int.from_bytes(detail[at + 3 : at + 7], "big"):
        return fail("count: you included the element-type byte: the four-byte count comes after it")
    if count == int.from_bytes(detail[at + 4 : at + 6], "big") or count == detail[at + 4]:
        return fail("count: the count is four bytes (a big-endian i32), not one or two")
    if count == int.from_bytes(detail[at + 4 : at + 8], "little"):
        return fail("count: the four-byte count is big-endian, not little-endian")
    return fail(f"count: the four bytes after the element type (bytes {at + 4}–{at + 7}) are the number of entries")
