"""kit.inspect and kit.explain: every kind from kit- and chatxdk-made values in every spelling, X's docs
sample, the notes, the explanations of real SDK errors and real sandbox problems, and hostile input.

chatxdk (the official SDK) is the oracle here as elsewhere: its values are made in the test, and its
errors are raised for real by making it fail, never copied text.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from chatxdk_helpers import b64, sdk_message_event, sdk_user, signing_entry, wrap_entry
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kit
from kit.inspector import troubleshoot as explain_module
from kit.inspector.sample_data import load, samples
from kit.protocol import key_change_event

ROOT = Path(__file__).resolve().parent.parent
ALICE_ID = "1215441834412953600"
BOB_ID = "1603419180975409153"
VERSION = "1795545957535"
KEY = bytes(range(64, 96))
ALICE = kit.Identity.from_seed("alice (demo only)", ALICE_ID, version="1")
BOB = kit.Identity.from_seed("bob (demo only)", BOB_ID, version="1")
INIT = kit.prepare_key_init(ALICE, [BOB.public_keys], version=VERSION, conversation_key=KEY,
                            message_id="11111111-2222-4333-8444-555555555555")  # fmt: skip
KC_EVENT = key_change_event(INIT.body, sender_id=ALICE_ID, conversation_id=INIT.conversation_id,
                            sequence_id="2070276095283454100", created_at_msec=VERSION).encode()  # fmt: skip
PM = kit.prepare_message(ALICE, BOB_ID, "hello, inspector", conversation_key=KEY, conversation_key_version=VERSION,
                         message_id="66666666-7777-4888-9999-aaaaaaaaaaaa", nonce=bytes(range(24)))  # fmt: skip
MCE = base64.b64decode(PM.body["encoded_message_create_event"])
MES = base64.b64decode(PM.body["encoded_message_event_signature"])
MSG_EVENT = kit.thrift.MessageEvent(
    sequence_id="2070276095283454200", message_id=PM.message_id, sender_id=ALICE_ID, conversation_id=PM.conversation_id,
    created_at_msec=VERSION, detail=PM.create_event.encode_detail(), signature=kit.thrift.read_event_signature(MES),
).encode()  # fmt: skip
SPKI = base64.b64decode(ALICE.public_keys.public_key)
WRAPPED = base64.b64decode(INIT.body["conversation_participant_keys"][0]["encrypted_conversation_key"])
SIGNATURE = INIT.signature
PRIVATE = ALICE.export_keys()


def spellings(data: bytes) -> dict[str, str | bytes]:
    std = base64.b64encode(data).decode()
    url = base64.urlsafe_b64encode(data).decode()
    return {"padded": std, "unpadded": std.rstrip("="), "urlsafe": url, "urlsafe-unpadded": url.rstrip("="),
            "hex": data.hex(), "bytes": data}  # fmt: skip


def secret_forms(secret: bytes) -> list[str]:
    forms = []
    for s in (secret, secret[:32], secret[32:]) if len(secret) == 64 else (secret,):
        forms += [s.hex(), s.hex(" ")[:47], s[:8].hex(" "), base64.b64encode(s).decode().rstrip("=")[:16]]
        forms += [base64.urlsafe_b64encode(s).decode().rstrip("=")[:16]]
    return forms


def assert_nothing_of(i: kit.Inspection, secret: bytes) -> None:
    shown = i.text() + repr([dataclasses.astuple(f) for f in i.fields]) + i.data.hex()
    for form in secret_forms(secret):
        assert form not in shown, "a secret reached the inspection"


# ============================================================================ kinds, kit-made, every spelling

KIT_VALUES = {
    "public-key-spki": SPKI,
    "public-key-sec1": SPKI[26:],
    "wrapped-conversation-key": WRAPPED,
    "signature": SIGNATURE,
    "key-change-detail": INIT.encoded_detail,
    "message-event": KC_EVENT,
    "message-create-event": MCE,
    "message-event-signature": MES,
    "message-detail": PM.create_event.encode_detail(),
    "message-plaintext": kit.thrift.encode_text("hi"),
}


@pytest.mark.parametrize("spelling", ["padded", "unpadded", "urlsafe", "urlsafe-unpadded", "hex", "bytes"])
@pytest.mark.parametrize("kind", sorted(KIT_VALUES))
def test_every_kind_from_kit_values_in_every_spelling(kind, spelling):
    data = KIT_VALUES[kind]
    value = spellings(data)[spelling]
    i = kit.inspect(value)
    assert i.kind == kind, i.text()
    assert i.kind in kit.inspect.KINDS
    std = base64.b64encode(data).decode()
    urlsafe_differs = spelling.startswith("urlsafe") and ("+" in std or "/" in std)
    assert any("URL-safe" in n for n in i.notes) == urlsafe_differs, i.notes
    if not i.secret:
        assert i.data == data
        assert sum(length for _, length, _ in i.segments()) == len(data)


def test_compressed_point_and_message_event_of_a_message():
    compressed = bytes([2 + (SPKI[-1] & 1)]) + SPKI[27:59]
    assert kit.inspect(compressed).kind == "public-key-sec1"
    i = kit.inspect(b64(MSG_EVENT))
    assert i.kind == "message-event" and "message sealed with key version" in i.summary
    payload = i.find("signed-payload")
    assert payload is not None and payload.data.startswith(b"MessageCreateEvent,66666666-")


def test_sealed_message_opens_with_the_conversation_key():
    sealed = PM.create_event.contents
    assert kit.inspect(sealed).kind == "unknown"  # without the key it is 40+ random-looking bytes
    assert "sealed-message" in kit.inspect(sealed).alternatives
    for key in (KEY, {VERSION: KEY}):
        i = kit.inspect(b64(sealed), conversation_key=key)
        assert i.kind == "sealed-message" and i.find("message-plaintext").decoded == "hello, inspector"
    i = kit.inspect(PM.body["encoded_message_create_event"], conversation_key={VERSION: KEY})
    assert i.kind == "message-create-event" and "(opened: 'hello, inspector')" in i.find("sealed-message").summary
    assert_nothing_of(i, KEY)
    wrong = kit.inspect(b64(sealed), conversation_key=bytes(32))
    assert wrong.kind == "unknown"


def test_the_text_kinds():
    payload = kit.signature.message_payload(message_id=PM.message_id, sender_id=ALICE_ID, conversation_id=PM.conversation_id,
                                            conversation_key_version=VERSION, sealed=PM.create_event.contents)  # fmt: skip
    assert kit.inspect(payload.decode()).kind == "signed-payload"
    assert kit.inspect(payload).kind == "signed-payload"  # bytes that are text
    assert kit.inspect(f"{ALICE_ID}:{BOB_ID}").kind == "conversation-id"
    assert kit.inspect(f"{ALICE_ID}-{BOB_ID}").kind == "conversation-id"
    assert kit.inspect("g1862051711563718656").kind == "conversation-id"
    assert kit.inspect(VERSION).kind == "key-version"
    assert kit.inspect("   ").kind == "unknown"


def test_json_bodies_are_recognised_and_their_fields_inspected(registered_sandbox):
    alice, bob = registered_sandbox
    assert kit.inspect(json.dumps(INIT.body)).kind == "init-request"
    i = kit.inspect(INIT.body)  # a parsed body too
    assert [s.kind for s in i.inner] == ["wrapped-conversation-key", "wrapped-conversation-key", "key-change-detail", "signature"]
    assert "the signed detail matches the body's participants and version" in i.notes
    assert kit.inspect(ALICE.registration_body()).kind == "public-keys-registration"
    assert kit.inspect(PM.body).kind == "send-message-request"
    r = alice.http.get(f"/2/users/{BOB_ID}/public_keys")
    pk = kit.inspect(r.text)
    assert pk.kind == "public-keys-response"
    assert any("binding verifies" in n for n in pk.notes)
    sent = alice.add_conversation_keys(INIT)
    assert kit.inspect(json.dumps({"data": {"conversation_id": sent.conversation_id, "sequence_id": sent.sequence_id}})).kind == "keys-response"
    alice.send_message(PM)
    page = bob.http.get(f"/2/chat/conversations/{INIT.path_id}/events").text
    ev = kit.inspect(page)
    assert ev.kind == "events-response"
    assert [s.kind for s in ev.inner] == ["message-event", "message-event"]
    opened = kit.inspect(page, identity=BOB, signing_keys=[ALICE.public_keys])
    assert "1 message(s) opened" in opened.summary
    assert any("signature verified, key of version" in n for n in opened.all_notes())
    assert any("signature verified and opened: 'hello, inspector'" in n for n in opened.all_notes())
    assert_nothing_of(opened, KEY)
    assert_nothing_of(opened, BOB.export_keys())
    problem = alice.http.post(f"/2/chat/conversations/{INIT.conversation_id}/keys", json=INIT.body)
    assert kit.inspect(problem.text).kind == "problem"


@pytest.fixture
def registered_sandbox():
    root = kit.connect(quiet=True)
    alice = root.sandbox_user("alice", user_id=ALICE_ID)
    bob = root.sandbox_user("bob", user_id=BOB_ID)
    alice.register_keys(ALICE)
    bob.register_keys(BOB)
    return alice, bob


# ============================================================================ kinds, chatxdk-made


@pytest.fixture(scope="module")
def sdk():
    alice, bob = sdk_user(ALICE_ID), sdk_user(BOB_ID)
    res = alice.chat.prepare_conversation_key_change([wrap_entry(alice.public_keys), wrap_entry(bob.public_keys)])
    sp = alice.chat.encrypt_message(res["conversation_id"], "hello from chatxdk", conversation_key=res["conversation_key"],
                                    conversation_key_version=res["conversation_key_version"])  # fmt: skip
    return alice, bob, res, sp


def _sdk_values(sdk) -> dict[str, bytes]:
    alice, bob, res, sp = sdk
    act = res["action_signatures"][0]
    return {
        "public-key-spki": base64.b64decode(alice.reg.public_key.public_key),
        "public-key-sec1": base64.b64decode(alice.chat.get_public_keys().identity),  # the SDK's raw 65-byte point
        "wrapped-conversation-key": base64.b64decode(res["participant_keys"][0]["encrypted_key"]),
        "signature": base64.b64decode(act["signature"] + "=" * (-len(act["signature"]) % 4)),
        "key-change-detail": base64.b64decode(act["encoded_message_event_detail"]),
        "message-create-event": base64.b64decode(sp.encrypted_content),
        "message-event-signature": base64.b64decode(sp.encoded_event_signature),
        "message-event": sdk_message_event(sp, ALICE_ID, res["conversation_id"]).encode(),
    }


@pytest.mark.parametrize("spelling", ["padded", "unpadded", "urlsafe", "urlsafe-unpadded", "hex", "bytes"])
def test_every_kind_from_chatxdk_values_in_every_spelling(sdk, spelling):
    for kind, data in _sdk_values(sdk).items():
        i = kit.inspect(spellings(data)[spelling])
        assert i.kind == kind, (kind, i.text())


def test_chatxdk_sealed_message_opens_and_its_private_export_shows_nothing(sdk):
    alice, bob, res, sp = sdk
    mce = kit.inspect(sp.encrypted_content, conversation_key={res["conversation_key_version"]: res["conversation_key"]})
    assert mce.find("message-plaintext").decoded == "hello from chatxdk"
    sealed = kit.thrift.read_message_create_event(base64.b64decode(sp.encrypted_content)).contents
    assert kit.inspect(sealed, conversation_key=res["conversation_key"]).kind == "sealed-message"
    assert_nothing_of(mce, res["conversation_key"])
    blob = alice.export()
    for value in spellings(blob).values():
        i = kit.inspect(value)
        assert "private-key-blob" in (i.kind, *i.alternatives) and i.secret
        assert_nothing_of(i, blob)
    for value in spellings(blob[:32]).values():
        i = kit.inspect(value)
        assert i.kind == "private-key-blob" and i.secret
        assert_nothing_of(i, blob[:32])


def test_chatxdk_bodies(sdk):
    alice, bob, res, sp = sdk
    sample = load("chatxdk")
    assert kit.inspect(json.dumps(sample["registration"])).kind == "public-keys-registration"
    assert kit.inspect(sample["init_request"]).kind == "init-request"
    assert kit.inspect(sample["send_message_request"]).kind == "send-message-request"
    # the SDK's own prepare output (bytes key removed), pasted as is: recognised, and told apart from the body
    raw = {k: v for k, v in res.items() if k != "conversation_key"}
    i = kit.inspect(json.dumps(raw))
    assert i.kind == "init-request"
    assert any("prepare_conversation_key_change output, not the API body" in n for n in i.notes)
    assert any("encrypted_key: the API calls it encrypted_conversation_key" in n for n in i.notes)


def test_a_served_sandbox_event_made_by_chatxdk(tmp_path):
    from sandbox_fixtures import served_sandbox

    with served_sandbox(tmp_path / "server.log") as served:
        import httpx

        users = []
        for name in ("a", "b"):
            data = httpx.post(served.url + "/sandbox/users", json={"username": f"insp{name}{time.time_ns() % 10**6}"}).json()["data"]
            users.append(httpx.Client(base_url=served.url, headers={"authorization": f"Bearer {data['access_token']}"}))
            users[-1].user_id = data["id"]  # type: ignore[attr-defined]
        a, b = users
        chats = []
        for c in (a, b):
            u = sdk_user(c.user_id)  # type: ignore[attr-defined]
            p = u.reg.public_key
            body = {"version": u.reg.version, "generate_version": False, "public_key": {
                "public_key": p.public_key, "signing_public_key": p.signing_public_key,
                "identity_public_key_signature": p.identity_public_key_signature,
                "signing_public_key_signature": p.signing_public_key_signature,
                "public_key_fingerprint": p.public_key_fingerprint, "registration_method": "CustomPin"}}  # fmt: skip
            assert c.post(f"/2/users/{u.user_id}/public_keys", json=body).status_code in (200, 201)
            chats.append(u)
        res = chats[0].chat.prepare_conversation_key_change([wrap_entry(u.public_keys) for u in chats])
        body = {"conversation_key_version": res["conversation_key_version"],
                "conversation_participant_keys": [{"user_id": e["user_id"], "encrypted_conversation_key": e["encrypted_key"],
                                                   "public_key_version": e["public_key_version"]} for e in res["participant_keys"]],
                "action_signatures": [{"message_id": x["message_id"], "encoded_message_event_detail": x["encoded_message_event_detail"],
                                       "message_event_signature": {"signature": x["signature"], "public_key_version": x["public_key_version"],
                                                                   "signature_version": x["signature_version"]}}
                                      for x in res["action_signatures"]]}  # fmt: skip
        assert a.post(f"/2/chat/conversations/{b.user_id}/keys", json=body).status_code == 200  # type: ignore[attr-defined]
        page = b.get(f"/2/chat/conversations/{a.user_id}/events")  # type: ignore[attr-defined]
        for c in users:
            c.close()
    events = json.loads(page.text)["meta"]["conversation_key_events"]
    for value in spellings(base64.b64decode(events[0])).values():
        assert kit.inspect(value).kind == "message-event"
    assert kit.inspect(page.text).kind == "events-response"


# ============================================================================ X's docs and the spec's sample


def test_the_api_reference_sample_request_field_by_field():
    sample = load("initialize-conversation-keys")
    assert sample["source"] == "https://docs.x.com/x-api/chat/initialize-conversation-keys"
    i = kit.inspect(json.dumps(sample["request"]))
    assert i.kind == "init-request"
    expected = {  # path -> note: every value on the page is the placeholder
        "$.conversation_key_version": "placeholder",
        "$.conversation_participant_keys[0].encrypted_conversation_key": "placeholder",
        "$.conversation_participant_keys[0].public_key_version": "placeholder",
        "$.conversation_participant_keys[0].user_id": "placeholder",
        "$.action_signatures[0].encoded_message_event_detail": "placeholder",
        "$.action_signatures[0].message_event_signature.message_signing_key_info_list[0].member_id": "placeholder",
        "$.action_signatures[0].message_event_signature.message_signing_key_info_list[0].public_key_version": "placeholder",
        "$.action_signatures[0].message_event_signature.message_signing_key_info_list[0].signing_public_key": "placeholder",
        "$.action_signatures[0].message_event_signature.public_key_version": "placeholder",
        "$.action_signatures[0].message_event_signature.signature": "placeholder",
        "$.action_signatures[0].message_event_signature.signature_version": "placeholder",
        "$.action_signatures[0].message_event_signature.signing_public_key": "placeholder",
        "$.action_signatures[0].message_id": "placeholder",
        "$.action_signatures[0].signature_payload": "placeholder",
        "$.base64_encoded_key_rotation": "placeholder",
    }
    assert {f.name: f.note for f in i.fields} == expected
    assert i.notes[0].startswith("15 values are the placeholder '<string>'")
    assert any("signature_payload is set" in n for n in i.notes)
    assert any("recipients never trust keys carried" in n for n in i.notes)
    assert kit.inspect(json.dumps(sample["response"])).kind == "keys-response"


#: wire-format §3, "Decoded sample": (offset, what starts there) for each field of the 425-byte detail.
SPEC_SECTION_3 = [
    (0, "conversationKeyChangeEvent"), (3, "· conversation_key_version"), (23, "· conversation_participant_keys"),
    (31, "· · [0] user_id"), (57, "· · [0] encrypted_conversation_key"), (216, "· · [0] public_key_version"),
    (224, "· · [0] STOP"), (225, "· · [1] user_id"), (251, "· · [1] encrypted_conversation_key"),
    (410, "· · [1] public_key_version"), (418, "· · [1] STOP"), (419, "· for_key_rotation"),
    (423, "· STOP"), (424, "STOP"),
]  # fmt: skip


@pytest.mark.parametrize("offset, name", SPEC_SECTION_3)
def test_the_spec_section_3_sample_decodes_as_the_spec_says(offset, name):
    body = load("key-init-demo")["body"]
    i = kit.inspect(body).find("key-change-detail")
    assert len(i.data) == 425
    by_offset = {f.offset: f for f in i.fields}
    assert by_offset[offset].name == name
    values = {f.name: f.value for f in i.fields}
    assert values["· conversation_key_version"] == "'1795545957535'"
    assert values["· · [0] user_id"] == f"'{BOB_ID}'" and values["· · [1] user_id"] == f"'{ALICE_ID}'"
    assert values["· · [0] public_key_version"] == "'1'" and values["· for_key_rotation"] == "false"


# ============================================================================ the notes


def test_notes_fire_where_they_should():
    std = ALICE.public_keys.public_key
    unpadded = kit.inspect(std.rstrip("="))
    assert any("without padding: the API writes this padded" in n for n in unpadded.notes)
    assert not any("padding" in n for n in kit.inspect(std).notes)
    signature = b64(SIGNATURE)
    urlsafe = next(s for s in (signature, b64(WRAPPED)) if "+" in s or "/" in s).replace("+", "-").replace("/", "_")
    assert any("URL-safe base64" in n for n in kit.inspect(urlsafe).notes)
    payload = kit.signature.message_payload(message_id=PM.message_id, sender_id=ALICE_ID, conversation_id=f"{ALICE_ID}-{BOB_ID}",
                                            conversation_key_version=VERSION, sealed=PM.create_event.contents).decode()  # fmt: skip
    hyphen = kit.inspect(payload)
    assert any("uses '-' where the signed text and the event want ':'" in n for n in hyphen.notes)
    assert not any("'-'" in n for n in kit.inspect(payload.replace("-" + BOB_ID, ":" + BOB_ID)).notes)
    future = kit.inspect("9795545957535")
    assert any("a time in the future" in n for n in future.notes)
    assert not kit.inspect(VERSION).notes
    for value in spellings(PRIVATE).values():
        i = kit.inspect(value)
        assert any("nothing of it is shown" in n for n in i.notes)
        assert_nothing_of(i, PRIVATE)
    pem = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----"
    assert kit.inspect(pem).kind == "private-key-blob" and "MHcCAQEE" not in kit.inspect(pem).text()


def test_notes_on_events_and_key_change_text():
    ev = kit.thrift.read_message_event(MSG_EVENT)
    old = dataclasses.replace(ev, signature=dataclasses.replace(ev.signature, signature_version="1"),
                              conversation_id=f"{ALICE_ID}-{BOB_ID}")  # fmt: skip
    i = kit.inspect(b64(old.encode()))
    assert any("signature_version 1 is below 2" in n for n in i.notes)
    assert any("uses '-' where the signed text and the event want ':'" in n for n in i.notes)
    key_text = kit.signature.key_change_payload(message_id=INIT.message_id, sender_id=ALICE_ID, conversation_id=INIT.conversation_id,
                                                conversation_key_version=VERSION, conversation_key=KEY).decode()  # fmt: skip
    kc = kit.inspect(key_text)
    assert kc.kind == "signed-payload" and kc.secret and any("plaintext conversation key" in n for n in kc.notes)
    assert_nothing_of(kc, KEY)
    assert base64.b64encode(KEY).decode().rstrip("=") not in kc.text()


def test_sdk_names_and_missing_signatures_in_a_body():
    body = json.loads(json.dumps(INIT.body))
    for e in body["conversation_participant_keys"]:
        e["encrypted_key"] = e.pop("encrypted_conversation_key")
    del body["action_signatures"]
    i = kit.inspect(body)
    assert any("uses the SDK's name encrypted_key" in n for n in i.notes)
    assert any("no action_signatures" in n for n in i.notes)


# ============================================================================ explain: SDK errors made for real


def _sdk_errors(sdk) -> dict[str, str]:
    alice, bob, res, sp = sdk
    key, version, cid = res["conversation_key"], res["conversation_key_version"], res["conversation_id"]
    ev = sdk_message_event(sp, ALICE_ID, cid)
    signing = [signing_entry(alice.public_keys)]

    def fail(call) -> str:
        with pytest.raises(ValueError) as info:
            call()
        return str(info.value)

    def as_b64(**changes) -> str:
        return b64(dataclasses.replace(ev, **changes).encode())

    urlsafe = ev.signature.signature.replace("+", "-").replace("/", "_") + "AA"
    return {
        "ecdsa-mismatch": fail(lambda: bob.chat.decrypt_event(as_b64(conversation_id=cid.replace(":", "-")), {version: key}, signing)),
        "no-signing-key": fail(lambda: bob.chat.decrypt_event(b64(ev.encode()), {version: key}, [dict(signing[0], public_key_version="9")])),
        "signature-length": fail(lambda: bob.chat.decrypt_event(
            as_b64(signature=dataclasses.replace(ev.signature, signature=urlsafe)), {version: key}, signing)),
        "signature-version": fail(lambda: bob.chat.decrypt_event(
            as_b64(signature=dataclasses.replace(ev.signature, signature_version="1")), {version: key}, signing)),
        "key-version-missing": fail(lambda: bob.chat.decrypt_event(b64(ev.encode()), {"1": key}, signing)),
        "decryption-failed": fail(lambda: bob.chat.decrypt_conversation_key(b64(kit.wrap.wrap(key, alice.public_keys.public_key)))),
        "conversation-id-needed": fail(lambda: alice.chat.prepare_conversation_key_change(
            [wrap_entry(alice.public_keys), wrap_entry(bob.public_keys), wrap_entry(kit.Identity.generate("42").public_keys)])),
    }  # fmt: skip


def test_explain_each_sdk_error_made_for_real(sdk):
    for rule, message in _sdk_errors(sdk).items():
        e = kit.explain(message)
        assert isinstance(e, kit.Explanation)
        assert e.rule == rule, (rule, message)
        assert e.cause and e.fix and ".ipynb §" in e.see
        pasted = kit.inspect(message)
        assert pasted.kind == "sdk-error" and f"see: {e.see}" in pasted.notes


def test_explain_the_same_errors_from_the_kit():
    ev = kit.thrift.read_message_event(MSG_EVENT)
    forged = b64(dataclasses.replace(ev, conversation_id=f"{ALICE_ID}-{BOB_ID}").encode())
    cases = {
        "ecdsa-mismatch": lambda: kit.read_message(forged, conversation_key=KEY, signing_keys=[ALICE.public_keys]),
        "no-signing-key": lambda: kit.read_message(MSG_EVENT, conversation_key=KEY, signing_keys=[BOB.public_keys]),
        "key-version-missing": lambda: kit.read_message(MSG_EVENT, conversation_key={"1": KEY}, signing_keys=[ALICE.public_keys]),
        "decryption-failed": lambda: ALICE.unwrap(WRAPPED),
    }
    for rule, call in cases.items():
        with pytest.raises(kit.KitError) as info:
            call()
        assert kit.explain(info.value).rule == rule


# ============================================================================ explain: sandbox problems made for real


def _problems() -> dict[str, kit.APIError]:
    from kit.sandbox import Sandbox

    root = kit.connect(quiet=True, sandbox=Sandbox(rate_limit=50, max_body_bytes=64 * 1024))
    alice, bob = root.sandbox_user("alice", user_id=ALICE_ID), root.sandbox_user("bob", user_id=BOB_ID)
    carol = root.sandbox_user("carol", user_id="1843439638876491776")
    alice.register_keys(ALICE)
    bob.register_keys(BOB)
    out: dict[str, kit.APIError] = {}

    def problem(rule, method, path, client=alice, **kw):
        r = client.http.request(method, path, **kw)
        assert r.status_code >= 400, (rule, r.text)
        out[rule] = kit.APIError.from_problem(kit.Problem.from_dict(r.json()), status=r.status_code)

    body = INIT.body
    problem("path-id-colon", "POST", f"/2/chat/conversations/{INIT.conversation_id}/keys", json=body)
    sdk_named = json.loads(json.dumps(body))
    for e in sdk_named["conversation_participant_keys"]:
        e["encrypted_key"] = e.pop("encrypted_conversation_key")
    problem("sdk-field-names", "POST", f"/2/chat/conversations/{BOB_ID}/keys", json=sdk_named)
    no_version = json.loads(json.dumps(body))
    del no_version["action_signatures"][0]["message_event_signature"]["public_key_version"]
    problem("signing-fields-missing", "POST", f"/2/chat/conversations/{BOB_ID}/keys", json=no_version)
    problem("no-action-signatures", "POST", f"/2/chat/conversations/{BOB_ID}/keys", json=dict(body, action_signatures=[]))
    wrong = json.loads(json.dumps(body))
    wrong["action_signatures"][0]["message_event_signature"]["public_key_version"] = "5"
    problem("version-mismatch", "POST", f"/2/chat/conversations/{BOB_ID}/keys", json=wrong)
    problem("signature-version", "POST", f"/2/chat/conversations/{BOB_ID}/keys", json=json.loads(
        json.dumps(body).replace('"signature_version": "7"', '"signature_version": "1"')))  # fmt: skip
    problem("no-key-change", "POST", f"/2/chat/conversations/{BOB_ID}/messages", json=PM.body)
    problem("unauthorized", "GET", f"/2/users/{BOB_ID}/public_keys", client=root)
    with pytest.raises(kit.NotFound) as info:  # the sandbox answers an empty list; the client says so
        alice.latest_public_keys(carol.user_id)
    out["no-public-keys"] = info.value
    problem("no-such-user", "GET", "/2/users/42/public_keys")
    problem("method", "DELETE", f"/2/chat/conversations/{BOB_ID}/keys")
    problem("too-large", "POST", f"/2/chat/conversations/{BOB_ID}/keys", json=dict(body, padding="x" * 70_000))
    alice.add_conversation_keys(INIT)
    problem("not-newer", "POST", f"/2/chat/conversations/{BOB_ID}/keys",
            json=kit.prepare_key_init(ALICE, [BOB.public_keys], version="1000").body)  # fmt: skip
    problem("not-participant", "GET", f"/2/chat/conversations/{INIT.path_id}/events", client=carol)
    problem("pagination", "GET", f"/2/chat/conversations/{INIT.path_id}/events", params={"pagination_token": "nope"})
    for _ in range(60):
        r = bob.http.get(f"/2/users/{ALICE_ID}/public_keys")
        if r.status_code == 429:
            out["rate-limited"] = kit.APIError.from_problem(kit.Problem.from_dict(r.json()), status=429)
            break
    try:
        Sandbox(db="/proc/no-such-dir/sandbox.sqlite")
    except kit.APIError as exc:  # the sandbox's own 503, raised for real
        out["storage"] = exc
    out["internal-error"] = kit.APIError.of(500, "the sandbox hit an internal error; the request was not stored")
    return out


def test_explain_each_sandbox_problem_made_for_real():
    problems = _problems()
    kinds = {p.problem.kind for p in problems.values()}
    assert kinds >= {"invalid-request", "not-authorized-for-resource", "resource-not-found", "resource-unavailable", "internal-error"}
    for rule, err in problems.items():
        for form in (err, err.problem, err.problem.to_dict(), json.dumps(err.problem.to_dict())):
            e = kit.explain(form)
            assert e.rule == rule, (rule, e.rule, err.problem.detail)
            assert ".ipynb §" in e.see
        i = kit.inspect(json.dumps(err.problem.to_dict()))
        assert i.kind == "problem" and f"see: {kit.explain(err).see}" in i.notes


def test_every_explanation_points_at_a_real_notebook_section():
    headings: dict[str, set[str]] = {}
    for path in (ROOT / "notebooks").glob("0*.ipynb"):
        nb = json.loads(path.read_text("utf-8"))
        text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
        headings[path.name] = {m.strip() for m in re.findall(r"^## (.+)$", text, re.M)}
    sees = [r[4] for r in explain_module.RULES] + [v[2] for v in explain_module.BY_TYPE.values()]
    sees.append(kit.explain("something else entirely").see)
    for see in sees:
        for ref in see.split("; "):
            notebook, _, section = ref.partition(" § ")
            assert notebook in headings, ref
            assert section in headings[notebook], ref


def test_explain_never_raises():
    for value in (None, 42, b"\xff\xfe", {"x": 1}, "{", "{}" * 10, "[" * 100_000, ValueError("x"), "", "about:blank"):
        assert isinstance(kit.explain(value), kit.Explanation)
    assert kit.explain("nothing known").rule == "unknown"


# ============================================================================ the samples, the CLI, the surface


def test_every_sample_is_recognised():
    for label, text in samples().items():
        i = kit.inspect(text)
        assert i.kind != "unknown", label


def test_the_command_line():
    detail = INIT.body["action_signatures"][0]["encoded_message_event_detail"]
    env_py = [sys.executable, "-m", "kit", "inspect"]
    out = subprocess.run([*env_py, detail], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("key-change detail, 425 bytes")
    assert "     57     159  · · [0] encrypted_conversation_key" in out.stdout
    piped = subprocess.run([*env_py, "-"], input=json.dumps(INIT.body), capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert piped.returncode == 0 and piped.stdout.startswith("init request")
    unknown = subprocess.run([*env_py, "hello there"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert unknown.returncode == 1 and unknown.stdout.startswith("text that is not base64")


def test_the_surface():
    assert callable(kit.inspect) and kit.inspect.KINDS[-1] == "unknown"
    for kind in ("public-key-spki", "public-key-sec1", "wrapped-conversation-key", "signature", "private-key-blob",
                 "key-change-detail", "message-event", "message-create-event", "message-event-signature", "sealed-message",
                 "signed-payload", "conversation-id", "key-version", "init-request", "public-keys-registration",
                 "public-keys-response", "events-response", "send-message-request", "problem", "unknown"):  # fmt: skip
        assert kind in kit.inspect.KINDS
    with pytest.raises(kit.KitError):
        kit.inspect(42)
    with pytest.raises(kit.KitError):
        kit.inspect("x", conversation_key=b"short")


# ============================================================================ hostile input


def _inspect_quickly(value) -> kit.Inspection:
    start = time.perf_counter()
    i = kit.inspect(value)
    assert time.perf_counter() - start < 2.0
    assert not any("internal error" in n for n in i.all_notes()), i.all_notes()
    assert i.kind in kit.inspect.KINDS
    i.text()
    return i


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=2000))
def test_random_text_gives_an_inspection(text):
    _inspect_quickly(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_random_bytes_give_an_inspection(data):
    _inspect_quickly(data)
    _inspect_quickly(base64.b64encode(data).decode())


VALID = [KC_EVENT, MSG_EVENT, INIT.encoded_detail, MCE, MES, SPKI, WRAPPED, json.dumps(INIT.body).encode()]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(VALID), st.integers(min_value=0, max_value=10_000), st.integers(min_value=0, max_value=255),
       st.booleans())  # fmt: skip
def test_mutated_values_give_an_inspection(data, at, byte, truncate):
    at %= len(data)
    mutated = data[:at] if truncate else data[:at] + bytes([byte]) + data[at + 1 :]
    _inspect_quickly(mutated)
    _inspect_quickly(base64.b64encode(mutated).decode())


def test_huge_and_deep_input_is_bounded():
    deep = "[" * 200_000 + "]" * 200_000
    assert _inspect_quickly(deep).kind == "unknown"
    huge_list = b"\x0f\x00\x02\x0c" + (10_000_000).to_bytes(4, "big") + b"\x00" * 1000
    assert _inspect_quickly(huge_list).kind == "unknown"
    many = {"data": [{"encoded_event": b64(KC_EVENT)}] * 5000}
    i = _inspect_quickly(json.dumps(many))
    assert len(list(i.walk())) < 500


def test_the_inspector_imports_nothing_heavy():
    code = "import json, sys\nimport kit\nbefore = set(sys.modules)\nkit.inspect('AA==')\nprint(json.dumps(sorted(set(sys.modules) - before)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120, cwd=ROOT)
    loaded = json.loads(out.stdout)
    assert "kit.inspector" in loaded
    assert not [m for m in loaded if m.split(".")[0] in ("pandas", "ipywidgets", "httpx", "IPython", "matplotlib")]


def test_group_and_delete_bodies_are_recognised_and_their_signed_texts_are_not_secrets() -> None:
    alice = kit.Identity.from_seed("alice (demo only)", "1001")
    bob = kit.Identity.from_seed("bob (demo only)", "2002")
    carol = kit.Identity.from_seed("carol (demo only)", "3003")
    dave = kit.Identity.from_seed("dave (demo only)", "4004")
    gid = "g1234567890"
    create = kit.prepare_group_create(alice, gid, members=[bob.public_keys, carol.public_keys], admins=[alice.user_id], title="study")
    i = kit.inspect(json.dumps(create.body))
    assert i.kind == "group-create-request" and "3 member(s), 2 action signature(s)" in i.summary
    assert not [n for n in i.notes if "plaintext conversation key" in n]  # the GroupCreate's signed text holds no secret
    shown = {f.name: f for f in i.fields}
    assert "holds no secret" in shown["$.action_signatures[1].signature_payload"].note
    change = kit.prepare_members_change(alice, gid, add=[dave.public_keys],
                                        current=[alice.public_keys, bob.public_keys, carol.public_keys], admins=[alice.user_id])  # fmt: skip
    i = kit.inspect(json.dumps(change.body))
    assert i.kind == "members-add-request" and "1 new member(s)" in i.summary
    delete = kit.prepare_delete(alice, "1001:2002", sequence_ids=["2070276095283454101"])
    i = kit.inspect(json.dumps(delete.body))
    assert i.kind == "delete-request" and "1 message(s)" in i.summary
    body = dict(delete.body)
    body.pop("action_signatures")
    assert any("signed action" in n for n in kit.inspect(json.dumps(body)).notes)
    # a key change's signed text in signature_payload still gets the warning
    init = kit.prepare_key_init(alice, [bob.public_keys])
    leaky = dict(init.body)
    leaky["action_signatures"] = [dict(init.body["action_signatures"][0], signature_payload="ConversationKeyChangeEvent,x")]
    assert any("plaintext conversation key" in n for n in kit.inspect(json.dumps(leaky)).notes)
