"""Checks for 05 · The recipient: which key a message needs, and what bob does with keys he pinned or heard.

The right answers come from the notebook's values through the kit: the conversation key version is read
from the message event with `kit.thrift`, the trust decision from `TrustStore.check` (the state a
`Keyring(trust=...)` acts on), and the comparison-code decision from `kit.comparison_code` of the keys bob's
client fetched. The mistakes named: the signer's key *record* version (or bob's) where the conversation key
version is meant, the sequence id, a number instead of a string; adopting a change whose keys differ from the
pinned ones because its signature verifies; verifying or accepting keys whose codes differ.
"""

from __future__ import annotations

from typing import Any

from kit.encoding import from_b64
from kit.keys import Identity, PublicKeys
from kit.lesson import BLANK, Check, check_choice, fail, is_blank, passed
from kit.thrift import MessageCreateEvent, read_message_event
from kit.trust import TrustStore, comparison_code

__all__ = ["check_code_decision", "check_message_key_version", "check_trust_decision"]


def check_message_key_version(answer: Any, *, event: str | bytes, recipient: Identity) -> Check:
    """The conversation key version the message `event` (base64 or bytes) was sealed with, as a str."""
    if is_blank(answer):
        return Check(False, BLANK)
    if answer is None:
        return fail("your answer is None: did a function forget to `return` its result?")
    raw = event if isinstance(event, (bytes, bytearray)) else from_b64(event, what="message event")
    parsed = read_message_event(bytes(raw), what="message event")
    detail = parsed.read_detail()
    assert isinstance(detail, MessageCreateEvent), type(detail).__name__
    expected = detail.conversation_key_version
    if isinstance(answer, int) and not isinstance(answer, bool):
        if str(answer) == expected:
            return fail(f"right version, wrong type: key versions are decimal strings on the wire, '{expected}', not the number")
        answer = str(answer)
    if not isinstance(answer, str):
        return fail(f"the answer should be a str of digits, got a {type(answer).__name__}")
    if answer == expected:
        return passed(f"version {expected}: the conversation key version in the message's MessageCreateEvent, the key bob's keyring must hold")
    signer_version = parsed.signature.public_key_version if parsed.signature else None
    record = [(signer_version, "the signature's public_key_version (alice's key record)"), (recipient.version, "bob's own key version")]
    whose = " and ".join(w for v, w in record if v == answer)
    if whose:
        return fail(f"'{answer}' is {whose}: a key *record* version (which signing key signed, which wrapped entry is bob's), not the version of the conversation key the message was sealed with")
    if answer == parsed.sequence_id:
        return fail("that is the sequence id: the server's number for the event, not a key version")
    return fail("not yet: read conversation_key_version from the message's detail (event.read_detail())")


def _decisions(state: str) -> tuple[str, dict[str, str]]:
    """The right decision for a `Trust` state, and why each choice is right or wrong there."""
    if state in ("pinned", "verified"):
        how = "pinned at first contact" if state == "pinned" else "verified with a comparison code"
        return "adopt", {
            "adopt": f"these are the keys bob {how}, and the change verifies with them",
            "pin and adopt": f"nothing to pin: these keys are already {state}",
            "refuse and compare codes": f"nothing changed: these are the keys bob {how}",
        }
    if state == "new":
        return "pin and adopt", {
            "adopt": "first contact: pin the keys first (trust on first use), so that a later change is noticed",
            "pin and adopt": "first contact: bob pins the keys (trust on first use) and adopts the change",
            "refuse and compare codes": "there is nothing to compare against yet: first contact pins (a code can verify them later)",
        }
    return "refuse and compare codes", {
        "adopt": "the keys differ from the ones bob pinned: a signature that verifies with them proves which keys signed, not whose they are",
        "pin and adopt": "pinning again would silently trust the new keys: that is what a token thief hopes for",
        "refuse and compare codes": "the keys changed since bob pinned them: a new phone or a thief look the same, so he refuses and asks alice, out of band",
    }


def check_trust_decision(answer: Any, *, trust: TrustStore, keys: PublicKeys) -> Check:
    """What bob's client does with a verified key change signed with `keys`, given what `trust` holds."""
    state = trust.check(keys).state
    expected, choices = _decisions(state)
    return check_choice(answer, expected, choices=choices, right=f"keys {state} (key version {keys.version})")


#: What bob does after comparing codes with alice, by whether they match.
CODE_CHOICES_DIFFER = {
    "verify them": "the codes differ, so the keys bob's client fetched are not the ones alice's sees: trust.verify refuses",
    "accept the change": "accepting would pin keys that someone in between swapped in: the codes differ",
    "do not trust these keys": "someone swapped a key (or a digit was misread: read it again); bob trusts nothing",
}
CODE_CHOICES_MATCH = {
    "verify them": "the codes match: both clients see the same four keys, so bob marks alice's keys verified",
    "accept the change": "the codes match, so there is more than a change to accept: bob can mark the keys verified",
    "do not trust these keys": "the codes match: both clients see the same keys, nobody swapped one",
}


def check_code_decision(answer: Any, *, mine: Identity | PublicKeys, theirs: PublicKeys, heard: str) -> Check:
    """What bob does when the code read out (`heard`) is compared with his own for `theirs`, as his client got them."""
    if is_blank(answer):
        return Check(False, BLANK)
    same = comparison_code(mine, theirs).replace(" ", "") == "".join(str(heard).split())
    if same:
        return check_choice(answer, "verify them", choices=CODE_CHOICES_MATCH, right="the codes match")
    return check_choice(answer, "do not trust these keys", choices=CODE_CHOICES_DIFFER, right="the codes differ")
