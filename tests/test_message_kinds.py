"""Every message kind between kit users: read_message, replies and their quotes, deletes, and the batch reader."""

from __future__ import annotations

import base64
import dataclasses

import pytest
from chatxdk_helpers import kit_key_change_envelope, kit_message_envelope

import kit
from kit import thrift

SEQ = 2070276095283454200


@pytest.fixture
def convo(alice, bob):
    init = kit.prepare_key_init(alice, [bob.public_keys])
    kw = {"conversation_key": init.conversation_key, "conversation_key_version": init.conversation_key_version}
    kc = kit_key_change_envelope(init, alice.user_id, seq=SEQ)
    first = kit_message_envelope(kit.prepare_message(alice, bob.user_id, "lunch at noon?", **kw), alice.user_id, seq=SEQ + 1)
    return init, kw, kc, first


def _read(ev, init, alice, bob, **extra):
    return kit.read_message(ev, conversation_key=init.conversation_key, signing_keys=[alice.public_keys, bob.public_keys], **extra)


def test_text_still_reads_as_before(convo, alice, bob):
    init, _, _, first = convo
    m = _read(first, init, alice, bob)
    assert (m.kind, m.text, m.entities, m.reply_to, m.quick_reply, m.emoji, m.target_sequence_id) == (
        "text", "lunch at noon?", (), None, None, None, None
    )
    assert m.event == base64.b64decode(first) and "event" not in repr(m)


def test_trust_keeps_working_for_every_kind(convo, alice, bob, tmp_path):
    init, kw, _, first = convo
    store = kit.TrustStore()
    reaction = kit_message_envelope(kit.prepare_reaction(bob, first, "👍", **kw), bob.user_id, seq=SEQ + 2)
    assert _read(reaction, init, alice, bob, trust=store).kind == "reaction_add"
    mallory = kit.Identity.from_seed("mallory (demo only)", bob.user_id, version=bob.version)
    forged = kit_message_envelope(kit.prepare_reaction(mallory, first, "👎", **kw), bob.user_id, seq=SEQ + 3)
    with pytest.raises(kit.TrustError):
        kit.read_message(forged, conversation_key=init.conversation_key, signing_keys=[mallory.public_keys], trust=store)


def test_reply_edit_reaction_from_a_message(convo, alice, bob):
    init, kw, _, first = convo
    original = _read(first, init, alice, bob)
    reply = kit_message_envelope(kit.prepare_message(bob, alice.user_id, "yes!", reply_to=original, **kw), bob.user_id, seq=SEQ + 2)
    edit = kit_message_envelope(kit.prepare_edit(alice, original, "lunch at one?", **kw), alice.user_id, seq=SEQ + 3)
    remove = kit_message_envelope(kit.prepare_reaction(bob, original, "👍", remove=True, **kw), bob.user_id, seq=SEQ + 4)
    r, e, x = (_read(ev, init, alice, bob) for ev in (reply, edit, remove))
    assert r.kind == "reply" and r.reply_to.validation == "valid" and r.reply_to.text == "lunch at noon?"
    assert r.reply_to.sequence_id == str(SEQ + 1) and r.reply_to.sender_id == alice.user_id
    assert (e.kind, e.text, e.target_sequence_id) == ("edit", "lunch at one?", str(SEQ + 1))
    assert (x.kind, x.text, x.emoji) == ("reaction_remove", "", "👍")


@pytest.mark.parametrize(
    ("how", "problem"),
    [
        ("quote", "not what the original says"),
        ("sender", "names sender"),
        ("message_id", "names message id"),
        ("sequence", "names sequence id"),
        ("signature", "does not verify"),
        ("unknown_signer", "does not verify"),
    ],
)
def test_forged_quotes_are_invalid_but_the_reply_is_authentic(convo, alice, bob, how, problem):
    init, kw, _, first = convo
    if how == "quote":
        pm = kit.prepare_message(bob, alice.user_id, "ha", reply_to=first, quote="I owe bob $100", **kw)
    else:
        pm = kit.prepare_message(bob, alice.user_id, "ha", reply_to=first, **kw)
        p = kit.content.read_content(pm.plaintext).preview
        if how == "sender":
            p = dataclasses.replace(p, sender_id=int(bob.user_id))
        elif how == "message_id":
            p = dataclasses.replace(p, message_id="00000000-0000-4000-8000-000000000000")
        elif how == "sequence":
            p = dataclasses.replace(p, sequence_id="1")
        elif how == "signature":
            raw = thrift.read_message_event(p.raw_event)
            text = raw.signature.signature
            sig = dataclasses.replace(raw.signature, signature=text[:10] + ("A" if text[10] != "A" else "B") + text[11:])
            p = dataclasses.replace(p, raw_event=dataclasses.replace(raw, signature=sig).encode())
        else:  # an original signed by someone the reader has no keys for
            carol = kit.Identity.from_seed("carol (demo only)", "1843439638876491776")
            raw = thrift.read_message_event(p.raw_event)
            p = dataclasses.replace(p, raw_event=dataclasses.replace(raw, sender_id=carol.user_id).encode(), sender_id=int(carol.user_id))
        pm = _reseal(bob, alice, kit.content.encode_message("ha", preview=p), kw)
    m = _read(kit_message_envelope(pm, bob.user_id, seq=SEQ + 2), init, alice, bob)
    assert m.kind == "reply" and m.text == "ha"  # the reply itself verified: bob really sent it
    assert m.reply_to.validation == "invalid" and problem in m.reply_to.problem


def _reseal(sender, peer, plaintext, kw):
    from kit.message import prepare as prep

    return prep._seal_and_sign(sender, peer.user_id, plaintext, "reply", message_id=None, **kw)  # noqa: SLF001 - a test forges by hand


