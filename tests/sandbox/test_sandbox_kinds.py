"""Every message kind through the sandbox, and deleteChatMessages, through both doors.

`POST …/messages` stores every kind unchanged (the server cannot tell them apart and does not
try); `POST …/messages/delete` checks the signed delete action like a key change, verifies its
signature (a delete's signed bytes hold no secret), and deleted messages leave the events answer
as the OpenAPI description says: for everyone, or only for the user who deleted them for self.
"""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest
from chatxdk_helpers import sdk_from_identity
from sandbox_fixtures import (  # noqa: F401  (fixtures)
    Connect,
    Party,
    answers,
    connect,
    door,
    party,
    served,
)

import kit
from kit import thrift


def _conversation(root: kit.Client) -> tuple[Party, Party, kit.KeyInit, dict[str, Any]]:
    alice, bob = party(root), party(root)
    init = kit.prepare_key_init(alice.identity, [bob.keys])
    alice.client.add_conversation_keys(init, path_id=bob.id)
    kw = {"conversation_key": init.conversation_key, "conversation_key_version": init.conversation_key_version}
    return alice, bob, init, kw


def _read_all(who: Party, other: Party, init: kit.KeyInit) -> kit.EventBatch:
    page = who.client.get_events(init.path_id, max_results=100)
    return kit.read_events(page.key_changes + page.messages, recipient=who.identity, signing_keys=[who.keys, other.keys])


def expect(status: int, call: Any, *names: str) -> dict[str, Any]:
    with pytest.raises(kit.APIError) as exc:
        call()
    assert exc.value.status == status, exc.value.problem
    detail = exc.value.problem.to_dict()["detail"]
    for name in names:
        assert name in detail, (name, detail)
    return exc.value.problem.to_dict()


def test_every_kind_is_stored_unchanged_and_read_back(connect: Connect) -> None:
    alice, bob, init, kw = _conversation(connect())
    first = alice.client.send_message(kit.prepare_message(alice.identity, bob.id, "hi @bob", entities=[kit.Entity("mention", 3, 7)], **kw))
    sent = [
        (bob, kit.prepare_message(bob.identity, alice.id, "hi!", reply_to=first, **kw)),
        (bob, kit.prepare_message(bob.identity, alice.id, "fake", reply_to=first, quote="I owe bob $100", **kw)),
        (alice, kit.prepare_edit(alice.identity, first, "hi @bob, again", **kw)),
        (bob, kit.prepare_reaction(bob.identity, first, "👍", **kw)),
        (bob, kit.prepare_reaction(bob.identity, first, "👍", remove=True, **kw)),
        (alice, kit.prepare_message(alice.identity, bob.id, "lunch?", quick_reply=kit.QuickReply.request("q", [("y", "Yes")]), **kw)),
    ]
    for who, pm in sent:
        stored = who.client.send_message(pm)
        event = thrift.read_message_event(base64.b64decode(stored))
        assert event.read_detail().encode() == base64.b64decode(pm.body["encoded_message_create_event"])
    batch = _read_all(bob, alice, init)
    assert batch.errors == {}
    kinds = [m.kind for m in reversed(batch.messages)]  # the answer is newest first
    assert kinds == ["text", "reply", "reply", "edit", "reaction_add", "reaction_remove", "text"]
    replies = [m for m in batch.messages if m.kind == "reply"]
    assert sorted(r.reply_to.validation for r in replies) == ["invalid", "valid"]


def test_sdk_kinds_are_accepted_too(connect: Connect) -> None:
    alice, bob, init, kw = _conversation(connect())
    first = alice.client.send_message(kit.prepare_message(alice.identity, bob.id, "from the kit", **kw))
    chat = sdk_from_identity(bob.identity)
    for sp in (
        chat.encrypt_reply(init.conversation_id, "from the SDK", first, **kw),
        chat.encrypt_add_reaction(first, "🎉", **kw),
        chat.encrypt_edit(first, "edits of others are stored too: the server cannot tell", **kw),
    ):
        body = {"message_id": sp.message_id, "encoded_message_create_event": sp.encrypted_content,
                "encoded_message_event_signature": sp.encoded_event_signature}  # fmt: skip
        data = bob.client.request("POST", f"/2/chat/conversations/{init.path_id}/messages", json=body)["data"]
        assert data["encoded_message_event"]
    batch = _read_all(alice, bob, init)
    assert batch.errors == {} and [m.kind for m in reversed(batch.messages)] == ["text", "reply", "reaction_add", "edit"]
    assert batch.messages[2].reply_to.validation == "valid"


