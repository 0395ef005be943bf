"""Interop for every message kind with the official SDK, PyPI `chatxdk` 0.5.2, in both directions.

Kinds: text with entities and quick replies, replies (genuine, forged, truncated, across key
versions, quoting an edit, from another conversation), edits, reactions added and removed,
deletes. Each fact in docs/wire-format-messages.md names the test here that backs it.

Sections: 1 chatxdk writes, the kit reads; 2 the kit writes, chatxdk reads; 3 the same bytes.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pytest
from chatxdk_helpers import (
    CREATED_AT,
    SEQ,
    SdkUser,
    b64,
    kit_key_change_envelope,
    kit_message_envelope,
    sdk_key_change_event,
    sdk_message_event,
    sdk_user,
    signing_entry,
    unb64,
    wrap_entry,
)
from nacl.secret import SecretBox

import kit
from kit import content, thrift

DAVE = "1707000000000000004"
ERIN = "1808000000000000005"
FRANK = "2009000000000000006"
ENTITIES = [(3, 8, "mention"), (9, 13, "hashtag"), (14, 32, "url"), (33, 38, "cashtag")]
TEXT = "hi @erin #tag https://x.com/ok $TSLA"
QR_REQUEST = {
    "request": {
        "options": {
            "id": "q1",
            "options": [
                {"id": "yes", "label": "Yes", "metadata": "m1", "description": "say yes"},
                {"id": "no", "label": "No", "metadata": None, "description": None},
            ],
        }
    }
}
QR_RESPONSE = {"response": {"options": {"request_id": "q1", "metadata": "m1", "selected_option_id": "yes"}}}


@dataclass
class Pair:
    """dave (the SDK) and erin (the SDK, also loaded into the kit) in one conversation."""

    dave: SdkUser
    erin: SdkUser
    key: bytes
    version: str
    conv: str
    key_change: str

    @property
    def signers(self) -> list[kit.PublicKeys]:
        return [self.dave.public_keys, self.erin.public_keys]

    @property
    def sdk_signers(self) -> list[dict[str, str]]:
        return [signing_entry(pk) for pk in self.signers]

    def kw(self) -> dict:
        return {"conversation_key": self.key, "conversation_key_version": self.version}

    def sdk_event(self, sp, sender: str, seq: int) -> str:
        return b64(sdk_message_event(sp, sender, self.conv, seq=seq).encode())

    def kit_event(self, pm: kit.PreparedMessage, sender: str, seq: int) -> str:
        return kit_message_envelope(pm, sender, seq=seq)

    def sdk_read(self, events: list[str], reader: SdkUser | None = None) -> list[dict]:
        out = (reader or self.erin).chat.decrypt_events([self.key_change, *events], self.sdk_signers)
        assert out["errors"] == {}, out["errors"]
        return [m["event"] for m in out["messages"]][1:]

    def kit_read(self, event: str) -> kit.Message:
        return kit.read_message(event, conversation_key={self.version: self.key}, signing_keys=self.signers)


@pytest.fixture
def pair() -> Pair:
    dave, erin = sdk_user(DAVE), sdk_user(ERIN)
    res = dave.chat.prepare_conversation_key_change([wrap_entry(dave.public_keys), wrap_entry(erin.public_keys)])
    kc = b64(sdk_key_change_event(res, DAVE).encode())
    return Pair(dave, erin, res["conversation_key"], res["conversation_key_version"], res["conversation_id"], kc)


def _plaintext(sp, key: bytes) -> bytes:
    return SecretBox(key).decrypt(thrift.read_message_create_event(unb64(sp.encrypted_content)).contents)


def _sdk_entities(raw: list[dict] | None) -> tuple[kit.Entity, ...]:
    return tuple(kit.Entity(next(iter(e["content"])), e["start_index"], e["end_index"]) for e in raw or ())


def _verdict(event: dict) -> str | None:
    v = event.get("reply_preview_validation")
    return None if v is None else v.lower()


def _delete_event(res: dict, sender: str, conv: str, seq: int) -> str:
    ev = thrift.MessageEvent(
        sequence_id=str(seq),
        message_id=res["message_id"],
        sender_id=sender,
        conversation_id=conv,
        created_at_msec=CREATED_AT,
        detail=unb64(res["encoded_message_event_detail"]),
        signature=thrift.EventSignature(res["signature"], res["public_key_version"], res["signature_version"]),
    )
    return b64(ev.encode())


# ============================================================================ 1. chatxdk writes, the kit reads


def test_kit_reads_sdk_entities_and_quick_reply_request(pair):
    sp = pair.dave.chat.encrypt_message(pair.conv, TEXT, entities=ENTITIES, quick_reply=QR_REQUEST, **pair.kw())
    ev = pair.sdk_event(sp, DAVE, SEQ + 1)
    m = pair.kit_read(ev)
    assert (m.kind, m.text, m.reply_to, m.target_sequence_id, m.emoji) == ("text", TEXT, None, None, None)
    assert m.entities == tuple(kit.Entity(kind, s, e) for s, e, kind in ENTITIES)
    assert m.quick_reply == kit.QuickReply.from_dict(QR_REQUEST)
    assert m.quick_reply.options[0] == content.QuickReplyOption("yes", "Yes", "m1", "say yes")
    (sdk,) = pair.sdk_read([ev])
    assert _sdk_entities(sdk["content"]["entities"]) == m.entities
    assert kit.QuickReply.from_dict(sdk["content"]["quick_reply"]) == m.quick_reply


def test_kit_reads_sdk_quick_reply_response(pair):
    sp = pair.erin.chat.encrypt_message(pair.conv, "Yes", quick_reply=QR_RESPONSE, **pair.kw())
    m = pair.kit_read(pair.sdk_event(sp, ERIN, SEQ + 2))
    assert m.kind == "text" and m.text == "Yes"
    assert m.quick_reply == kit.QuickReply.response("q1", "yes", "m1")


@pytest.mark.parametrize("how", ["genuine", "forged_text", "truncated", "explicit_no_raw", "other_conversation"])
def test_kit_reply_verdict_equals_sdk(pair, how):
    """The kit's `reply_to.validation` is the SDK's `reply_preview_validation`, case by case."""
    original = pair.dave.chat.encrypt_message(pair.conv, TEXT, entities=ENTITIES, **pair.kw())
    ev1 = pair.sdk_event(original, DAVE, SEQ + 1)
    if how == "genuine":
        sp = pair.erin.chat.encrypt_reply(pair.conv, "reply!", ev1, **pair.kw())
    elif how == "forged_text":
        sp = pair.erin.chat.encrypt_reply(pair.conv, "reply!", ev1, reply_to_text="I owe erin $100", **pair.kw())
    elif how == "truncated":
        sp = pair.erin.chat.encrypt_reply(pair.conv, "reply!", ev1, reply_to_text=TEXT[:6], **pair.kw())
    elif how == "explicit_no_raw":
        sp = pair.erin.chat.encrypt_reply(
            pair.conv, "reply!", reply_to_sequence_id=str(SEQ + 1), reply_to_sender_id=int(DAVE),
            reply_to_text="anything at all", **pair.kw(),
        )  # fmt: skip
    else:  # the original comes from another conversation (dave and frank), under the same key
        frank = sdk_user(FRANK)
        other = pair.dave.chat.encrypt_message(f"{DAVE}:{FRANK}", TEXT, **pair.kw())
        ev_other = b64(sdk_message_event(other, DAVE, f"{DAVE}:{FRANK}", seq=SEQ + 1).encode())
        sp = pair.erin.chat.encrypt_reply(pair.conv, "reply!", ev_other, **pair.kw())
        assert frank.user_id == FRANK
    ev = pair.sdk_event(sp, ERIN, SEQ + 3)
    (sdk,) = pair.sdk_read([ev1, ev])[1:]
    m = pair.kit_read(ev)
    expected = {"genuine": "valid", "forged_text": "invalid", "truncated": "valid", "explicit_no_raw": None,
                "other_conversation": "invalid"}[how]  # fmt: skip
    assert _verdict(sdk) == expected
    assert m.kind == "reply" and m.text == "reply!" and sdk["verified"] is True
    assert m.reply_to is not None and m.reply_to.validation == expected
    preview = sdk["content"]["replying_to_preview"]
    assert m.reply_to.text == preview["message_text"]
    assert m.reply_to.sender_id == preview["sender_id"]
    assert m.reply_to.sequence_id == preview["replying_to_message_sequence_id"]
    assert m.reply_to.message_id == preview["replying_to_message_id"]
    assert m.reply_to.entities == _sdk_entities(preview["entities"])
    if how == "forged_text":
        assert "not what the original says" in m.reply_to.problem and m.reply_to.original_text == TEXT
    if how == "other_conversation":
        assert "from conversation" in m.reply_to.problem
    if expected == "valid":
        assert m.reply_to.problem is None and m.reply_to.original_text == TEXT


def test_kit_validates_sdk_reply_across_key_versions(pair):
    """An original under an older key: the reply embeds its key change (raw_event_ckces) and both validate it."""
    original = pair.dave.chat.encrypt_message(pair.conv, "before rotation", **pair.kw())
    ev1 = pair.sdk_event(original, DAVE, SEQ + 1)
    res = pair.dave.chat.prepare_conversation_key_change(
        [wrap_entry(pair.dave.public_keys), wrap_entry(pair.erin.public_keys)]
    )
    kc2 = b64(sdk_key_change_event(res, DAVE, seq=SEQ + 2).encode())
    new = {"conversation_key": res["conversation_key"], "conversation_key_version": res["conversation_key_version"]}
    sp = pair.erin.chat.encrypt_reply(pair.conv, "after", ev1, reply_to_ckces=[pair.key_change], **new)
    ev = pair.sdk_event(sp, ERIN, SEQ + 3)
    sdk = pair.erin.chat.decrypt_events([kc2, ev], pair.sdk_signers)  # only the new key in this batch
    assert sdk["errors"] == {} and sdk["messages"][1]["event"]["reply_preview_validation"] == "Valid"
    erin = pair.erin.as_kit_identity()
    only_new = {res["conversation_key_version"]: res["conversation_key"]}
    m = kit.read_message(ev, conversation_key=only_new, signing_keys=pair.signers, recipient=erin)
    assert m.reply_to.validation == "valid" and m.reply_to.original_text == "before rotation"
    # without the recipient the embedded key change cannot be unwrapped: the quote cannot be checked
    m2 = kit.read_message(ev, conversation_key=only_new, signing_keys=pair.signers)
    assert m2.reply_to.validation == "invalid" and "no conversation key" in m2.reply_to.problem


def test_kit_validates_sdk_reply_quoting_an_edit(pair):
    original = pair.dave.chat.encrypt_message(pair.conv, "first words", **pair.kw())
    ev1 = pair.sdk_event(original, DAVE, SEQ + 1)
    edit = pair.dave.chat.encrypt_edit(ev1, "second thoughts", **pair.kw())
    ev_edit = pair.sdk_event(edit, DAVE, SEQ + 2)
    sp = pair.erin.chat.encrypt_reply(pair.conv, "re", ev1, reply_to_edit_event=ev_edit, **pair.kw())
    ev = pair.sdk_event(sp, ERIN, SEQ + 3)
    (sdk,) = pair.sdk_read([ev])
    assert sdk["reply_preview_validation"] == "Valid"
    assert sdk["content"]["replying_to_preview"]["message_text"] == "second thoughts"
    m = pair.kit_read(ev)
    assert m.reply_to.validation == "valid" and m.reply_to.text == "second thoughts"


@pytest.mark.parametrize("with_entities", [True, False])
def test_kit_reads_sdk_edit(pair, with_entities):
    ev1 = pair.sdk_event(pair.dave.chat.encrypt_message(pair.conv, "helo", **pair.kw()), DAVE, SEQ + 1)
    ents = [(0, 5, "url")] if with_entities else None
    sp = pair.dave.chat.encrypt_edit(ev1, "hello", entities=ents, **pair.kw())
    ev = pair.sdk_event(sp, DAVE, SEQ + 2)
    m = pair.kit_read(ev)
    assert (m.kind, m.text, m.target_sequence_id) == ("edit", "hello", str(SEQ + 1))
    assert m.entities == ((kit.Entity("url", 0, 5),) if with_entities else ())
    (sdk,) = pair.sdk_read([ev])
    assert sdk["content"]["content_type"] == "Edit" and sdk["content"]["new_text"] == m.text
    assert sdk["content"]["target_message_id"] == m.target_sequence_id  # the SDK's name for the sequence id


@pytest.mark.parametrize("remove", [False, True])
def test_kit_reads_sdk_reaction(pair, remove):
    ev1 = pair.sdk_event(pair.dave.chat.encrypt_message(pair.conv, "lunch?", **pair.kw()), DAVE, SEQ + 1)
    call = pair.erin.chat.encrypt_remove_reaction if remove else pair.erin.chat.encrypt_add_reaction
    ev = pair.sdk_event(call(ev1, "👍", **pair.kw()), ERIN, SEQ + 2)
    m = pair.kit_read(ev)
    assert (m.kind, m.text, m.emoji, m.target_sequence_id) == (
        "reaction_remove" if remove else "reaction_add", "", "👍", str(SEQ + 1)
    )
    (sdk,) = pair.sdk_read([ev])
    assert sdk["content"] == {
        "content_type": "ReactionRemoved" if remove else "Reaction", "emoji": "👍", "target_message_id": str(SEQ + 1)
    }  # fmt: skip


@pytest.mark.parametrize("for_all", [True, False])
def test_kit_reads_sdk_delete(pair, for_all):
    res = pair.dave.chat.prepare_message_delete(f"{ERIN}-{DAVE}", [str(SEQ + 1), str(SEQ + 2)], for_all)
    assert res["signature_payload"] == (
        f"MessageDeleteEvent,{res['message_id']},{DAVE},{pair.conv},{2 if for_all else 1},{SEQ + 1},{SEQ + 2}"
    )
    ev = _delete_event(res, DAVE, pair.conv, SEQ + 5)
    d = kit.message.read_delete(ev, signing_keys=pair.signers)
    assert (d.sequence_ids, d.delete_for_all, d.sender_id) == ((str(SEQ + 1), str(SEQ + 2)), for_all, DAVE)
    (sdk,) = pair.sdk_read([ev])
    assert sdk["type"] == "MessageDeleted" and sdk["verified"] is True
    assert sdk["message_ids"] == list(d.sequence_ids) and sdk["delete_for_all"] is for_all
    # a flipped sequence id breaks the signature on both sides
    bad = thrift.DeleteDetail((str(SEQ + 9), str(SEQ + 2)), for_all).encode()
    forged = _delete_event({**res, "encoded_message_event_detail": b64(bad)}, DAVE, pair.conv, SEQ + 6)
    with pytest.raises(kit.SignatureError):
        kit.message.read_delete(forged, signing_keys=pair.signers)
    out = pair.erin.chat.decrypt_events([forged], pair.sdk_signers)
    assert out["messages"] == [] and "0" in out["errors"]


# ============================================================================ 2. the kit writes, chatxdk reads


@pytest.fixture
def kit_dave(pair) -> kit.Identity:
    return pair.dave.as_kit_identity()


def test_sdk_reads_kit_entities_and_quick_replies(pair, kit_dave):
    qr = kit.QuickReply.request("q1", [("yes", "Yes"), content.QuickReplyOption("no", "No", "m", "d")])
    ents = [kit.Entity(kind, s, e) for s, e, kind in ENTITIES]
    pm = kit.prepare_message(kit_dave, pair.conv, TEXT, entities=ents, quick_reply=qr, **pair.kw())
    pm2 = kit.prepare_message(kit_dave, pair.conv, "yes", quick_reply=kit.QuickReply.response("q1", "yes"), **pair.kw())
    a, b = pair.sdk_read([pair.kit_event(pm, DAVE, SEQ + 1), pair.kit_event(pm2, DAVE, SEQ + 2)])
    assert a["verified"] is True and a["content"]["text"] == TEXT
    assert _sdk_entities(a["content"]["entities"]) == tuple(ents)
    assert kit.QuickReply.from_dict(a["content"]["quick_reply"]) == qr
    assert b["content"]["quick_reply"] == {"response": {"options": {"request_id": "q1", "metadata": None, "selected_option_id": "yes"}}}


@pytest.mark.parametrize("via", ["message", "raw_event"])
def test_sdk_validates_kit_reply(pair, kit_dave, via):
    original = pair.erin.chat.encrypt_message(pair.conv, TEXT, entities=ENTITIES, **pair.kw())
    ev1 = pair.sdk_event(original, ERIN, SEQ + 1)
    target = pair.kit_read(ev1) if via == "message" else ev1
    pm = kit.prepare_message(kit_dave, pair.conv, "agreed", reply_to=target, **pair.kw())
    assert pm.kind == "reply"
    ev = pair.kit_event(pm, DAVE, SEQ + 2)
    (sdk,) = pair.sdk_read([ev])
    assert sdk["verified"] is True and sdk["type"] == "Message"
    assert sdk["reply_preview_validation"] == "Valid"
    preview = sdk["content"]["replying_to_preview"]
    assert preview["message_text"] == TEXT and preview["sender_id"] == ERIN
    assert preview["replying_to_message_sequence_id"] == str(SEQ + 1)
    assert preview["replying_to_message_id"] == original.message_id
    assert pair.kit_read(ev).reply_to.validation == "valid"


@pytest.mark.parametrize(("quote", "verdict"), [("I owe dave $100", "Invalid"), (TEXT[:2], "Valid")])
def test_sdk_and_kit_agree_on_a_kit_quote(pair, kit_dave, quote, verdict):
    """A forged quote written with the kit is caught by the SDK; a truncated one passes both (what valid does not prove)."""
    ev1 = pair.sdk_event(pair.erin.chat.encrypt_message(pair.conv, TEXT, **pair.kw()), ERIN, SEQ + 1)
    pm = kit.prepare_message(kit_dave, pair.conv, "so?", reply_to=ev1, quote=quote, **pair.kw())
    ev = pair.kit_event(pm, DAVE, SEQ + 2)
    (sdk,) = pair.sdk_read([ev])
    assert sdk["verified"] is True and sdk["reply_preview_validation"] == verdict
    assert pair.kit_read(ev).reply_to.validation == verdict.lower()


def test_sdk_reads_kit_edit_and_reactions(pair, kit_dave):
    ev1 = pair.sdk_event(pair.dave.chat.encrypt_message(pair.conv, "helo", **pair.kw()), DAVE, SEQ + 1)
    edit = kit.prepare_edit(kit_dave, ev1, "hello @erin", entities=[kit.Entity("mention", 6, 11)], **pair.kw())
    add = kit.prepare_reaction(kit_dave, ev1, "🎉", **pair.kw())
    rem = kit.prepare_reaction(kit_dave, ev1, "🎉", remove=True, **pair.kw())
    assert (edit.kind, add.kind, rem.kind) == ("edit", "reaction_add", "reaction_remove")
    got = pair.sdk_read([pair.kit_event(p, DAVE, SEQ + 2 + i) for i, p in enumerate((edit, add, rem))])
    assert all(e["verified"] is True and e["type"] == "Message" for e in got)
    assert got[0]["content"] == {
        "content_type": "Edit", "target_message_id": str(SEQ + 1), "new_text": "hello @erin",
        "entities": [{"start_index": 6, "end_index": 11, "content": {"mention": {}}}],
    }  # fmt: skip
    assert got[1]["content"] == {"content_type": "Reaction", "emoji": "🎉", "target_message_id": str(SEQ + 1)}
    assert got[2]["content"] == {"content_type": "ReactionRemoved", "emoji": "🎉", "target_message_id": str(SEQ + 1)}


@pytest.mark.parametrize("for_all", [True, False])
def test_sdk_reads_kit_delete(pair, kit_dave, for_all):
    pd = kit.prepare_delete(kit_dave, ERIN, [str(SEQ + 1)], delete_for_all=for_all)
    act = pd.body["action_signatures"][0]
    res = {
        "message_id": act["message_id"], "encoded_message_event_detail": act["encoded_message_event_detail"],
        **act["message_event_signature"],
    }  # fmt: skip
    (sdk,) = pair.sdk_read([_delete_event(res, DAVE, pair.conv, SEQ + 3)])
    assert sdk["type"] == "MessageDeleted" and sdk["verified"] is True
    assert sdk["message_ids"] == [str(SEQ + 1)] and sdk["delete_for_all"] is for_all
    assert pd.body["delete_message_action"] == ("delete_for_all" if for_all else "delete_for_self")


def test_sdk_reads_a_whole_kit_conversation_in_any_order(pair, kit_dave):
    """The kit's init, a message, a reply, an edit and a reaction, shuffled: decrypt_events reads them all."""
    init = kit.prepare_key_init(kit_dave, [pair.erin.public_keys])
    kw = {"conversation_key": init.conversation_key, "conversation_key_version": init.conversation_key_version}
    kc = kit_key_change_envelope(init, DAVE, seq=SEQ + 10)
    m1 = kit.prepare_message(kit_dave, ERIN, "one", **kw)
    ev1 = pair.kit_event(m1, DAVE, SEQ + 11)
    rest = [
        kit.prepare_message(kit_dave, ERIN, "two", reply_to=ev1, **kw),
        kit.prepare_edit(kit_dave, ev1, "one!", **kw),
        kit.prepare_reaction(kit_dave, ev1, "👀", **kw),
    ]
    events = [pair.kit_event(p, DAVE, SEQ + 12 + i) for i, p in enumerate(rest)]
    out = pair.erin.chat.decrypt_events([events[2], events[0], ev1, kc, events[1]], pair.sdk_signers)
    assert out["errors"] == {}
    kinds = sorted(m["event"].get("content", {}).get("content_type", m["event"]["type"]) for m in out["messages"])
    assert kinds == ["Edit", "KeyChange", "Reaction", "Text", "Text"]
    assert all(m["event"]["verified"] for m in out["messages"])
    reply = next(m["event"] for m in out["messages"] if m["event"].get("reply_preview_validation"))
    assert reply["reply_preview_validation"] == "Valid"