def test_a_preview_without_raw_event_is_unchecked(convo, alice, bob):
    init, kw, _, _ = convo
    p = kit.content.Preview(sender_id=int(alice.user_id), text="anything", sequence_id="5")
    pm = _reseal(bob, alice, kit.content.encode_message("re", preview=p), kw)
    m = _read(kit_message_envelope(pm, bob.user_id, seq=SEQ + 2), init, alice, bob)
    assert m.reply_to.validation is None and m.reply_to.text == "anything"


def test_prepare_refuses_what_cannot_be_right(convo, alice, bob):
    init, kw, _, first = convo
    with pytest.raises(kit.WireFormatError, match="quote= needs reply_to="):
        kit.prepare_message(alice, bob.user_id, "x", quote="y", **kw)
    with pytest.raises(kit.WireFormatError, match="is in conversation"):
        kit.prepare_message(alice, "g123", "x", reply_to=first, **kw)
    with pytest.raises(kit.WireFormatError, match="key version"):
        kit.prepare_message(bob, alice.user_id, "x", reply_to=first, conversation_key=bytes(32), conversation_key_version="1")
    with pytest.raises(kit.WireFormatError, match="no raw event"):
        kit.prepare_reaction(bob, dataclasses.replace(_read(first, init, alice, bob), event=b""), "👍", **kw)
    with pytest.raises(kit.WireFormatError, match="not a message"):
        kit.prepare_message(bob, alice.user_id, "x", reply_to=convo[2], **kw)


def test_delete_round_trip_and_payload(alice, bob):
    pd = kit.prepare_delete(alice, bob.user_id, ["11", "12"], delete_for_all=True, message_id="m-1")
    assert pd.payload == f"MessageDeleteEvent,m-1,{alice.user_id},{alice.user_id}:{bob.user_id},2,11,12".encode()
    assert pd.path_id == f"{alice.user_id}-{bob.user_id}" and pd.body["sequence_ids"] == ["11", "12"]
    act = pd.body["action_signatures"][0]
    ev = thrift.MessageEvent(
        sequence_id="99", message_id="m-1", sender_id=alice.user_id, conversation_id=pd.conversation_id, created_at_msec="1",
        detail=base64.b64decode(act["encoded_message_event_detail"]),
        signature=thrift.EventSignature(act["message_event_signature"]["signature"], alice.version, "7"),
    )  # fmt: skip
    d = kit.message.read_delete(ev.encode(), signing_keys=[alice.public_keys])
    assert d.sequence_ids == ("11", "12") and d.delete_for_all is True
    for bad, match in (([], "at least one"), ("11", "one str"), (["1,2"], "digits")):
        with pytest.raises(kit.WireFormatError, match=match):
            kit.prepare_delete(alice, bob.user_id, bad)


# ----------------------------------------------------------------------------- the batch reader


def test_batch_reads_in_any_order_with_a_broken_event_in_the_middle(convo, alice, bob):
    init, kw, kc, first = convo
    reply = kit_message_envelope(kit.prepare_message(bob, alice.user_id, "yes", reply_to=first, **kw), bob.user_id, seq=SEQ + 2)
    broken = first[:40] + ("A" if first[40] != "A" else "B") + first[41:]
    pd = kit.prepare_delete(alice, bob.user_id, [str(SEQ + 2)], delete_for_all=True)
    act = pd.body["action_signatures"][0]
    delete = base64.b64encode(thrift.MessageEvent(
        sequence_id=str(SEQ + 5), message_id=pd.message_id, sender_id=alice.user_id, conversation_id=pd.conversation_id,
        created_at_msec="1", detail=base64.b64decode(act["encoded_message_event_detail"]),
        signature=thrift.EventSignature(act["message_event_signature"]["signature"], alice.version, "7"),
    ).encode()).decode()  # fmt: skip
    batch = kit.read_events([reply, first, broken, "not base64!", kc, delete], recipient=bob, signing_keys=[alice.public_keys, bob.public_keys])
    assert [m.text for m in batch.messages] == ["yes", "lunch at noon?"]  # batch order; the key change came last
    assert batch.messages[0].reply_to.validation == "valid"
    assert [k.conversation_key_version for k in batch.key_changes] == [init.conversation_key_version]
    assert sorted(batch.errors) == [2, 3] and all(isinstance(e, kit.KitError) for e in batch.errors.values())
    assert batch.deletes[0].sequence_ids == (str(SEQ + 2),)
    assert "errors=[2, 3]" in repr(batch)


def test_batch_uses_and_fills_the_keyring(convo, alice, bob):
    init, kw, kc, first = convo
    ring = kit.Keyring()
    kit.read_events([kc], recipient=bob, signing_keys=[alice.public_keys], keyring=ring)
    assert ring.latest(init.conversation_id).conversation_key == init.conversation_key
    batch = kit.read_events([first], recipient=bob, signing_keys=[alice.public_keys], keyring=ring)
    assert batch.errors == {} and batch.messages[0].text == "lunch at noon?"
    alone = kit.read_events([first], recipient=bob, signing_keys=[alice.public_keys])
    assert isinstance(alone.errors[0], kit.KeyNotFoundError) and alone.messages == []


def test_the_inspector_names_a_delete_detail(alice, bob):
    pd = kit.prepare_delete(alice, bob.user_id, ["11"], delete_for_all=True)
    got = kit.inspect(pd.body["action_signatures"][0]["encoded_message_event_detail"])
    assert got.kind == "event-detail" and "MessageDeleteEvent (1 sequence id(s), for all)" in got.summary
