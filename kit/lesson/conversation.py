"""Checks for 09 · The conversation: a reaction built by hand, a quote's verdict, and the batch reader.

The right answers come from the kit and the notebook's own values: `kit.content.encode_reaction` for the
bytes, a reply actually written and read (`kit.prepare_message(..., quote=...)`, `kit.read_message`) for
a verdict, and `kit.read_events` for the batch. The mistakes named are the ones people make: the removal's
union field, the emoji's length counted in characters, a missing STOP, the sequence id as a number; "a
shortened quote is forged"; a batch without the key changes or without the other user's keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kit.content import encode_reaction
from kit.errors import KeyNotFoundError, SignatureError
from kit.keys import Identity, PublicKeys
from kit.encoding import from_b64
from kit.lesson import BLANK, Check, check_bytes, check_choice, fail, is_blank, passed
from kit.message import EventBatch, Message, prepare_message, read_events, read_message
from kit.thrift import MessageEvent, read_event_signature

__all__ = ["check_batch", "check_quote", "check_reaction"]


def check_reaction(answer: Any, *, target_sequence_id: str, emoji: str) -> Check:
    """The plaintext of a reaction to `target_sequence_id` with `emoji`, built by hand (46 bytes for 👍)."""
    expected = encode_reaction(target_sequence_id, emoji)
    seq, em = target_sequence_id.encode(), emoji.encode()
    chars = len(emoji)
    mistakes: list[tuple[Any, str]] = [
        (encode_reaction(target_sequence_id, emoji, remove=True),
         "those are the bytes of a reaction *removal*: MessageEntryContents field 3; adding one is field 2 (0c 00 02)"),
        (expected[:-1], "one STOP byte short: the reaction, the union and the holder each end with their own 00"),
        (expected + b"\x00", "one STOP byte too many: three structs, three 00 bytes at the end"),
    ]
    if chars != len(em):
        wrong_len = expected.replace(b"\x0b\x00\x02" + len(em).to_bytes(4, "big"), b"\x0b\x00\x02" + chars.to_bytes(4, "big"))
        mistakes.append((wrong_len, f"the emoji's length is its UTF-8 bytes ({len(em)}), not its characters ({chars}): use len(emoji.encode())"))
    as_number = expected.replace(b"\x0b\x00\x01" + len(seq).to_bytes(4, "big") + seq, b"\x0a\x00\x01" + int(seq).to_bytes(8, "big"))
    mistakes.append((as_number, "the sequence id is a string field (0b, with a length), not an i64: sequence ids are decimal text on the wire"))
    fields = [("holder and union headers", 6), ("message_sequence_id", 7 + len(seq)), ("emoji", 7 + len(em)), ("STOP bytes", 3)]
    return check_bytes(answer, expected, right=f"the {len(expected)} bytes of kit.content.encode_reaction", fields=fields, mistakes=mistakes)


def check_quote(
    answer: Any,
    *,
    original: Message,
    quote: str,
    replier: Identity,
    conversation_key: bytes,
    signing_keys: Sequence[PublicKeys],
) -> Check:
    """Predict ``"valid"`` or ``"invalid"`` for a reply to `original` that quotes `quote`; the check writes it and reads it."""
    pm = prepare_message(
        replier, original.conversation_id, "(a reply)", reply_to=original, quote=quote,
        conversation_key=conversation_key, conversation_key_version=original.conversation_key_version,
        message_id="00000000-0000-4000-8000-000000000009", nonce=bytes(24),
    )  # fmt: skip
    event = MessageEvent(
        sequence_id="2070276095283459999", message_id=pm.message_id, sender_id=replier.user_id,
        conversation_id=original.conversation_id, created_at_msec="0", detail=pm.create_event.encode_detail(),
        signature=read_event_signature(from_b64(pm.body["encoded_message_event_signature"], what="signature")),
    ).encode()  # fmt: skip
    read = read_message(event, conversation_key=conversation_key, signing_keys=signing_keys)
    expected = read.reply_to.validation if read.reply_to is not None else None
    prefix = original.text.startswith(quote)
    choices = {
        "valid": (
            f"the original starts with {quote!r}: a preview may be truncated, so a prefix passes, and it proves "
            "only that the original begins this way, not that the quote is whole"
            if prefix and quote != original.text
            else f"the embedded original says exactly {quote!r}, signed by user {original.sender_id}"
        ),
        "invalid": (
            f"the original ({original.text!r}) does not start with {quote!r}: the reply is still authentic "
            f"(signed by {replier.user_id}), only its quote is forged"
        ),
    }
    if answer == "invalid" and expected == "valid" and prefix:
        return fail(f"a shortened quote passes: {choices['valid']}")
    if answer == "valid" and expected == "invalid":
        return fail(f"not valid: {choices['invalid']}")
    return check_choice(answer, str(expected), choices=choices, right=f"{expected}")


def check_batch(answer: Any, *, events: Sequence[Any], broken: int, reader: Identity, signing_keys: Sequence[PublicKeys]) -> Check:
    """A `kit.EventBatch` of `events` read as `reader`: every event read but the broken one, which is in `errors`."""
    if is_blank(answer):
        return Check(False, BLANK)
    if not isinstance(answer, EventBatch):
        return fail(f"the answer should be what kit.read_events returns (a kit.EventBatch), got a {type(answer).__name__}")
    want = read_events(events, recipient=reader, signing_keys=signing_keys)
    unsigned = sorted({str(e).split(" at key version")[0].removeprefix("no signing key for user ")
                       for e in answer.errors.values() if str(e).startswith("no signing key for user")})  # fmt: skip
    if unsigned:
        return fail(f"no signing keys for user(s) {', '.join(unsigned)}: pass both users' public keys as signing_keys")
    if not answer.key_changes and want.key_changes:
        return fail("no key change was read: pass page.key_changes + page.messages, the batch reader finds the key changes anywhere in it")
    kinds = {type(e) for e in answer.errors.values()}
    if KeyNotFoundError in kinds:
        return fail("some messages found no conversation key: did you leave the key changes out of the batch?")
    if SignatureError in kinds and len(answer.errors) > 1:
        return fail("several events failed their signature check: are these the users' registered public keys?")
    if sorted(answer.errors) != [broken]:
        return fail(f"errors holds events {sorted(answer.errors)}; the broken one is event {broken}")
    if len(answer.messages) != len(want.messages):
        return fail(f"{len(answer.messages)} messages read, {len(want.messages)} were readable: read every event, as one batch")
    return passed(f"{len(answer.messages)} messages and {len(answer.key_changes)} key change read; event {broken} is in errors, and it hid nothing")
