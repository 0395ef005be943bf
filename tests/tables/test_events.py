"""kit.tables.events: events, key changes and messages as a recipient reads them."""

from __future__ import annotations

import base64

import kit
import kit.tables as T
from kit.encoding import b64

from .samples import DEMO_KEY, DEMO_VERSION, key_change_event_b64 as _event


def test_events_key_changes_and_messages(init, alice, bob):
    first = _event(init, alice.user_id)
    newer = kit.prepare_key_init(alice, [bob.public_keys], version="1795545960000", conversation_key=bytes(range(1, 33)))
    second = _event(newer, alice.user_id, seq="2070276095283454102")
    events = T.events_table([second, first])
    assert list(events["sequence_id"]) == ["2070276095283454101", "2070276095283454102"]
    assert set(events["kind"]) == {"key change"}

    table = T.key_changes_table([first, second, first], recipient=bob, signing_keys=[alice.public_keys])
    assert list(table["recipient's check"][:2]) == ["verified, adopted", "verified, adopted"]
    assert table["recipient's check"][2] == "verified, not adopted: not newer than 1795545960000"
    assert list(table["newest adopted"]) == ["1795545957535", "1795545960000", "1795545960000"]

    impostor = kit.Identity.from_seed("impostor (demo only)", alice.user_id, version="1")
    forged = _event(kit.prepare_key_init(impostor, [bob.public_keys], version="1795545970000"), alice.user_id)
    row = T.key_changes_table([forged], recipient=bob, signing_keys=[alice.public_keys]).iloc[0]
    assert row["recipient's check"].startswith("SignatureError:")
    assert row["newest adopted"] == ""

    # the latest adopted version is per conversation: a group's older version is still its first
    group_init = kit.prepare_key_init(alice, [bob.public_keys], conversation_id="g9", version="1795545950000")
    group = _event(group_init, alice.user_id)
    mixed = T.key_changes_table([second, group, first], recipient=bob, signing_keys=[alice.public_keys])
    assert list(mixed["recipient's check"][:2]) == ["verified, adopted", "verified, adopted"]
    assert list(mixed["newest adopted"]) == ["1795545960000", "1795545950000", "1795545960000"]

    msg = kit.prepare_message(alice, init.conversation_id, "hi", conversation_key=DEMO_KEY, conversation_key_version=DEMO_VERSION)
    mevent = kit.thrift.MessageEvent(
        "2070276095283454103", msg.message_id, alice.user_id, init.conversation_id, "1795545957600",
        msg.create_event.encode_detail(), kit.thrift.read_event_signature(base64.b64decode(msg.body["encoded_message_event_signature"])),
    )  # fmt: skip
    messages = T.messages_table([b64(mevent.encode())], conversation_keys={DEMO_VERSION: DEMO_KEY}, signing_keys=[alice.public_keys])
    assert messages["text"][0] == "hi" and messages["check"][0] == "verified"
    wrong = T.messages_table([b64(mevent.encode())], conversation_keys={DEMO_VERSION: bytes(32)}, signing_keys=[alice.public_keys])
    assert wrong["check"][0].startswith("DecryptionError:")
