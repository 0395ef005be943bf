"""Checks for 04 · The init call: which key version goes where, and which id goes in the URL.

The right answers come from the notebook's own values through the kit (`kit.ids.version_key` picks the
newest registered key as a number; `kit.ConversationId` spells the path). The mistakes named are the ones
X's troubleshooting page lists: a recipient's key version where the signer's belongs (and back), an older
key picked because versions were compared as text, the colon form in a URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kit.ids import ConversationId, version_key
from kit.keys import Identity, PublicKeys
from kit.lesson import Check, check_equal, check_text, fail, is_blank

__all__ = ["check_participant_version", "check_path_id", "check_signer_version"]


def _versions(registered: Sequence[PublicKeys]) -> list[str]:
    return [pk.version for pk in registered]


def _version_type(answer: Any, what: str) -> Check | None:
    if is_blank(answer) or answer is None or isinstance(answer, str):
        return None
    if isinstance(answer, int) and not isinstance(answer, bool):
        return fail(f"{what}: key versions are decimal strings on the wire ({str(answer)!r}), not numbers")
    return None


def check_participant_version(answer: Any, *, registered: Sequence[PublicKeys], sender: Identity) -> Check:
    """The `public_key_version` of the recipient's entry in `conversation_participant_keys`.

    `registered` is every key record of the recipient the server returned; the right one is the newest
    as a number (what `latest_public_keys` wraps to).
    """
    versions = _versions(registered)
    expected = max(versions, key=version_key)
    early = _version_type(answer, "the participant's version")
    if early is not None:
        return early
    user = registered[0].user_id if registered else "the recipient"
    mistakes: list[tuple[Any, str]] = []
    as_text = max(versions)
    if as_text != expected:
        mistakes.append((as_text, f"{as_text!r} is the recipient's older key: it sorts last as text, but versions compare as numbers ({expected} > {as_text})"))
    for v in versions:
        if v != expected and v != as_text:
            mistakes.append((v, f"{v!r} is an older key of the recipient: wrap to the newest, {expected!r} as a number"))
    if sender.version != expected:
        mistakes.append((sender.version, f"{sender.version!r} is the sender's key version: a participant entry names the recipient's key it was wrapped to"))
    return check_equal(answer, expected, right=f"user {user}'s entry names the key it was wrapped to, version {expected}", mistakes=mistakes)


def check_signer_version(answer: Any, *, sender: Identity, registered: Sequence[PublicKeys]) -> Check:
    """The `message_event_signature.public_key_version`: the signer's own key record."""
    expected = sender.version
    early = _version_type(answer, "the signature's version")
    if early is not None:
        return early
    mistakes = [
        (v, f"{v!r} is a key version of the recipient: the signature's public_key_version names the signer's key record, which recipients look the signing key up by")
        for v in _versions(registered)
        if v != expected
    ]
    mistakes.append(("7", "'7' is the signature_version (the payload layout), a different field: public_key_version names the signer's key record"))
    mistakes = [(m, why) for m, why in mistakes if m != expected]
    return check_equal(answer, expected, right=f"the signature names the signer's key record, version {expected}", mistakes=mistakes)


def check_path_id(answer: Any, *, conversation_id: str) -> Check:
    """The `{id}` for later requests about a 1:1 conversation: the ``min-max`` path form of `conversation_id`."""
    cid = ConversationId.parse(conversation_id)
    expected = cid.path
    mistakes: list[tuple[Any, str]] = [(cid.canonical, "that is the canonical id with a colon, the form that is signed: a URL path takes '-' (its pattern has no ':')")]
    if not cid.is_group:
        lo, hi = cid.members
        mistakes += [
            (f"{hi}-{lo}", "the ids are reversed: the path id the server answers with is min-max, the smaller id first"),
            (f"{hi}:{lo}", "that is the colon form, reversed: a URL path takes min-max"),
            (hi, "a bare user id is for starting a 1:1 (the server pairs it with the caller); reuse the conversation's own id, min-max"),
            (lo, "a bare user id is for starting a 1:1 (the server pairs it with the caller); reuse the conversation's own id, min-max"),
        ]
    mistakes = [(m, why) for m, why in mistakes if m != expected]
    return check_text(answer, expected, right=f"the path id {expected} (min-max)", mistakes=mistakes)
