"""Ids and versions as text: notes on key versions, signature versions and conversation ids, and the checks of a pasted one (notebook 08)."""

from __future__ import annotations

import re
import time

from kit.errors import KitError
from kit.ids import ConversationId
from kit.inspector.model import Field, Inspection, utc_time
from kit.signature import KEY_CHANGE_MIN_SIGNATURE_VERSION, MIN_SIGNATURE_VERSION, SIGNATURE_VERSION

__all__ = [
    "check_conversation_id",
    "check_number",
    "conversation_id_notes",
    "digits_note",
    "looks_like_conversation_id",
    "signature_version_notes",
    "version_notes",
]

_DAY_MS = 86_400_000
_SNOWFLAKE_EPOCH = 1288834974657


def digits_note(name: str, value: str) -> str:
    """A note when `value` (the field `name`) is not decimal digits; empty when it is."""
    return "" if value.isascii() and value.isdigit() else f"{name} must be decimal digits"


def version_notes(version: str, what: str = "key version") -> list[str]:
    """What is odd about a key version: not digits, or a millisecond timestamp in the future."""
    if not (version.isascii() and version.isdigit()) or len(version) > 30:
        return [f"{what} {version!r} is not decimal digits: the API pattern is ^[0-9]+$"]
    if len(version) == 13 and int(version) > time.time() * 1000 + _DAY_MS:
        return [f"{what} {version} is a time in the future ({utc_time(version)}): versions are minted as the time in ms"]
    return []


def signature_version_notes(version: str, *, key_change: bool) -> list[str]:
    """What is odd about a signature version: not digits, too old for chatxdk (or for a key change), or newer than the kit."""
    if not (version.isascii() and version.isdigit()) or len(version) > 30:
        return [f"signature_version {version!r} is not decimal digits: send {SIGNATURE_VERSION!r}"]
    v = int(version)
    if v < MIN_SIGNATURE_VERSION:
        return [f"signature_version {version} is below {MIN_SIGNATURE_VERSION}: chatxdk refuses it "
                f"('no longer accepted (minimum: 2)'); send {SIGNATURE_VERSION!r}"]  # fmt: skip
    if key_change and v < KEY_CHANGE_MIN_SIGNATURE_VERSION:
        return [f"signature_version {version}: key-change signatures before v{KEY_CHANGE_MIN_SIGNATURE_VERSION} covered "
                f"the wrapped-key list, which nobody can rebuild (ECDSA mismatch); send {SIGNATURE_VERSION!r}"]  # fmt: skip
    if v > int(SIGNATURE_VERSION):
        return [f"signature_version {version} is newer than the {SIGNATURE_VERSION} the SDK and the kit write"]
    return []


def conversation_id_notes(cid: str, *, canonical: bool) -> list[str]:
    """Notes on a conversation id where the canonical ``min:max`` form belongs (or the path form)."""
    if cid.startswith("g"):
        return [] if re.fullmatch(r"g[0-9]{1,19}", cid) else [f"{cid!r} is not a group id (g and 1 to 19 digits)"]
    for sep in ":-":
        if sep in cid:
            a, _, b = cid.partition(sep)
            if not (a.isdigit() and b.isdigit()):
                return [f"{cid!r} is not a pair of user ids"]
            notes = []
            if canonical and sep == "-":
                notes.append(f"'{cid}' uses '-' where the signed text and the event want ':' ({a}:{b} in min:max "
                             "order): recipients rebuild the signed text from it and fail with 'ECDSA mismatch'")  # fmt: skip
            if not canonical and sep == ":":
                notes.append(f"'{cid}' uses ':': URL paths and JSON use the hyphen form {a}-{b}")
            if (len(a), a) > (len(b), b):
                notes.append(f"'{cid}' lists the larger user id first: the canonical order is min{sep}max")
            if a == b:
                notes.append(f"'{cid}' pairs user {a} with themself")
            return notes
    return [] if cid.isdigit() else [f"{cid!r} is not a conversation id"]


def looks_like_conversation_id(text: str) -> bool:
    """True for ``A:B``, ``A-B`` (user ids of 1 to 19 digits) or a ``g…`` group id."""
    return re.fullmatch(r"[0-9]{1,19}[:-][0-9]{1,19}|g[0-9]{1,19}", text) is not None


def check_conversation_id(text: str) -> Inspection:
    """A conversation id as text: its spellings and what is odd about it."""
    canonical_form = ":" in text
    notes = conversation_id_notes(text, canonical=canonical_form)
    fields: list[Field] = []
    try:
        cid = ConversationId.parse(text)
        fields = [Field(None, None, "canonical", cid.canonical, "signed in action signatures, stored in events"),
                  Field(None, None, "path", cid.path, "URL paths and JSON")]  # fmt: skip
        if cid.members:
            fields.append(Field(None, None, "members", ", ".join(cid.members)))
    except KitError as exc:
        notes.append(str(exc))
    form = "group id" if text.startswith("g") else ("canonical form min:max" if canonical_form else "path form min-max")
    return Inspection("conversation-id", f"conversation id ({form}): {text}", tuple(fields), tuple(notes), encoding="text")


def check_number(text: str) -> Inspection:
    """Decimal digits: a key version (a millisecond time), or a user or sequence id (a snowflake)."""
    notes = version_notes(text)
    fields = [Field(None, None, "digits", str(len(text)))]
    if len(text) == 13:
        fields.append(Field(None, None, "as a time", utc_time(text), "the SDK mints versions as the time in ms"))
    if 17 <= len(text) <= 19 and int(text) < 2**63:
        ms = (int(text) >> 22) + _SNOWFLAKE_EPOCH
        fields.append(Field(None, None, "as a snowflake", utc_time(ms), "user ids and sequence ids are snowflakes: when minted"))
        notes.append("19 digits or so: more likely a user id or a sequence id than a key version")
    fields.append(Field(None, None, "compare", "as numbers", "'9' < '10': versions compare numerically, never as text"))
    return Inspection("key-version", f"key version or id: {text} ({len(text)} digits)", tuple(fields), tuple(notes),
                      encoding="text")  # fmt: skip