# ============================================================================ 3. the same bytes


def _nonce(sp) -> bytes:
    return thrift.read_message_create_event(unb64(sp.encrypted_content)).contents[:24]


@pytest.mark.parametrize("kind", ["entities_quick_reply", "quick_reply_response", "reply", "edit", "add", "remove"])
def test_kit_bytes_equal_sdk_bytes(pair, kit_dave, kind):
    """Given the SDK's nonce and message id, the kit writes the SDK's MCE, signature and plaintext exactly."""
    ev1 = pair.sdk_event(pair.erin.chat.encrypt_message(pair.conv, TEXT, entities=ENTITIES, **pair.kw()), ERIN, SEQ + 1)
    chat = pair.dave.chat
    if kind == "entities_quick_reply":
        sp = chat.encrypt_message(pair.conv, TEXT, entities=ENTITIES, quick_reply=QR_REQUEST, **pair.kw())
        make = lambda **k: kit.prepare_message(  # noqa: E731
            kit_dave, pair.conv, TEXT, entities=[(kd, s, e) for s, e, kd in ENTITIES], quick_reply=QR_REQUEST, **k
        )
    elif kind == "quick_reply_response":
        sp = chat.encrypt_message(pair.conv, "Yes", quick_reply=QR_RESPONSE, **pair.kw())
        make = lambda **k: kit.prepare_message(kit_dave, pair.conv, "Yes", quick_reply=QR_RESPONSE, **k)  # noqa: E731
    elif kind == "reply":
        sp = chat.encrypt_reply(pair.conv, "re", ev1, **pair.kw())
        make = lambda **k: kit.prepare_message(kit_dave, pair.conv, "re", reply_to=ev1, **k)  # noqa: E731
    elif kind == "edit":
        sp = chat.encrypt_edit(ev1, "new", entities=[(0, 3, "email")], **pair.kw())
        make = lambda **k: kit.prepare_edit(kit_dave, ev1, "new", entities=[("email", 0, 3)], **k)  # noqa: E731
    else:
        call = chat.encrypt_add_reaction if kind == "add" else chat.encrypt_remove_reaction
        sp = call(ev1, "❤️", **pair.kw())
        make = lambda **k: kit.prepare_reaction(kit_dave, ev1, "❤️", remove=kind == "remove", **k)  # noqa: E731
    pm = make(message_id=sp.message_id, nonce=_nonce(sp), **pair.kw())
    assert pm.plaintext == _plaintext(sp, pair.key)
    assert pm.body["encoded_message_create_event"] == sp.encrypted_content
    assert pm.body["encoded_message_event_signature"] == sp.encoded_event_signature
    assert kit.encoding.b64_nopad(pm.signature) == sp.signature


