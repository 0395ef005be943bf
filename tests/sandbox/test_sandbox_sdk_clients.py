"""The official SDKs as real clients of the served sandbox.

- chatxdk (PyPI `chatxdk` 0.5.2, `import chat_xdk`, the X Chat crypto SDK): generates and registers
  its own keys with its own registration payload, prepares the key change, sends it over HTTP; the
  recipient's chatxdk reads the key-change event from the events endpoint and decrypts a message
  chatxdk encrypted and sent. Then the same with the kit on one side and chatxdk on the other.
- xdk (PyPI `xdk` 0.10.6, the X API client: requests + pydantic models) pointed at the sandbox
  with `Client(base_url=..., access_token=...)`: registers keys, makes the init call, reads events
  (a generator that follows `next_token`), each answer parsed by its own models.

Only the HTTP calls of the chatxdk flows are made with plain httpx (chatxdk has no HTTP client);
the bodies are the SDK's own outputs with the documented renames (SDK name -> API name).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pydantic
import pytest
import requests
from chat_xdk import Chat
from sandbox_fixtures import (  # noqa: F401  (fixtures)
    AnswerLog,
    ServedSandbox,
    openapi,
    served,
    username,
    with_hooks,
)

import kit

xdk = pytest.importorskip("xdk")
from xdk import schemas as xs  # noqa: E402

# ----------------------------------------------------------------------------- plain HTTP, checked


@dataclass
class HttpUser:
    """A sandbox user as a plain HTTP client (what a chatxdk app would use next to the SDK)."""

    id: str
    token: str = ""
    http: httpx.Client | None = None

    def __repr__(self) -> str:
        return f"HttpUser({self.id})"

    def call(self, method: str, path: str, **kw: Any) -> Any:
        assert self.http is not None
        r = self.http.request(method, path, **kw)
        assert r.is_success, f"{method} {path}: {r.status_code} {r.text[:300]}"
        return r.json()


def _check(response: httpx.Response) -> None:
    openapi().check_response(response)


@pytest.fixture
def make_user(served: ServedSandbox) -> Iterator[Any]:
    made: list[httpx.Client] = []

    def make() -> HttpUser:
        r = httpx.post(served.url + "/sandbox/users", json={"username": username()})
        assert r.status_code == 201, r.text
        data = r.json()["data"]
        http = httpx.Client(
            base_url=served.url,
            headers={"authorization": f"Bearer {data['access_token']}"},
            event_hooks={"response": [_check]},
        )
        made.append(http)
        return HttpUser(data["id"], data["access_token"], http)

    yield make
    for h in made:
        h.close()


# ----------------------------------------------------------------------------- chatxdk glue (SDK names -> API names)


@dataclass
class SdkSide:
    user: HttpUser
    chat: Chat
    version: str


def sdk_register(user: HttpUser) -> SdkSide:
    """chatxdk generates keys; its own registration payload is POSTed as the body's `public_key`."""
    chat = Chat()
    reg = chat.generate_keypairs()
    chat.set_identity(user.id, reg.version)
    p = reg.public_key
    body = {
        "version": reg.version,
        "generate_version": reg.generate_version,
        "public_key": {
            "public_key": p.public_key,
            "signing_public_key": p.signing_public_key,
            "identity_public_key_signature": p.identity_public_key_signature,
            "signing_public_key_signature": p.signing_public_key_signature,
            "public_key_fingerprint": p.public_key_fingerprint,
            "registration_method": p.registration_method,
        },
    }
    out = user.call("POST", f"/2/users/{user.id}/public_keys", json=body)
    assert out["data"]["public_key_version"] == reg.version
    return SdkSide(user, chat, reg.version)


def fetch_keys(user: HttpUser, *ids: str) -> dict[str, dict[str, Any]]:
    """GET /2/users/public_keys?ids=... -> {user_id: newest PublicKey record}."""
    out = user.call("GET", "/2/users/public_keys", params={"ids": ",".join(ids)})
    newest: dict[str, dict[str, Any]] = {}
    for rec in out["data"]:
        uid = rec["user_id"]
        if uid not in newest or int(rec["public_key_version"]) > int(newest[uid]["public_key_version"]):
            newest[uid] = rec
    assert set(newest) == set(ids)
    return newest


