"""What a recipient reads: events, key changes, messages (checked, decrypted), sealed message bytes; notebook 05."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kit import thrift as _thrift
from kit.errors import KitError
from kit.keyring import Keyring
from kit.keys import Identity, PublicKeys
from kit.tables.bytemap import ByteMap, segments_of
from kit.tables.format import Table, error_line, raw_bytes, utc_time

__all__ = ["events_table", "key_changes_table", "messages_table", "sealed_message_map"]


def _events(events: Any) -> list[str | bytes]:
    """Key changes then messages, from an `EventsPage` or a list of events."""
    if hasattr(events, "key_changes") and hasattr(events, "messages"):
        return [*events.key_changes, *events.messages]
    return list(events)


def events_table(events: Any) -> Table:
    """One row per event of an events page (or a list of base64 `MessageEvent`s), by sequence id."""
    rows = []
    for item in _events(events):
        raw = raw_bytes(item, "event")
        event = _thrift.read_message_event(raw)
        detail = event.read_detail()
        if isinstance(detail, _thrift.KeyChangeDetail):
            kind, version = "key change", detail.conversation_key_version
        elif isinstance(detail, _thrift.MessageCreateEvent):
            kind, version = "message", detail.conversation_key_version
        elif isinstance(detail, _thrift.DeleteDetail):
            kind, version = "delete", ""
        else:
            kind, version = detail.name, ""
        rows.append(
            (event.sequence_id, kind, event.message_id, event.sender_id, event.conversation_id, version,
             utc_time(event.created_at_msec) if event.created_at_msec else "")
        )  # fmt: skip
    rows.sort(key=lambda r: (len(r[0]), r[0]))
    return Table(
        rows, columns=["sequence_id", "kind", "message_id", "sender_id", "conversation_id", "conversation_key_version", "created_at"]
    )


def key_changes_table(events: Any, *, recipient: Identity, signing_keys: Iterable[PublicKeys]) -> Table:
    """Key-change events as `recipient` reads them, in the order given.

    Each event goes through a fresh `kit.Keyring` (`read`: unwrap my entry, verify the action
    signature, then adopt only a version newer than the latest of its conversation); the last
    column is that conversation's latest adopted version after the row.
    """
    keys = list(signing_keys)
    items = events.key_changes if hasattr(events, "key_changes") else list(events)
    keyring = Keyring()
    rows = []
    for item in items:
        raw = raw_bytes(item, "key-change event")
        event = _thrift.read_message_event(raw)
        try:
            adoption = keyring.read(raw, recipient=recipient, signing_keys=keys)
        except KitError as exc:
            detail = event.read_detail()
            version = getattr(detail, "conversation_key_version", "")
            latest = _latest_version(keyring, event.conversation_id)
            rows.append((event.sequence_id, event.sender_id, version, error_line(exc), latest))
            continue
        check = "verified, adopted" if adoption.adopted else f"verified, not adopted: {adoption.reason}"
        version = adoption.change.conversation_key_version
        rows.append((event.sequence_id, event.sender_id, version, check, adoption.latest_version))
    return Table(rows, columns=["sequence_id", "sender_id", "conversation_key_version", "recipient's check", "newest adopted"])


def _latest_version(keyring: Keyring, conversation_id: str) -> str:
    try:
        latest = keyring.latest(conversation_id)
    except KitError:  # an envelope whose conversation id does not even parse
        return ""
    return latest.conversation_key_version if latest is not None else ""


def messages_table(
    events: Any, *, conversation_keys: dict[str, bytes], signing_keys: Iterable[PublicKeys]
) -> Table:
    """Messages verified and decrypted (or the reason they were not), oldest first."""
    from kit.message import read_message

    keys = list(signing_keys)
    items = events.messages if hasattr(events, "messages") else list(events)
    rows = []
    for item in items:
        raw = raw_bytes(item, "message event")
        event = _thrift.read_message_event(raw)
        try:
            msg = read_message(raw, conversation_key=conversation_keys, signing_keys=keys)
            rows.append((event.sequence_id, event.sender_id, msg.conversation_key_version, msg.text, "verified"))
        except KitError as exc:
            detail = event.read_detail()
            rows.append((event.sequence_id, event.sender_id, getattr(detail, "conversation_key_version", ""), "", error_line(exc)))
    rows.sort(key=lambda r: (len(r[0]), r[0]))
    return Table(rows, columns=["sequence_id", "sender_id", "conversation_key_version", "text", "check"])


def sealed_message_map(sealed: bytes) -> ByteMap:
    """A sealed message (XSalsa20-Poly1305): nonce, Poly1305 tag, ciphertext."""
    raw = bytes(sealed)
    return ByteMap(raw, segments_of([(24, "nonce"), (16, "Poly1305 tag"), (len(raw) - 40, "ciphertext")]), title="sealed message")