@pytest.mark.parametrize("for_all", [True, False])
def test_kit_delete_bytes_equal_sdk_bytes(pair, kit_dave, for_all):
    res = pair.dave.chat.prepare_message_delete(pair.conv, [str(SEQ + 1), str(SEQ + 7)], for_all)
    pd = kit.prepare_delete(kit_dave, pair.conv, [str(SEQ + 1), str(SEQ + 7)], for_all, message_id=res["message_id"])
    act = pd.body["action_signatures"][0]
    assert act["encoded_message_event_detail"] == res["encoded_message_event_detail"]
    assert act["message_event_signature"]["signature"] == res["signature"]
    assert act["signature_payload"] == res["signature_payload"] == pd.payload.decode()
    assert act["message_event_signature"]["signature_version"] == res["signature_version"] == "7"
    assert base64.b64decode(res["encoded_message_event_detail"])[:3] == b"\x0c\x00\x07"


def test_every_entity_kind_both_ways(pair, kit_dave):
    """All seven `RichTextContent` kinds; the SDK names phone numbers `phoneNumber` and drops kinds it does not know."""
    kinds = ["hashtag", "cashtag", "mention", "url", "email", "address", "phone_number"]
    sdk_ents = [(i, i + 1, k) for i, k in enumerate(kinds)] + [(9, 10, "bogus")]
    sp = pair.dave.chat.encrypt_message(pair.conv, "abcdefghijk", entities=sdk_ents, **pair.kw())
    ev = pair.sdk_event(sp, DAVE, SEQ + 1)
    want = tuple(kit.Entity(k, i, i + 1) for i, k in enumerate(kinds))
    assert pair.kit_read(ev).entities == want  # "bogus" was never written
    pm = kit.prepare_message(kit_dave, pair.conv, "abcdefghijk", entities=want, **pair.kw())
    (sdk,) = pair.sdk_read([pair.kit_event(pm, DAVE, SEQ + 2)])
    names = [next(iter(e["content"])) for e in sdk["content"]["entities"]]
    assert names == kinds[:-1] + ["phoneNumber"]
    with pytest.raises(kit.WireFormatError, match="entity kind must be one of"):
        kit.Entity("bogus", 0, 1)