def wrap_entries(keys: dict[str, dict[str, Any]]) -> list[dict[str, str]]:
    """Entries for chatxdk `prepare_conversation_key_change` (its name: `key_version`)."""
    return [{"user_id": u, "public_key": r["public_key"], "key_version": r["public_key_version"]} for u, r in keys.items()]


def signing_entries(keys: dict[str, dict[str, Any]]) -> list[dict[str, str]]:
    """Entries for chatxdk `decrypt_events` (signing key, identity key and binding, straight from GET)."""
    return [
        {
            "user_id": u,
            "public_key_version": r["public_key_version"],
            "public_key": r["signing_public_key"],
            "identity_public_key": r["public_key"],
            "identity_public_key_signature": r["identity_public_key_signature"],
        }
        for u, r in keys.items()
    ]


def api_key_change_body(res: dict[str, Any]) -> dict[str, Any]:
    """chatxdk's `prepare_conversation_key_change` output as `AddConversationKeysRequest`."""
    return {
        "conversation_key_version": res["conversation_key_version"],
        "conversation_participant_keys": [
            {"user_id": e["user_id"], "encrypted_conversation_key": e["encrypted_key"], "public_key_version": e["public_key_version"]}
            for e in res["participant_keys"]
        ],
        "action_signatures": [
            {
                "message_id": a["message_id"],
                "encoded_message_event_detail": a["encoded_message_event_detail"],
                "message_event_signature": {
                    "signature": a["signature"],
                    "public_key_version": a["public_key_version"],
                    "signature_version": a["signature_version"],
                },
            }
            for a in res["action_signatures"]
        ],
    }


def api_message_body(sp: Any) -> dict[str, str]:
    """chatxdk's `encrypt_message` output (a SendPayload) as `SendChatMessageRequest`."""
    return {
        "message_id": sp.message_id,
        "encoded_message_create_event": sp.encrypted_content,
        "encoded_message_event_signature": sp.encoded_event_signature,
    }


def sdk_read(side: SdkSide, peer_id: str, signing: list[dict[str, str]]) -> dict[str, Any]:
    """The recipient's chatxdk reads the conversation from the events endpoint: key changes
    (meta.conversation_key_events) and messages (data[].encoded_event) in one batch."""
    page = side.user.call("GET", f"/2/chat/conversations/{peer_id}/events")
    batch = page["meta"]["conversation_key_events"] + [e["encoded_event"] for e in page["data"]]
    return side.chat.decrypt_events(batch, signing)


def canonical(a: str, b: str) -> str:
    lo, hi = sorted((a, b), key=int)
    return f"{lo}:{hi}"


# ----------------------------------------------------------------------------- chatxdk <-> chatxdk