def test_delete_for_all_and_for_self(connect: Connect) -> None:
    alice, bob, init, kw = _conversation(connect())
    seqs = []
    for who, other, text in ((alice, bob, "one"), (bob, alice, "two"), (alice, bob, "three")):
        stored = who.client.send_message(kit.prepare_message(who.identity, other.id, text, **kw))
        seqs.append(thrift.read_message_event(base64.b64decode(stored)).sequence_id)
    # alice deletes her "one" for all, and bob's "two" from her own view
    assert alice.client.delete_messages(kit.prepare_delete(alice.identity, bob.id, [seqs[0]], delete_for_all=True))
    assert alice.client.delete_messages(kit.prepare_delete(alice.identity, bob.id, [seqs[1]]))
    for_alice, for_bob = _read_all(alice, bob, init), _read_all(bob, alice, init)
    assert [m.text for m in for_alice.messages] == ["three"]
    assert [m.text for m in for_bob.messages] == ["three", "two"]
    # the deletes are signed events too: alice sees both, bob only the one for all
    assert sorted(d.delete_for_all for d in for_alice.deletes) == [False, True]
    assert [(d.sequence_ids, d.delete_for_all) for d in for_bob.deletes] == [((seqs[0],), True)]
    assert for_alice.errors == for_bob.errors == {}


def test_delete_rules(connect: Connect) -> None:
    alice, bob, init, kw = _conversation(connect())
    stored = bob.client.send_message(kit.prepare_message(bob.identity, alice.id, "bob's", **kw))
    seq = thrift.read_message_event(base64.b64decode(stored)).sequence_id
    good = kit.prepare_delete(alice.identity, bob.id, [seq])
    path = f"/2/chat/conversations/{init.path_id}/messages/delete"

    def post(body: dict[str, Any]) -> Any:
        return alice.client.request("POST", path, json=body)

    def altered(change: Any) -> dict[str, Any]:
        body = copy.deepcopy(good.body)
        change(body)
        return body

    expect(403, lambda: alice.client.delete_messages(kit.prepare_delete(alice.identity, bob.id, [seq], True)), "only messages you sent")
    expect(404, lambda: alice.client.delete_messages(kit.prepare_delete(alice.identity, bob.id, ["2070276095283459999"])), "no message with sequence id")
    expect(400, lambda: post(altered(lambda b: b.update(sequence_ids=["2070276095283459999"]))), "must match")
    expect(400, lambda: post(altered(lambda b: b.update(delete_message_action="delete_for_all"))), "must match")
    sig = good.body["action_signatures"][0]["message_event_signature"]["signature"]
    flipped = sig[:20] + ("A" if sig[20] != "A" else "B") + sig[21:]
    expect(400, lambda: post(altered(lambda b: b["action_signatures"][0]["message_event_signature"].update(signature=flipped))), "does not verify")
    expect(400, lambda: post(altered(lambda b: b["action_signatures"][0]["message_event_signature"].update(public_key_version="999"))), "not a registered key version")
    mallory = kit.Identity.from_seed("mallory (demo only)", alice.id, version=alice.identity.version)
    expect(400, lambda: alice.client.delete_messages(kit.prepare_delete(mallory, bob.id, [seq])), "does not verify")
    kc_detail = init.body["action_signatures"][0]["encoded_message_event_detail"]
    expect(400, lambda: post(altered(lambda b: b["action_signatures"][0].update(encoded_message_event_detail=kc_detail))), "no messageDeleteEvent")
    expect(400, lambda: post(altered(lambda b: b.update(action_signatures=[]))), "action_signatures")
    # a replay is answered the same and stored once; the id reused for another delete is a 409
    assert alice.client.delete_messages(good) and alice.client.delete_messages(good)
    assert len(_read_all(alice, bob, init).deletes) == 1
    stored2 = bob.client.send_message(kit.prepare_message(bob.identity, alice.id, "bob's second", **kw))
    seq2 = thrift.read_message_event(base64.b64decode(stored2)).sequence_id
    reused = kit.prepare_delete(alice.identity, bob.id, [seq2], message_id=good.message_id)
    expect(409, lambda: alice.client.delete_messages(reused), "already used")
    expect(400, lambda: post({**good.body, "sequence_ids": [seq, seq]}), "must match")


def test_sdk_delete_is_accepted(connect: Connect) -> None:
    alice, bob, init, kw = _conversation(connect())
    stored = alice.client.send_message(kit.prepare_message(alice.identity, bob.id, "oops", **kw))
    seq = thrift.read_message_event(base64.b64decode(stored)).sequence_id
    res = sdk_from_identity(alice.identity).prepare_message_delete(init.path_id, [seq], True)
    body = {
        "sequence_ids": [seq],
        "delete_message_action": "delete_for_all",
        "action_signatures": [{
            "message_id": res["message_id"], "encoded_message_event_detail": res["encoded_message_event_detail"],
            "signature_payload": res["signature_payload"],
            "message_event_signature": {k: res[k] for k in ("signature", "public_key_version", "signature_version")},
        }],
    }  # fmt: skip
    assert alice.client.request("POST", f"/2/chat/conversations/{init.path_id}/messages/delete", json=body)["data"] == {"deleted": True}
    assert _read_all(bob, alice, init).messages == []