# ============================================================================ 4. the layouts in docs/wire-format-messages.md


def _sdk_kinds(pair) -> dict[str, object]:
    ev1 = pair.sdk_event(pair.dave.chat.encrypt_message(pair.conv, "helo", **pair.kw()), DAVE, SEQ + 1)
    chat = pair.erin.chat
    return {
        "text": chat.encrypt_message(pair.conv, "hi", **pair.kw()),
        "reply": chat.encrypt_reply(pair.conv, "re", ev1, **pair.kw()),
        "edit": pair.dave.chat.encrypt_edit(ev1, "hello", **pair.kw()),
        "reaction_add": chat.encrypt_add_reaction(ev1, "👍", **pair.kw()),
        "reaction_remove": chat.encrypt_remove_reaction(ev1, "👍", **pair.kw()),
    }


def test_every_kind_has_the_same_create_event_shape(pair):
    """The server sees fields 100, 101, 102 for every kind: it cannot tell a reaction from a reply."""
    for kind, sp in _sdk_kinds(pair).items():
        fields = thrift.read_fields(unb64(sp.encrypted_content)).fields
        assert sorted(fields) == [100, 101, 102], kind
        mce = thrift.read_message_create_event(unb64(sp.encrypted_content))
        assert content.read_content(SecretBox(pair.key).decrypt(mce.contents)).kind == kind


