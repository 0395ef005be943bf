"""kit.tables.conversation_table and kit.message.fold: kinds, quotes and their checks, reactions and edits folded on."""

from __future__ import annotations

import pytest
from chatxdk_helpers import kit_key_change_envelope, kit_message_envelope

import kit
from kit.tables import conversation_table

SEQ = 2070276095283454300


@pytest.fixture
def story(alice, bob):
    init = kit.prepare_key_init(alice, [bob.public_keys])
    kw = {"conversation_key": init.conversation_key, "conversation_key_version": init.conversation_key_version}
    seq = iter(range(SEQ + 1, SEQ + 100))

    def env(pm, who):
        return kit_message_envelope(pm, who.user_id, seq=next(seq))

    kc = kit_key_change_envelope(init, alice.user_id, seq=SEQ)
    first = env(kit.prepare_message(alice, bob.user_id, "lunch at noon?", **kw), alice)
    events = [
        kc,
        first,
        env(kit.prepare_message(bob, alice.user_id, "yes", reply_to=first, **kw), bob),
        env(kit.prepare_message(bob, alice.user_id, "you said", reply_to=first, quote="lunch is on me", **kw), bob),
        env(kit.prepare_reaction(bob, first, "👍", **kw), bob),
        env(kit.prepare_reaction(alice, first, "👍", **kw), alice),
        env(kit.prepare_reaction(alice, first, "🎉", **kw), alice),
        env(kit.prepare_reaction(alice, first, "🎉", remove=True, **kw), alice),
        env(kit.prepare_edit(alice, first, "lunch at one?", **kw), alice),
        env(kit.prepare_edit(bob, first, "lunch is on alice", **kw), bob),
        "broken!",
    ]
    return events


def test_the_table_folds_and_checks(story, alice, bob):
    t = conversation_table(story, recipient=bob, signing_keys=[alice.public_keys, bob.public_keys])
    assert list(t["kind"]) == ["text", "reply", "reply", "error"]
    first = t.iloc[0]
    assert first["text"] == "lunch at one?" and first["reactions"] == "👍 2"
    assert "edited" in first["notes"] and "only the author can edit" in first["notes"]
    assert t.iloc[1]["quote check"] == "valid" and t.iloc[1]["replying to"] == f"'lunch at noon?' ({SEQ + 1})"
    assert t.iloc[2]["quote check"].startswith("INVALID: the quoted text 'lunch is on me'")
    assert t.iloc[3]["notes"].startswith("event 10: WireFormatError")


def test_the_table_takes_a_batch(story, alice, bob):
    batch = kit.read_events(story, recipient=bob, signing_keys=[alice.public_keys, bob.public_keys])
    assert list(conversation_table(batch)["kind"]) == ["text", "reply", "reply", "error"]
    with pytest.raises(TypeError, match="recipient="):
        conversation_table(story)


def test_fold_deletes_and_orphans(story, alice, bob):
    batch = kit.read_events(story, recipient=bob, signing_keys=[alice.public_keys, bob.public_keys])
    first = batch.messages[0]
    mine = kit.message.Deletion(alice.user_id, "d", first.conversation_id, str(SEQ + 50), "1", (first.sequence_id,), True)
    theirs = kit.message.Deletion(alice.user_id, "e", first.conversation_id, str(SEQ + 51), "1", (batch.messages[1].sequence_id,), True)
    entries, orphans = kit.message.fold(batch.messages[2:], [mine, theirs], reader=bob.user_id)
    assert orphans and all("not in this batch" in o for o in orphans)  # the reactions and edits lost their target
    entries, _ = kit.message.fold(batch.messages, [mine, theirs], reader=bob.user_id)
    assert entries[0].deleted == f"deleted for all by {alice.user_id}"
    assert entries[1].deleted == "" and "not the author" in entries[1].notes[0]