def test_chatxdk_to_chatxdk_over_http(make_user: Any) -> None:
    alice, bob = sdk_register(make_user()), sdk_register(make_user())
    keys = fetch_keys(alice.user, alice.user.id, bob.user.id)
    res = alice.chat.prepare_conversation_key_change(wrap_entries(keys))
    assert res["conversation_id"] == canonical(alice.user.id, bob.user.id)
    out = alice.user.call("POST", f"/2/chat/conversations/{bob.user.id}/keys", json=api_key_change_body(res))
    assert out["data"]["conversation_id"] == res["conversation_id"].replace(":", "-")
    text = "hello bob, ça va? 🔐"
    sp = alice.chat.encrypt_message(res["conversation_id"], text, conversation_key=res["conversation_key"],
                                    conversation_key_version=res["conversation_key_version"])  # fmt: skip
    sent = alice.user.call("POST", f"/2/chat/conversations/{bob.user.id}/messages", json=api_message_body(sp))
    assert sent["data"]["encoded_message_event"]

    got = sdk_read(bob, alice.user.id, signing_entries(fetch_keys(bob.user, alice.user.id)))
    assert got["errors"] == {}
    kc, msg = (m["event"] for m in got["messages"])
    assert kc["type"] == "KeyChange" and kc["verified"] is True and kc["sender_id"] == alice.user.id
    assert kc["key_version"] == res["conversation_key_version"] and kc["id"] == res["action_signatures"][0]["message_id"]
    assert int(kc["sequence_id"]) == int(out["data"]["sequence_id"])
    assert got["conversation_keys"]["keys"] == {res["conversation_key_version"]: res["conversation_key"]}
    assert msg["type"] == "Message" and msg["verified"] is True
    assert msg["content"] == {"content_type": "Text", "text": text}
    assert msg["id"] == sp.message_id and msg["conversation_id"] == res["conversation_id"]
    # The 201 answer is the stored event itself: chatxdk reads it too.
    single = bob.chat.decrypt_event(sent["data"]["encoded_message_event"], {res["conversation_key_version"]: res["conversation_key"]},
                                    signing_entries(fetch_keys(bob.user, alice.user.id)))  # fmt: skip
    assert single["verified"] is True and single["content"]["text"] == text

    # Bob answers in the same conversation; alice's chatxdk reads both messages.
    reply = bob.chat.encrypt_message(alice.user.id, "hi alice", conversation_key=got["conversation_keys"]["keys"][kc["key_version"]],
                                     conversation_key_version=kc["key_version"])  # fmt: skip
    bob.user.call("POST", f"/2/chat/conversations/{canonical(alice.user.id, bob.user.id).replace(':', '-')}/messages",
                  json=api_message_body(reply))  # fmt: skip
    back = sdk_read(alice, bob.user.id, signing_entries(fetch_keys(alice.user, alice.user.id, bob.user.id)))
    assert back["errors"] == {}
    texts = [m["event"]["content"]["text"] for m in back["messages"] if m["event"]["type"] == "Message"]
    assert sorted(texts) == sorted([text, "hi alice"])
    assert all(m["event"]["verified"] is True for m in back["messages"])


def test_chatxdk_group_over_http(make_user: Any) -> None:
    """chatxdk's own group-create body (two action signatures: the key change and the signed
    GroupCreate event with its `signature_payload`), then a rotation through /keys on the g-id."""
    alice, bob, carol = (sdk_register(make_user()) for _ in range(3))
    gid = alice.user.call("POST", "/2/chat/conversations/group/initialize")["data"]["conversation_id"]
    keys = fetch_keys(alice.user, alice.user.id, bob.user.id, carol.user.id)
    members = [alice.user.id, bob.user.id, carol.user.id]
    res = alice.chat.prepare_group_create(wrap_entries(keys), gid, members, [alice.user.id], title="three")
    assert len(res["action_signatures"]) == 2
    body = api_key_change_body(res)
    for api, sdk in zip(body["action_signatures"], res["action_signatures"]):
        if "signature_payload" in sdk:
            api["signature_payload"] = sdk["signature_payload"]
    body.update({"conversation_id": gid, "group_members": members[1:], "group_admins": [alice.user.id], "group_name": "three"})
    created = alice.user.call("POST", "/2/chat/conversations/group", json=body)
    assert created["data"]["conversation_id"] == gid
    sp = alice.chat.encrypt_message(gid, "hello group", conversation_key=res["conversation_key"],
                                    conversation_key_version=res["conversation_key_version"])  # fmt: skip
    alice.user.call("POST", f"/2/chat/conversations/{gid}/messages", json=api_message_body(sp))
    got = sdk_read(carol, gid, signing_entries(fetch_keys(carol.user, alice.user.id)))
    assert got["errors"] == {}
    assert [m["event"]["verified"] for m in got["messages"]] == [True, True, True]
    # the signed GroupCreate is stored and served as an event of its own (data[], with the messages)
    by_type = {m["event"]["type"]: m["event"] for m in got["messages"]}
    assert sorted(by_type) == ["GroupChange", "KeyChange", "Message"]
    assert by_type["Message"]["content"]["text"] == "hello group"
    assert by_type["GroupChange"]["change"]["member_ids"] == members and by_type["GroupChange"]["change"]["title"] == "three"
    # Bob rotates the group key with chatxdk; carol adopts the newer version.
    rot = bob.chat.prepare_conversation_key_change(wrap_entries(keys), conversation_id=gid)
    bob.user.call("POST", f"/2/chat/conversations/{gid}/keys", json=api_key_change_body(rot))
    again = sdk_read(carol, gid, signing_entries(fetch_keys(carol.user, alice.user.id, bob.user.id)))
    assert again["errors"] == {}
    assert again["conversation_keys"]["latest_version"] == rot["conversation_key_version"]
    assert again["conversation_keys"]["keys"][rot["conversation_key_version"]] == rot["conversation_key"]
    conv = carol.user.call("GET", f"/2/chat/conversations/{gid}")["data"]
    assert conv["group_name"] == "three" and sorted(conv["member_ids"]) == sorted(members)


