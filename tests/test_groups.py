"""Groups against the official SDK, PyPI `chatxdk` 0.5.2: the facts of docs/wire-format-groups.md, each a test.

chatxdk is the oracle. Its `prepare_group_create` and `prepare_group_members_change` outputs are
read by the kit, the kit's are read by chatxdk's `decrypt_events`, and given the same message ids
and version the kit writes the SDK's bytes (details and signatures: RFC 6979 makes signatures
repeatable). Every test makes its own chatxdk instances (`latest_version` is sticky per instance).
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from chatxdk_helpers import (
    CREATED_AT,
    SEQ,
    SdkUser,
    b64,
    flip_signature_bit,
    sdk_key_change_event,
    sdk_message_event,
    sdk_user,
    signing_entry,
    unb64,
    wrap_entry,
)

import kit
from kit import thrift
from kit.thrift_group import GroupCreateDetail, MemberAddDetail, OtherGroupChange, is_group_change, read_group_change

G = "g1862051711563718656"
A, B, C, D, E = "1001", "2002", "3003", "4004", "5005"


# ----------------------------------------------------------------------------- helpers


def users(*ids: str) -> dict[str, SdkUser]:
    return {u: sdk_user(u) for u in ids}


def envelope(action: dict[str, Any], seq: int, sender: str, *, cid: str = G, detail: bytes | None = None,
             signature: str | None = None) -> str:  # fmt: skip
    """The `MessageEvent` a server stores for one chatxdk action signature (the SDK's flat shape)."""
    return b64(
        thrift.MessageEvent(
            sequence_id=str(seq),
            message_id=action["message_id"],
            sender_id=sender,
            conversation_id=cid,
            created_at_msec=CREATED_AT,
            detail=detail if detail is not None else unb64(action["encoded_message_event_detail"]),
            signature=thrift.EventSignature(
                signature or action["signature"], action["public_key_version"], action["signature_version"]
            ),
        ).encode()
    )


def kit_envelope(action: dict[str, Any], seq: int, sender: str, *, cid: str = G) -> str:
    """The same for one of the kit's action signatures (the API's nested shape)."""
    sig = action["message_event_signature"]
    flat = {**action, "signature": sig["signature"], "public_key_version": sig["public_key_version"],
            "signature_version": sig["signature_version"]}  # fmt: skip
    return envelope(flat, seq, sender, cid=cid)


def signing(*people: SdkUser) -> list[dict[str, str]]:
    return [signing_entry(p.public_keys) for p in people]


def sdk_create(u: dict[str, SdkUser], members: list[str], **kw: Any) -> dict[str, Any]:
    return u[A].chat.prepare_group_create([wrap_entry(u[m].public_keys) for m in members], G, members, [A], **kw)


def decrypted(out: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        (m["event"]["type"], m["event"].get("change") or m["event"].get("content", {}).get("text"))
        for m in out["messages"]
        if m["event"].get("verified") is True
    ]


# ----------------------------------------------------------------------------- the structs and the two signatures


def test_the_sdk_group_create_is_a_key_change_then_a_signed_group_create() -> None:
    u = users(A, B, C)
    res = sdk_create(u, [A, B, C], title="study group")
    kc, gc = res["action_signatures"]
    assert len(res["action_signatures"]) == 2 and kc["message_id"] != gc["message_id"]
    assert isinstance(thrift.read_detail(unb64(kc["encoded_message_event_detail"])), thrift.KeyChangeDetail)
    raw = unb64(gc["encoded_message_event_detail"])
    assert raw[:9] == bytes.fromhex("0c0004" "0c0001" "0c0001")  # detail 4 groupChangeEvent, 1 group_change, 1 group_create
    assert raw.endswith(bytes.fromhex("00" "00" "02000200" "00" "00"))  # STOPs, then for_key_rotation false, STOPs
    detail = read_group_change(raw)
    assert detail == GroupCreateDetail((A, B, C), (A,), res["conversation_key_version"], title="study group")
    assert not kc.get("signature_payload") and gc["signature_payload"].startswith("GroupChangeEvent.GroupCreate,")
    assert kc["public_key_version"] == gc["public_key_version"] == u[A].version
    assert kc["signature_version"] == gc["signature_version"] == "7"


def test_the_sdk_member_add_is_a_key_change_then_a_signed_member_add() -> None:
    u = users(A, B, C, D)
    res = u[A].chat.prepare_group_members_change(
        [wrap_entry(u[m].public_keys) for m in (A, B, C, D)], G, [D], [A, B, C], [A], []
    )
    kc, ma = res["action_signatures"]
    assert kc["message_id"] != ma["message_id"]
    change = thrift.read_detail(unb64(kc["encoded_message_event_detail"]))
    assert isinstance(change, thrift.KeyChangeDetail) and change.for_key_rotation is False
    assert sorted(p.user_id for p in change.participant_keys) == [A, B, C, D]
    raw = unb64(ma["encoded_message_event_detail"])
    assert raw[:9] == bytes.fromhex("0c0004" "0c0001" "0c0005")  # ... 5 group_member_add
    assert read_group_change(raw) == MemberAddDetail((D,), (A, B, C), (A,), res["conversation_key_version"])
    assert bytes.fromhex("0f00080b00000000") in raw  # the pending list is written even when empty
    assert ma["signature_payload"] == (
        f"GroupChangeEvent.GroupMemberAddChange,{ma['message_id']},{A},{G},{D},{A},{B},{C},{A},null,null,null,"
        f"{res['conversation_key_version']},null"
    )


CREATE_CASES = {
    "title": {"title": "study group"},
    "nothing_optional": {},
    "avatar_and_ttl": {"title": "t", "avatar_url": "https://example.com/a.png", "ttl_msec": 86_400_000},
    "non_ascii_title": {"title": "groupe d'étude 🔐"},
    "empty_title_is_none": {"title": ""},
}


@pytest.mark.parametrize("case", CREATE_CASES)
def test_the_kit_writes_the_sdk_group_create_bytes_and_signature(case: str) -> None:
    u = users(A, B, C)
    options = CREATE_CASES[case]
    members = [C, A, B]  # the signed roster keeps the order given
    res = u[A].chat.prepare_group_create([wrap_entry(u[m].public_keys) for m in members], G, members, [B, A], **options)
    kc, gc = res["action_signatures"]
    mine = kit.prepare_group_create(
        u[A].as_kit_identity(), G, members=[u[C].public_keys, u[A].public_keys, u[B].public_keys], admins=[B, A],
        version=res["conversation_key_version"], message_ids=(kc["message_id"], gc["message_id"]), **options,
    )  # fmt: skip
    ours = mine.action_signatures[1]
    assert ours["encoded_message_event_detail"] == gc["encoded_message_event_detail"]
    assert ours["signature_payload"] == gc["signature_payload"]
    assert ours["message_event_signature"]["signature"] == gc["signature"]
    assert mine.detail.member_ids == (C, A, B)
    if case == "empty_title_is_none":
        assert gc["signature_payload"].endswith(",null,null,null") and mine.title is None


MEMBER_ADD_CASES = {
    "minimal": {},
    "all_settings": {"title": "t", "avatar_url": "https://example.com/a", "ttl_msec": 5000, "pending": [E],
                     "screen_capture_blocking": True},  # fmt: skip
    "screen_capture_false": {"screen_capture_blocking": False, "title": ""},
}


@pytest.mark.parametrize("case", MEMBER_ADD_CASES)
def test_the_kit_writes_the_sdk_member_add_bytes_and_signature(case: str) -> None:
    u = users(A, B, C, D)
    o = MEMBER_ADD_CASES[case]
    res = u[A].chat.prepare_group_members_change(
        [wrap_entry(u[m].public_keys) for m in (A, B, C, D)], G, [D], [A, B, C], [A], o.get("pending", []),
        current_title=o.get("title"), current_avatar_url=o.get("avatar_url"), current_ttl_msec=o.get("ttl_msec"),
        current_screen_capture_blocking_enabled=o.get("screen_capture_blocking"),
    )  # fmt: skip
    kc, ma = res["action_signatures"]
    mine = kit.prepare_members_change(
        u[A].as_kit_identity(), G, add=[u[D].public_keys], current=[u[A].public_keys, u[B].public_keys, u[C].public_keys],
        admins=[A], version=res["conversation_key_version"], message_ids=(kc["message_id"], ma["message_id"]), **o,
    )  # fmt: skip
    ours = mine.action_signatures[1]
    assert ours["encoded_message_event_detail"] == ma["encoded_message_event_detail"]
    assert ours["signature_payload"] == ma["signature_payload"]
    assert ours["message_event_signature"]["signature"] == ma["signature"]
    assert mine.body["user_ids"] == [D] and mine.members == (A, B, C, D)


def test_a_comma_in_a_signed_text_is_refused_by_both() -> None:
    u = users(A, B)
    with pytest.raises(ValueError, match="comma"):
        sdk_create(u, [A, B], title="a,b")
    with pytest.raises(kit.WireFormatError, match="must not contain ','"):
        kit.prepare_group_create(u[A].as_kit_identity(), G, members=[u[B].public_keys], title="a,b")


def test_the_sdk_wraps_the_keys_it_is_given_not_the_member_ids() -> None:
    """The SDK does not cross-check: an extra public key is wrapped to, a member without one is not.
    The kit wraps to exactly the roster it signs; the sandbox checks the two agree."""
    u = users(A, B, C, D)
    extra = u[A].chat.prepare_group_create([wrap_entry(u[m].public_keys) for m in (A, B, C, D)], G, [A, B, C], [A])
    assert sorted(p["user_id"] for p in extra["participant_keys"]) == [A, B, C, D]
    missing = u[A].chat.prepare_group_create([wrap_entry(u[m].public_keys) for m in (A, B)], G, [A, B, C], [A])
    assert sorted(p["user_id"] for p in missing["participant_keys"]) == [A, B]
    only_new = u[A].chat.prepare_group_members_change([wrap_entry(u[D].public_keys)], G, [D], [A, B, C], [A], [])
    assert [p["user_id"] for p in only_new["participant_keys"]] == [D]
    mine = kit.prepare_members_change(u[A].as_kit_identity(), G, add=[u[D].public_keys], current=[u[B].public_keys, u[C].public_keys], admins=[A])
    assert sorted(p.user_id for p in mine.key_init.participants) == [A, B, C, D]


# ----------------------------------------------------------------------------- what the signatures cover


def _create_batch(u: dict[str, SdkUser], **kw: Any) -> tuple[dict[str, Any], str, dict[str, Any]]:
    res = sdk_create(u, [A, B, C], **kw)
    kc, gc = res["action_signatures"]
    return res, envelope(kc, SEQ, A), gc


def test_the_group_create_signature_leaves_out_the_group_id_the_admins_and_the_ttl() -> None:
    u = users(A, B, C)
    res, kc, gc = _create_batch(u, title="study group", ttl_msec=5000)
    raw = unb64(gc["encoded_message_event_detail"])
    admins_swapped = raw.replace(bytes.fromhex("0f00020b00000001") + b"\x00\x00\x00\x04" + A.encode(),
                                 bytes.fromhex("0f00020b00000001") + b"\x00\x00\x00\x04" + B.encode())  # fmt: skip
    ttl_changed = raw.replace(bytes.fromhex("0a0007") + (5000).to_bytes(8, "big"), bytes.fromhex("0a0007") + (5001).to_bytes(8, "big"))
    assert admins_swapped != raw and ttl_changed != raw
    bob = u[B].as_kit_identity()
    keys = [u[m].public_keys for m in (A, B, C)]
    for detail, cid in ((raw, "g999"), (admins_swapped, G), (ttl_changed, G)):
        event = envelope(gc, SEQ + 1, A, cid=cid, detail=detail)
        out = u[B].chat.decrypt_events([kc, event], signing(*u.values()))
        assert out["errors"] == {} and out["messages"][-1]["event"]["verified"] is True  # the SDK: verified
        read = kit.read_group_event(event, recipient=bob, signing_keys=keys)  # the kit: verified as well
        assert read.unsigned == ("conversation_id", "admins", "ttl_msec")
    assert kit.read_group_event(envelope(gc, SEQ + 1, A, detail=admins_swapped), recipient=bob, signing_keys=keys).admins == (B,)


@pytest.mark.parametrize("part", ["members", "title", "version", "message_id", "sender"])
def test_the_group_create_signature_covers_members_title_version_message_id_and_sender(part: str) -> None:
    u = users(A, B, C)
    res, kc, gc = _create_batch(u, title="study group")
    raw = unb64(gc["encoded_message_event_detail"])
    act, sender = dict(gc), A
    if part == "members":
        raw = raw.replace(C.encode(), D.encode())
    elif part == "title":
        raw = raw.replace(b"study group", b"study grouP")
    elif part == "version":
        v = res["conversation_key_version"]
        raw = raw.replace(v.encode(), str(int(v) + 1).encode())
    elif part == "message_id":
        act["message_id"] = "00000000-0000-4000-8000-000000000000"
    else:
        sender = B  # the same signature presented as bob's
    event = envelope(act, SEQ + 1, sender, detail=raw)
    out = u[C].chat.decrypt_events([event], signing(*u.values()))
    error = out["errors"]["0"]
    assert out["messages"] == [] and ("GroupChange signature" in error or "no matching signing key" in error)
    with pytest.raises(kit.SignatureError):
        kit.read_group_event(event, recipient=u[C].as_kit_identity(), signing_keys=[u[m].public_keys for m in (A, B, C)])


def _add_batch(u: dict[str, SdkUser], sender: str = A, **kw: Any) -> dict[str, Any]:
    return u[sender].chat.prepare_group_members_change(
        [wrap_entry(u[m].public_keys) for m in (A, B, C, D)], G, [D], [A, B, C], [A], [], **kw
    )


def test_the_member_add_signature_covers_the_group_id_but_not_the_pending_members() -> None:
    u = users(A, B, C, D)
    ma = _add_batch(u)["action_signatures"][1]
    keys = [u[m].public_keys for m in (A, B, C, D)]
    other_group = envelope(ma, SEQ, A, cid="g999")
    out = u[C].chat.decrypt_events([other_group], signing(*u.values()))
    assert "GroupChange signature verification failed: ECDSA mismatch" in out["errors"]["0"]
    with pytest.raises(kit.SignatureError, match="does not verify"):
        kit.read_group_event(other_group, recipient=u[C].as_kit_identity(), signing_keys=keys)
    raw = unb64(ma["encoded_message_event_detail"])
    pending = raw.replace(bytes.fromhex("0f00080b00000000"), bytes.fromhex("0f00080b00000001") + b"\x00\x00\x00\x04" + E.encode())
    event = envelope(ma, SEQ, A, detail=pending)
    out = u[C].chat.decrypt_events([event], signing(*u.values()))
    assert out["errors"] == {} and out["messages"][0]["event"]["verified"] is True
    read = kit.read_group_event(event, recipient=u[C].as_kit_identity(), signing_keys=keys)
    assert read.detail.current_pending_member_ids == (E,) and "pending_members" in read.unsigned


def test_the_member_add_payload_does_not_mark_where_one_list_ends() -> None:
    """new=[D], current=[A, B, C] and new=[D, A], current=[B, C] sign the same bytes: the server's
    check of the current roster is what keeps the lists apart."""
    u = users(A, B, C, D)
    ma = _add_batch(u)["action_signatures"][1]
    detail = read_group_change(unb64(ma["encoded_message_event_detail"]))
    assert isinstance(detail, MemberAddDetail)
    moved = MemberAddDetail((D, A), (B, C), (A,), detail.conversation_key_version)
    assert kit.group.member_add_payload(message_id="m", sender_id=A, conversation_id=G, detail=moved) == kit.group.member_add_payload(
        message_id="m", sender_id=A, conversation_id=G, detail=detail
    )
    event = envelope(ma, SEQ, A, detail=moved.encode())
    out = u[C].chat.decrypt_events([event], signing(*u.values()))
    assert out["errors"] == {} and out["messages"][0]["event"]["change"]["member_ids"] == [D, A]


def test_neither_side_checks_that_the_actor_is_an_admin() -> None:
    """Bob (no admin) signs a member add: chatxdk reports it verified; the kit too, with
    `actor_is_admin` False. Refusing it is the server's job (403 in the sandbox)."""
    u = users(A, B, C, D)
    res = _add_batch(u, sender=B)
    kc, ma = res["action_signatures"]
    out = u[C].chat.decrypt_events([envelope(kc, SEQ, B), envelope(ma, SEQ + 1, B)], signing(*u.values()))
    assert [m["event"]["verified"] for m in out["messages"]] == [True, True]
    read = kit.read_group_event(envelope(ma, SEQ + 1, B), recipient=u[C].as_kit_identity(), signing_keys=[u[m].public_keys for m in (A, B, C, D)])
    assert read.actor_id == B and read.admins == (A,) and read.actor_is_admin is False
    with pytest.raises(kit.WireFormatError, match="only an admin adds members"):
        kit.prepare_members_change(u[B].as_kit_identity(), G, add=[u[D].public_keys], current=[u[A].public_keys, u[C].public_keys], admins=[A])


def test_a_flipped_group_signature_fails_on_both_sides() -> None:
    u = users(A, B, C)
    _, kc, gc = _create_batch(u)
    event = envelope(gc, SEQ + 1, A, signature=flip_signature_bit(gc["signature"]))
    out = u[B].chat.decrypt_events([kc, event], signing(*u.values()))
    assert "GroupChange signature verification failed: ECDSA mismatch" in out["errors"]["1"]
    with pytest.raises(kit.SignatureError, match="does not verify"):
        kit.read_group_event(event, recipient=u[B].as_kit_identity(), signing_keys=[u[m].public_keys for m in (A, B, C)])


# ----------------------------------------------------------------------------- interop, both directions


def test_a_kit_group_create_is_read_by_chatxdk_members() -> None:
    u = users(A, B, C)
    create = kit.prepare_group_create(u[A].as_kit_identity(), G, members=[u[B].public_keys, u[C].public_keys], title="study group")
    batch = [kit_envelope(create.action_signatures[0], SEQ, A), kit_envelope(create.action_signatures[1], SEQ + 1, A)]
    for m in (B, C):
        out = u[m].chat.decrypt_events(batch, signing(*u.values()))
        assert out["errors"] == {}
        kc_event, gc_event = (x["event"] for x in out["messages"])
        assert kc_event["type"] == "KeyChange" and kc_event["verified"] is True
        assert gc_event["type"] == "GroupChange" and gc_event["verified"] is True
        assert gc_event["change"] == {"change_type": "Created", "member_ids": [A, B, C], "admin_ids": [A], "title": "study group", "avatar_url": None}
        assert out["conversation_keys"]["keys"][create.conversation_key_version] == create.conversation_key


def test_a_chatxdk_group_create_is_read_by_kit_members() -> None:
    u = users(A, B, C)
    res, kc, gc = _create_batch(u, title="study group")
    event = envelope(gc, SEQ + 1, A)
    for m in (B, C):
        g = kit.read_group_event(event, recipient=u[m].as_kit_identity(), signing_keys=[u[x].public_keys for x in (A, B, C)], key_changes=[kc])
        assert (g.kind, g.members, g.admins, g.title, g.actor_id) == ("group_create", (A, B, C), (A,), "study group", A)
        assert g.key_change is not None and g.key_change.conversation_key == res["conversation_key"]
        assert g.key_change.verified and sorted(g.wrapped_to) == [A, B, C]


def _kit_message(sender: kit.Identity, text: str, key: bytes, version: str, seq: int) -> str:
    from chatxdk_helpers import kit_message_envelope

    pm = kit.prepare_message(sender, G, text, conversation_key=key, conversation_key_version=version)
    return kit_message_envelope(pm, sender.user_id, seq=seq, conversation_id=G)


def test_kit_members_change_read_by_chatxdk_and_dave_cannot_open_older_messages() -> None:
    u = users(A, B, C, D)
    alice = u[A].as_kit_identity()
    create = kit.prepare_group_create(alice, G, members=[u[B].public_keys, u[C].public_keys], title="study group")
    add = kit.prepare_members_change(alice, G, add=[u[D].public_keys], current=[u[B].public_keys, u[C].public_keys], admins=[A], title="study group")
    batch = [
        kit_envelope(create.action_signatures[0], SEQ, A),
        kit_envelope(create.action_signatures[1], SEQ + 1, A),
        _kit_message(alice, "before dave", create.conversation_key, create.conversation_key_version, SEQ + 2),
        kit_envelope(add.action_signatures[0], SEQ + 3, A),
        kit_envelope(add.action_signatures[1], SEQ + 4, A),
        _kit_message(alice, "after dave", add.conversation_key, add.conversation_key_version, SEQ + 5),
    ]
    bob = u[B].chat.decrypt_events(batch, signing(*u.values()))
    assert bob["errors"] == {}
    assert [t for t, _ in decrypted(bob)] == ["KeyChange", "GroupChange", "Message", "KeyChange", "GroupChange", "Message"]
    assert decrypted(bob)[4][1] == {"change_type": "MembersAdded", "member_ids": [D], "current_member_ids": [A, B, C], "current_admin_ids": [A]}
    assert [x for t, x in decrypted(bob) if t == "Message"] == ["before dave", "after dave"]
    dave = u[D].chat.decrypt_events(batch, signing(*u.values()))
    assert [x for t, x in decrypted(dave) if t == "Message"] == ["after dave"]
    assert "Message encrypted with key version" in dave["errors"]["2"] and "no matching key found" in dave["errors"]["2"]
    assert sorted(dave["conversation_keys"]["keys"]) == [add.conversation_key_version]


def test_chatxdk_members_change_read_by_kit_and_dave_cannot_open_older_messages() -> None:
    u = users(A, B, C, D)
    res, kc1, gc = _create_batch(u, title="study group")
    m1 = u[A].chat.encrypt_message(G, "before dave", conversation_key=res["conversation_key"], conversation_key_version=res["conversation_key_version"])
    add = _add_batch(u, current_title="study group")
    kc2, ma = envelope(add["action_signatures"][0], SEQ + 3, A), envelope(add["action_signatures"][1], SEQ + 4, A)
    m2 = u[A].chat.encrypt_message(G, "after dave", conversation_key=add["conversation_key"], conversation_key_version=add["conversation_key_version"])
    messages = [b64(sdk_message_event(m, A, G, seq=SEQ + 5 + i).encode()) for i, m in enumerate((m1, m2))]
    keys = [u[x].public_keys for x in (A, B, C, D)]
    dave, bob = u[D].as_kit_identity(), u[B].as_kit_identity()
    created = kit.read_group_event(envelope(gc, SEQ + 1, A), recipient=dave, signing_keys=keys, key_changes=[kc1, kc2])
    assert created.key_change is None and D not in created.wrapped_to  # no entry for dave in the first key
    added = kit.read_group_event(ma, recipient=dave, signing_keys=keys, key_changes=[kc1, kc2])
    assert (added.kind, added.added, added.members, added.title) == ("members_add", (D,), (A, B, C, D), "study group")
    assert added.key_change is not None and added.key_change.conversation_key == add["conversation_key"]
    dave_keys = {added.conversation_key_version: added.key_change.conversation_key}
    with pytest.raises(kit.KeyNotFoundError, match="sealed with conversation key version"):
        kit.read_message(messages[0], conversation_key=dave_keys, signing_keys=keys)
    assert kit.read_message(messages[1], conversation_key=dave_keys, signing_keys=keys).text == "after dave"
    ring = kit.Keyring()
    for event in (kc1, kc2):
        ring.read(event, recipient=bob, signing_keys=keys)
    assert [kit.read_message(m, conversation_key=ring.keys(G), signing_keys=keys).text for m in messages] == ["before dave", "after dave"]


# ----------------------------------------------------------------------------- a key change whose signer has left


def test_a_departed_signers_key_change_reads_only_on_the_explicit_path() -> None:
    u = users(A, B, C)
    res, kc, _ = _create_batch(u)
    # Alice has left: her keys are no longer served. chatxdk's verified path drops the change ...
    fresh = sdk_user(B)
    fresh.chat.import_keys(u[B].export(), version=u[B].version)
    fresh.chat.set_identity(B, u[B].version)
    out = fresh.chat.decrypt_events([kc], signing(u[B], u[C]))
    assert "signature missing or no matching signing key" in out["errors"]["0"] and out["conversation_keys"]["keys"] == {}
    # ... and its documented fallback, extract_conversation_keys, recovers the key without a check.
    assert fresh.chat.extract_conversation_keys([kc])["keys"][res["conversation_key_version"]] == res["conversation_key"]
    bob, remaining = u[B].as_kit_identity(), [u[B].public_keys, u[C].public_keys]
    with pytest.raises(kit.SignatureError, match="no signing key for user 1001"):
        kit.read_key_change(kc, recipient=bob, signing_keys=remaining)
    change = kit.read_key_change(kc, recipient=bob, signing_keys=remaining, allow_departed=True)
    assert change.verified is False and change.signer is None and change.conversation_key == res["conversation_key"]
    assert "verified=False" in repr(change) and "signer departed" in repr(change)
    ring = kit.Keyring()
    adoption = ring.adopt(change)
    assert adoption.adopted is False and "never adopted" in adoption.reason and ring.latest(G) is None
    assert ring.keys(G) == {res["conversation_key_version"]: res["conversation_key"]}  # old messages still open
    # A signature that is there to check and fails is never waved through.
    bad = b64(sdk_key_change_event(res, A, signature=flip_signature_bit(res["action_signatures"][0]["signature"])).encode())
    with pytest.raises(kit.SignatureError, match="does not verify"):
        kit.read_key_change(bad, recipient=bob, signing_keys=[u[x].public_keys for x in (A, B, C)], allow_departed=True)


# ----------------------------------------------------------------------------- the kit's own checks


def test_read_group_change_refuses_what_is_not_a_group_change() -> None:
    kc = thrift.KeyChangeDetail("1", ()).encode()
    assert not is_group_change(kc)
    with pytest.raises(kit.WireFormatError, match="not a group change"):
        read_group_change(kc)
    title_change = bytes.fromhex("0c0004" "0c0001" "0c0002" "00" "00" "00" "00")
    assert read_group_change(title_change) == OtherGroupChange(2, "group_title_change")
    with pytest.raises(kit.WireFormatError, match="member_ids must be a list of strings"):
        read_group_change(bytes.fromhex("0c0004" "0c0001" "0c0001" "0b0001" "00000000" "00" "00" "00" "00"))
    with pytest.raises(kit.WireFormatError, match="conversation_key_version is missing"):
        read_group_change(GroupCreateDetail((A,), (A,), "1").encode().replace(b"\x0b\x00\x05\x00\x00\x00\x011", b""))


def test_read_group_event_refuses_a_message_event() -> None:
    u = users(A, B)
    alice = u[A].as_kit_identity()
    event = _kit_message(alice, "hi", bytes(32), "1795545957535", SEQ)
    with pytest.raises(kit.WireFormatError, match="not a group change"):
        kit.read_group_event(event, recipient=u[B].as_kit_identity(), signing_keys=[alice.public_keys])


def test_prepare_refuses_what_no_server_would_take(alice: kit.Identity, bob: kit.Identity, carol: kit.Identity) -> None:
    with pytest.raises(kit.WireFormatError, match="must be a group id"):
        kit.prepare_group_create(alice, f"{alice.user_id}-{bob.user_id}", members=[bob.public_keys])
    with pytest.raises(kit.WireFormatError, match="not members of the group"):
        kit.prepare_group_create(alice, G, members=[bob.public_keys], admins=[carol.user_id])
    with pytest.raises(kit.WireFormatError, match="must be a list of kit.PublicKeys"):
        kit.prepare_group_create(alice, G, members=bob.public_keys)  # type: ignore[arg-type]
    with pytest.raises(kit.WireFormatError, match="already members"):
        kit.prepare_members_change(alice, G, add=[bob.public_keys], current=[bob.public_keys], admins=[alice.user_id])
    with pytest.raises(kit.WireFormatError, match="at least one new member"):
        kit.prepare_members_change(alice, G, add=[], current=[bob.public_keys], admins=[alice.user_id])
    with pytest.raises(kit.WireFormatError, match="positive number of milliseconds"):
        kit.prepare_group_create(alice, G, members=[bob.public_keys], ttl_msec=0)
    create = kit.prepare_group_create(alice, G, members=[bob.public_keys, carol.public_keys], title="t")
    assert "conversation_key=<hidden>" in repr(create) and create.conversation_key.hex() not in repr(create)
    assert create.body["group_members"] == [alice.user_id, bob.user_id, carol.user_id]
    assert create.body["group_admins"] == [alice.user_id] and create.body["group_name"] == "t"
    assert base64.b64decode(create.body["action_signatures"][1]["encoded_message_event_detail"]) == create.detail.encode()


def test_the_thrift_walker_names_the_group_fields(alice: kit.Identity, bob: kit.Identity) -> None:
    """kit.thrift.walk (what the inspector shows) knows the group structs: every byte, every field named."""
    create = kit.prepare_group_create(alice, G, members=[bob.public_keys], title="t", ttl_msec=5)
    add = kit.prepare_members_change(alice, G, add=[bob.public_keys], current=[], admins=[alice.user_id], pending=[E])
    for detail, struct in ((create.detail.encode(), "GroupCreate"), (add.detail.encode(), "GroupMemberAddChange")):
        runs = thrift.walk(detail)
        assert sum(r.length for r in runs) == len(detail)
        named = {r.name for r in runs if r.struct == struct}
        assert not [n for n in named if n.startswith("field ")], named
    assert {"member_ids", "admin_ids", "title", "conversation_key_version", "ttl_msec"} <= {r.name for r in thrift.walk(create.detail.encode())}