def test_every_kind_is_signed_as_a_message_create_event(pair):
    """The signed bytes are the MessageCreateEvent payload for every kind (the kind is not in them)."""
    for kind, sp in _sdk_kinds(pair).items():
        mce = thrift.read_message_create_event(unb64(sp.encrypted_content))
        sender = pair.dave if kind == "edit" else pair.erin
        payload = kit.signature.message_payload(
            message_id=sp.message_id, sender_id=sender.user_id, conversation_id=pair.conv,
            conversation_key_version=pair.version, sealed=mce.contents,
        )  # fmt: skip
        assert sender.chat.sign(payload) == unb64(sp.signature), kind


def test_reaction_and_edit_layouts(pair):
    kinds = _sdk_kinds(pair)
    seq = str(SEQ + 1).encode()
    react = _plaintext(kinds["reaction_add"], pair.key)
    emoji = "👍".encode()
    assert react == (
        bytes.fromhex("0c00010c0002") + bytes.fromhex("0b0001") + len(seq).to_bytes(4, "big") + seq
        + bytes.fromhex("0b0002") + len(emoji).to_bytes(4, "big") + emoji + b"\x00\x00\x00"
    )  # fmt: skip
    assert len(react) == len(seq) + len(emoji) + 23 == 46
    assert _plaintext(kinds["reaction_remove"], pair.key)[3:6] == bytes.fromhex("0c0003")
    edit = _plaintext(kinds["edit"], pair.key)
    assert edit[:6] == bytes.fromhex("0c00010c0004") and len(edit) == len(seq) + len(b"hello") + 23