# ----------------------------------------------------------------------------- kit <-> chatxdk


def _kit_user(served: ServedSandbox) -> tuple[kit.Client, kit.Identity]:
    root = with_hooks(kit.connect(base_url=served.url, quiet=True), AnswerLog())
    client = root.sandbox_user(username())
    assert client.user_id is not None
    identity = kit.Identity.generate(client.user_id)
    client.register_keys(identity)
    return client, identity


def test_kit_sends_chatxdk_reads(served: ServedSandbox, make_user: Any) -> None:
    alice, alice_id = _kit_user(served)
    bob = sdk_register(make_user())
    bob_keys = alice.latest_public_keys(bob.user.id)  # chatxdk's registration, read back by the kit
    bob_keys.verify_binding()
    init = kit.prepare_key_init(alice_id, [bob_keys])
    res = alice.add_conversation_keys(init, path_id=bob.user.id)
    pm = kit.prepare_message(alice_id, bob.user.id, "from the kit", conversation_key=init.conversation_key,
                             conversation_key_version=init.conversation_key_version)  # fmt: skip
    alice.send_message(pm)

    got = sdk_read(bob, alice_id.user_id, signing_entries(fetch_keys(bob.user, alice_id.user_id)))
    assert got["errors"] == {}
    kc, msg = (m["event"] for m in got["messages"])
    assert kc["verified"] is True and int(kc["sequence_id"]) == int(res.sequence_id)
    assert got["conversation_keys"]["keys"] == {init.conversation_key_version: init.conversation_key}
    assert msg["verified"] is True and msg["content"]["text"] == "from the kit" and msg["id"] == pm.message_id
    alice.close()


def test_chatxdk_sends_kit_reads(served: ServedSandbox, make_user: Any) -> None:
    bob, bob_id = _kit_user(served)
    alice = sdk_register(make_user())
    keys = fetch_keys(alice.user, alice.user.id, bob_id.user_id)
    res = alice.chat.prepare_conversation_key_change(wrap_entries(keys), conversation_id=bob_id.user_id)
    alice.user.call("POST", f"/2/chat/conversations/{bob_id.user_id}/keys", json=api_key_change_body(res))
    sp = alice.chat.encrypt_message(bob_id.user_id, "from chatxdk", conversation_key=res["conversation_key"],
                                    conversation_key_version=res["conversation_key_version"])  # fmt: skip
    alice.user.call("POST", f"/2/chat/conversations/{bob_id.user_id}/messages", json=api_message_body(sp))

    page = bob.get_events(alice.user.id)
    signers = bob.get_public_keys(alice.user.id)  # chatxdk's keys as the kit reads them
    kc = kit.read_key_change(page.key_changes[0], recipient=bob_id, signing_keys=signers)
    assert kc.conversation_key == res["conversation_key"] and kc.sender_id == alice.user.id
    m = kit.read_message(page.messages[0], conversation_key=kc.conversation_key, signing_keys=signers)
    assert m.text == "from chatxdk" and m.message_id == sp.message_id
    # And the kit's own reply reads back in chatxdk.
    pm = kit.prepare_message(bob_id, alice.user.id, "reply from the kit", conversation_key=kc.conversation_key,
                             conversation_key_version=kc.conversation_key_version)  # fmt: skip
    bob.send_message(pm)
    got = sdk_read(alice, bob_id.user_id, signing_entries(fetch_keys(alice.user, alice.user.id, bob_id.user_id)))
    assert got["errors"] == {}
    assert {m["event"]["content"]["text"] for m in got["messages"] if m["event"]["type"] == "Message"} == {
        "from chatxdk",
        "reply from the kit",
    }
    bob.close()


# ----------------------------------------------------------------------------- xdk, the X API client


XDK_CHECKED: list[int] = []


