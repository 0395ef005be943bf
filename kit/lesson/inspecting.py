"""Checks for 08 · The inspector: which field breaks a signature, and an SDK-shaped body made API-shaped."""

from __future__ import annotations

from typing import Any

from kit.inspector import inspect
from kit.lesson import BLANK, Check, check_choice, fail, is_blank, passed

__all__ = ["check_api_body", "check_broken_field"]

_FIELDS = {
    "conversation_id": "the envelope stores the pair with '-': the verifier rebuilds the signed text from it as "
    "stored, and the sender signed 'min:max'",
    "message_id": "the message id is signed, but the inspector finds nothing wrong with it here",
    "sender_id": "the sender id is signed, but it is the one that signed: nothing wrong with it here",
    "signature_version": "a version below 2 would fail differently ('no longer accepted'): this one is 7",
}


def check_broken_field(answer: Any, *, event: str) -> Check:
    """Which field of `event` makes its signature fail? The right answer is what kit.inspect's notes blame."""
    notes = " ".join(inspect(event).all_notes())
    if "uses '-' where the signed text and the event want ':'" in notes:
        expected = "conversation_id"
    elif "signature_version" in notes:
        expected = "signature_version"
    else:  # pragma: no cover - the notebook's event always has one of the two
        expected = "message_id"
    return check_choice(answer, expected, choices=_FIELDS, right=f"the {expected}")


def check_api_body(answer: Any, *, sdk_body: dict[str, Any]) -> Check:
    """An SDK-shaped body with its fields renamed the API's way: same participants, detail still matching."""
    if is_blank(answer):
        return Check(False, BLANK)
    if not isinstance(answer, dict):
        return fail(f"the answer should be a dict (the JSON body), got a {type(answer).__name__}")
    if answer is sdk_body:
        return fail("that is the SDK-shaped body itself: build a new one with the API's field names")
    i = inspect(answer)
    sdk_names = [n for n in i.notes if "the SDK's name" in n or "key_version (the SDK's input name)" in n]
    if sdk_names:
        return fail("a participant still uses an SDK name: " + sdk_names[0].split(": ", 1)[-1])
    if i.kind != "init-request":
        return fail(f"kit.inspect reads your body as {i.kind}, not an init request: keep the other fields as they were")
    entries = answer.get("conversation_participant_keys")
    if not isinstance(entries, list) or len(entries) != len(sdk_body.get("conversation_participant_keys", [])):
        return fail("keep every participant: the key is wrapped once for each of them")
    if "the signed detail matches the body's participants and version" not in i.notes:
        return fail("the signed detail no longer matches the body: rename the fields, but keep their values")
    return passed("the API's names (encrypted_conversation_key), and the signed detail still matches the body")