def test_entity_and_preview_layouts(pair):
    ev1 = pair.sdk_event(pair.dave.chat.encrypt_message(pair.conv, "hi @x", entities=[(3, 5, "mention")], **pair.kw()), DAVE, SEQ + 1)
    text = _plaintext(pair.dave.chat.encrypt_message(pair.conv, "hi @x", entities=[(3, 5, "mention")], **pair.kw()), pair.key)
    entity = bytes.fromhex("0800010000000308000200000005" "0c00030c0003000000")
    assert len(entity) == 23 and bytes.fromhex("0f00020c00000001") + entity in text
    reply = _plaintext(pair.erin.chat.encrypt_reply(pair.conv, "re", ev1, **pair.kw()), pair.key)
    preview = thrift.read_fields(reply).fields[1][1].fields[1][1].fields[4][1]
    assert list(preview.fields) == [1, 2, 3, 6, 7, 8]  # sender_id, text, entities, sequence id, message id, raw event
    assert preview.fields[1] == (thrift.I64, int(DAVE))
    assert reply[preview.fields[8][1].start : preview.fields[8][1].end] == unb64(ev1)  # the raw event, unchanged


def test_delete_layout(pair):
    res = pair.dave.chat.prepare_message_delete(pair.conv, [str(SEQ + 1), str(SEQ + 2)], True)
    detail = unb64(res["encoded_message_event_detail"])
    seqs = b"".join(len(s).to_bytes(4, "big") + s for s in (str(SEQ + 1).encode(), str(SEQ + 2).encode()))
    assert detail == bytes.fromhex("0c00070f00010b00000002") + seqs + bytes.fromhex("08000200000002") + b"\x00\x00"
    assert len(detail) == 20 + 2 * (4 + 19) == 66


def test_every_test_the_doc_names_exists():
    """docs/wire-format-messages.md backs each fact with a test: each test it names is defined."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    doc = (root / "docs" / "wire-format-messages.md").read_text("utf-8")
    named = set(re.findall(r"\b(test_[a-z0-9_]+)\b(?!\.py)", doc))
    defined = set(re.findall(r"^def (test_[a-z0-9_]+)", "\n".join(p.read_text("utf-8") for p in root.joinpath("tests").rglob("test_*.py")), re.M))
    assert named and named <= defined, sorted(named - defined)
