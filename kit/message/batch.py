"""Reading a batch of events the way the official SDK's `decrypt_events` does.

Key changes anywhere in the batch are read first (so order does not matter), then every
message is read with the keys they brought (and the keyring's earlier ones). One bad event
becomes an entry in `errors`, by its index in the batch, and never hides the others.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from kit.errors import KitError
from kit.keyring import Keyring
from kit.keys import Identity, PublicKeys
from kit.message.delete import Deletion, read_delete
from kit.message.read import Message, read_message
from kit.message.verify import parse_event
from kit.protocol import KeyChange
from kit.thrift import DeleteDetail, KeyChangeDetail, MessageCreateEvent, MessageEvent
from kit.trust import TrustStore

__all__ = ["EventBatch", "read_events"]


@dataclass
class EventBatch:
    """What `read_events` made of a batch: each list in batch order, `errors` by batch index.

    `other` names events of kinds the kit does not read (typing, group changes, ...), by index.
    """

    messages: list[Message] = field(default_factory=list)
    key_changes: list[KeyChange] = field(default_factory=list)
    deletes: list[Deletion] = field(default_factory=list)
    errors: dict[int, KitError] = field(default_factory=dict)
    other: dict[int, str] = field(default_factory=dict)
    keyring: Keyring = field(default_factory=Keyring, repr=False)

    def __repr__(self) -> str:
        return (
            f"EventBatch(messages={len(self.messages)}, key_changes={len(self.key_changes)}, "
            f"deletes={len(self.deletes)}, errors={sorted(self.errors)}, other={len(self.other)})"
        )


def read_events(
    events: Iterable[str | bytes],
    *,
    recipient: Identity,
    signing_keys: Iterable[PublicKeys],
    keyring: Keyring | None = None,
    trust: TrustStore | None = None,
) -> EventBatch:
    """Read every event of a batch as `recipient`; nothing is raised for a bad event.

    `keyring` (optional) brings keys adopted earlier and keeps the ones this batch adopts;
    `trust` defaults to the keyring's trust store. Key changes are read before messages, so a
    message can come before the key change that opens it.
    """
    ring = keyring if keyring is not None else Keyring(trust=trust)
    trust = trust if trust is not None else ring.trust
    signers = list(signing_keys)
    batch = EventBatch(keyring=ring)
    parsed: list[tuple[int, str | bytes, MessageEvent]] = []
    for i, item in enumerate(events):
        try:
            _, event = parse_event(item, what=f"event {i}")
            parsed.append((i, item, event))
        except KitError as exc:
            batch.errors[i] = exc
    found: dict[int, object] = {}
    for i, item, event in parsed:  # key changes first: messages anywhere in the batch may need them
        if isinstance(event.read_detail(), KeyChangeDetail):
            try:
                found[i] = ring.read(item, recipient=recipient, signing_keys=signers).change
            except KitError as exc:
                batch.errors[i] = exc
    for i, item, event in parsed:
        detail = event.read_detail()
        try:
            if isinstance(detail, MessageCreateEvent):
                found[i] = read_message(
                    item, conversation_key=ring.keys(event.conversation_id), signing_keys=signers,
                    trust=trust, recipient=recipient,
                )  # fmt: skip
            elif isinstance(detail, DeleteDetail):
                found[i] = read_delete(event, signing_keys=signers)
            elif not isinstance(detail, KeyChangeDetail):
                batch.other[i] = getattr(detail, "name", type(detail).__name__)
        except KitError as exc:
            batch.errors[i] = exc
    for i in sorted(found):
        value = found[i]
        if isinstance(value, Message):
            batch.messages.append(value)
        elif isinstance(value, KeyChange):
            batch.key_changes.append(value)
        elif isinstance(value, Deletion):
            batch.deletes.append(value)
    batch.errors = dict(sorted(batch.errors.items()))
    return batch