def _check_requests(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """The same OpenAPI answer check, as a requests hook on xdk's session."""
    XDK_CHECKED.append(response.status_code)
    openapi().check(
        response.request.method or "", urlsplit(response.request.url or "").path, response.status_code,
        response.headers.get("content-type", ""), response.text,
    )  # fmt: skip


_XDK_SESSIONS: list[requests.Session] = []


@pytest.fixture(autouse=True)
def _close_xdk_sessions() -> Iterator[None]:
    yield
    while _XDK_SESSIONS:
        _XDK_SESSIONS.pop().close()


def _xdk_client(served: ServedSandbox, token: str) -> Any:
    client = xdk.Client(base_url=served.url, access_token=token)
    client.session.hooks["response"].append(_check_requests)
    _XDK_SESSIONS.append(client.session)
    return client


def _xdk_user(served: ServedSandbox) -> tuple[Any, kit.Identity, str]:
    r = httpx.post(served.url + "/sandbox/users", json={"username": username()})
    data = r.json()["data"]
    return _xdk_client(served, data["access_token"]), kit.Identity.generate(data["id"]), data["access_token"]


def xdk_problem(exc: pytest.ExceptionInfo[requests.HTTPError]) -> Any:
    """xdk raises requests' HTTPError without parsing the problem; parse it with xdk's own `Problem` union."""
    return pydantic.TypeAdapter(xs.Problem).validate_python(exc.value.response.json())


def _xdk_register(client: Any, identity: kit.Identity) -> xs.AddUserPublicKeyResponse:
    body = xs.AddUserPublicKeyRequest.model_validate(identity.registration_body())
    return client.chat.add_user_public_key(identity.user_id, body)


def test_xdk_registers_inits_and_reads(served: ServedSandbox) -> None:
    ax, alice, _ = _xdk_user(served)
    bx, bob, _ = _xdk_user(served)
    for client, identity in ((ax, alice), (bx, bob)):
        reg = _xdk_register(client, identity)
        assert isinstance(reg, xs.AddUserPublicKeyResponse)
        assert reg.data is not None and reg.data.public_key_version == identity.version

    one = ax.users.get_public_key(bob.user_id)
    assert one.data is not None and len(one.data) == 1
    rec = one.data[0]
    assert isinstance(rec, xs.PublicKey) and rec.public_key_version == bob.version
    fetched = kit.PublicKeys.from_api(rec.model_dump(exclude_none=True), user_id=bob.user_id)
    fetched.verify_binding()
    many = ax.users.get_public_keys(ids=[alice.user_id, bob.user_id, "9" * 19])
    assert many.data is not None and {r.public_key_version for r in many.data} == {alice.version, bob.version}
    assert many.errors is not None and len(many.errors) == 1  # the partial error, parsed by xdk's models
    assert "9" * 19 in many.errors[0].model_dump()["detail"]

    # The init call, with the kit's body in xdk's request model.
    init = kit.prepare_key_init(alice, [fetched])
    body = xs.AddConversationKeysRequest.model_validate(init.body)
    res = ax.chat.add_conversation_keys(bob.user_id, body)
    assert isinstance(res, xs.AddConversationKeysResponse)
    assert res.data is not None and res.data.conversation_id == init.path_id
    again = ax.chat.add_conversation_keys(init.path_id, body)  # replay, answered as before
    assert again.data is not None and again.data.sequence_id == res.data.sequence_id

    # Messages, then events through xdk's generator (it follows next_token).
    sent = []
    for i in range(5):
        pm = kit.prepare_message(alice, bob.user_id, f"xdk #{i}", conversation_key=init.conversation_key,
                                 conversation_key_version=init.conversation_key_version)  # fmt: skip
        out = ax.chat.send_message(bob.user_id, xs.SendChatMessageRequest.model_validate(pm.body))
        assert out.data is not None and out.data.encoded_message_event
        sent.append(pm.message_id)
    pages = list(bx.chat.get_conversation_events(alice.user_id, max_results=2))
    assert len(pages) == 3
    assert all(isinstance(p, xs.GetChatConversationEventsResponse) for p in pages)
    events = [e for p in pages for e in (p.data or [])]
    assert all(isinstance(e, xs.ChatMessageEvent) for e in events)
    metas = [p.meta for p in pages]
    assert all(isinstance(m, xs.GetChatConversationEventsResponseMeta) for m in metas)
    assert [m.result_count for m in metas] == [2, 2, 1] and [bool(m.next_token) for m in metas] == [True, True, False]
    assert all(m.conversation_key_events == metas[0].conversation_key_events for m in metas)
    assert len(metas[0].conversation_key_events) == 1
    kc = kit.read_key_change(metas[0].conversation_key_events[0], recipient=bob, signing_keys=[alice.public_keys])
    assert kc.conversation_key == init.conversation_key
    read = [kit.read_message(e.encoded_event, conversation_key=kc.conversation_key, signing_keys=[alice.public_keys]) for e in events]
    assert [m.message_id for m in read] == list(reversed(sent))
    assert [e.conversation_id for e in events] == [init.path_id] * 5

    # Conversations (another xdk generator) and one conversation.
    convs = [c for page in bx.chat.get_conversations() for c in (page.data or [])]
    assert [c.id for c in convs] == [init.path_id]
    one_conv = bx.chat.get_conversation(alice.user_id)
    assert one_conv.data is not None and sorted(one_conv.data.participant_ids or []) == sorted([alice.user_id, bob.user_id])
    assert len(XDK_CHECKED) >= 15  # every xdk answer above went through the OpenAPI check


def test_xdk_groups_and_problems(served: ServedSandbox) -> None:
    ax, alice, _ = _xdk_user(served)
    bx, bob, _ = _xdk_user(served)
    _xdk_register(ax, alice)
    _xdk_register(bx, bob)
    gid_res = ax.chat.initialize_group()
    gid = gid_res.data.conversation_id
    assert gid.startswith("g")
    init = kit.prepare_key_init(alice, [bob.public_keys], conversation_id=gid)
    body = xs.CreateChatConversationRequest.model_validate({**init.body, "conversation_id": gid, "group_members": [bob.user_id]})
    created = ax.chat.create_conversation(body)
    assert created.data.conversation_id == gid and created.data.conversation_key_change_sequence_id
    pages = list(bx.chat.get_conversation_events(gid))
    assert len(pages) == 1 and pages[0].data == []

    # Problems come back as HTTP errors carrying problem+json; xdk raises requests' HTTPError.
    older = kit.prepare_key_init(alice, [bob.public_keys], conversation_id=gid, version="1")
    with pytest.raises(requests.HTTPError) as exc:
        ax.chat.add_conversation_keys(gid, xs.AddConversationKeysRequest.model_validate(older.body))
    assert exc.value.response.status_code == 409
    assert exc.value.response.headers["content-type"].startswith("application/problem+json")
    problem = xdk_problem(exc)
    assert isinstance(problem, xs.InvalidRequestProblem) and "not newer" in problem.detail
    assert problem.parameter == "$.conversation_key_version" and problem.status == 409
    stranger = _xdk_client(served, "not-a-sandbox-token")
    with pytest.raises(requests.HTTPError) as exc:
        stranger.users.get_public_key(alice.user_id)
    assert exc.value.response.status_code == 401
    assert isinstance(xdk_problem(exc), xs.NotAuthorizedForResourceProblem)
    with pytest.raises(requests.HTTPError) as exc:
        list(bx.chat.get_conversation_events("g1"))
    assert exc.value.response.status_code == 404
    nf = xdk_problem(exc)
    assert isinstance(nf, xs.ResourceNotFoundProblem) and nf.resource_type == "conversation"
    # A body xdk's models accept but the sandbox's second layer refuses: wrapped keys that are not
    # the ones in the signed event detail.
    bad = dict(init.body)
    bad["conversation_participant_keys"] = [
        {**e, "encrypted_conversation_key": base64.b64encode(b"\x04" + b"\x00" * 20).decode()} for e in init.body["conversation_participant_keys"]
    ]
    with pytest.raises(requests.HTTPError) as exc:
        ax.chat.add_conversation_keys(bob.user_id, xs.AddConversationKeysRequest.model_validate(bad))
    assert exc.value.response.status_code == 400
    assert "differ" in xdk_problem(exc).detail
