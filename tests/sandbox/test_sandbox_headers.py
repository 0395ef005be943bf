"""Header and content-type games (hardening item 12), through both doors: a header that counts
once sent twice, a JSON body sent as something else, a `signature_version` written in a way the
SDK never writes. Each is a problem naming what is wrong, and nothing is stored."""

from __future__ import annotations

import dataclasses
import json

import httpx
import pytest
from sandbox_fixtures import (  # noqa: F401  (fixtures)
    PROBLEM_BASE,
    AnswerLog,
    Connect,
    answers,
    connect,
    door,
    pair_path,
    party,
    raw_client,
    served,
    username,
)

import kit
from kit import signature
from kit.encoding import b64, from_b64
from kit.errors import SignatureError
from kit.thrift import read_event_signature

NOT_CANONICAL = ("07", "+7", " 7", "7 ", "7\n", "٧", "7.0", "0x7", "", "-7", "1e1")


def problem(r: httpx.Response, status: int, kind: str = "invalid-request") -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    data = r.json()
    assert data["type"] == PROBLEM_BASE + kind and data["status"] == status, data
    return data


def test_two_authorization_headers_are_a_400(connect: Connect) -> None:
    root = connect()
    alice, bob = party(root, register=False), party(root)
    token = alice.client.http.auth._token  # type: ignore[union-attr]
    body = alice.identity.registration_body()
    for pair in ((token, token), (token, "not-a-token"), ("not-a-token", token), (token, bob.client.http.auth._token)):  # type: ignore[union-attr]
        with raw_client(root) as raw:
            headers = httpx.Headers([("authorization", f"Bearer {pair[0]}"), ("authorization", f"Bearer {pair[1]}")])
            r = raw.post(f"/2/users/{alice.id}/public_keys", json=body, headers=headers)
        data = problem(r, 400)
        assert data["parameter"] == "authorization" and "more than once" in data["detail"]
        assert token not in r.text
    # nothing was stored: alice still has no keys, and one header works
    with raw_client(root, token) as raw:
        assert raw.get(f"/2/users/{alice.id}/public_keys").json().get("data", []) == []
    assert alice.client.register_keys(alice.identity) == alice.identity.version


def test_two_content_type_headers_are_a_400(connect: Connect) -> None:
    root = connect()
    alice = party(root, register=False)
    headers = httpx.Headers([("content-type", "application/json"), ("content-type", "text/plain")])
    r = alice.client.http.post(
        f"/2/users/{alice.id}/public_keys", content=json.dumps(alice.identity.registration_body()), headers=headers
    )
    assert problem(r, 400)["parameter"] == "content-type"
    assert alice.client.get_public_keys(alice.id) == []


@pytest.mark.parametrize(
    "ctype",
    [None, "text/plain; x=json", "text/plain", "application/x-www-form-urlencoded", "application/jsonx", "text/json",
     "application/problem+json", "multipart/form-data; boundary=json"],
)  # fmt: skip
def test_a_json_body_needs_application_json(connect: Connect, ctype: str | None) -> None:
    root = connect()
    alice = party(root, register=False)
    body = json.dumps(alice.identity.registration_body()).encode()
    headers = {"content-type": ctype} if ctype else {}
    r = alice.client.http.post(f"/2/users/{alice.id}/public_keys", content=body, headers=headers)
    data = problem(r, 415)
    assert data["parameter"] == "content-type" and "application/json" in data["detail"]
    assert alice.client.get_public_keys(alice.id) == []
    # the sandbox-only user endpoint too: no user made
    name = username()
    with raw_client(root) as raw:
        r = raw.post("/sandbox/users", content=json.dumps({"username": name}).encode(), headers=headers)
        problem(r, 415)
        # the same body as application/json (with a charset, in any case) is accepted: the name was still free
        r = raw.post("/sandbox/users", content=json.dumps({"username": name}).encode(),
                     headers={"content-type": "Application/JSON; charset=utf-8"})  # fmt: skip
        assert r.status_code == 201, r.text


def _relabel_init(init: kit.KeyInit, label: str) -> dict:
    act = init.body["action_signatures"][0]
    mes = {**act["message_event_signature"], "signature_version": label}
    return {**init.body, "action_signatures": [{**act, "message_event_signature": mes}]}


def test_signature_version_must_be_written_as_the_sdk_writes_it(connect: Connect) -> None:
    root = connect()
    alice, bob = party(root), party(root)
    init = kit.prepare_key_init(alice.identity, [bob.keys])
    path = f"/2/chat/conversations/{pair_path(alice, bob)}/keys"
    for label in NOT_CANONICAL:
        r = alice.client.http.post(path, json=_relabel_init(init, label))
        data = problem(r, 400)
        assert "signature_version" in data["detail"], (label, data)
    assert alice.client.get_conversations() == [] and bob.client.get_conversations() == []
    alice.client.add_conversation_keys(init)  # "7" as written is accepted
    pm = kit.prepare_message(alice.identity, bob.id, "hi", conversation_key=init.conversation_key,
                             conversation_key_version=init.conversation_key_version)  # fmt: skip
    mes = read_event_signature(from_b64(pm.body["encoded_message_event_signature"], what="mes"))
    for label in NOT_CANONICAL:
        relabelled = b64(dataclasses.replace(mes, signature_version=label).encode())
        r = alice.client.http.post(
            f"/2/chat/conversations/{pair_path(alice, bob)}/messages",
            json={**pm.body, "encoded_message_event_signature": relabelled},
        )
        data = problem(r, 400)
        assert "signature_version" in data["detail"], (label, data)
    assert bob.client.get_events(alice.id).messages == []


def test_one_rule_for_the_kit_and_the_sandbox() -> None:
    from kit.sandbox.key_changes import is_supported_signature_version

    for label in NOT_CANONICAL + ("0" * 40 + "7", "7" * 5000, None, 7):
        assert signature.signature_version_number(label) is None, label
        assert not is_supported_signature_version(label)  # type: ignore[arg-type]
        with pytest.raises(SignatureError, match="canonical decimal"):
            signature.check_signature_version(label, "message m")  # type: ignore[arg-type]
    for label, number in (("7", 7), ("2", 2), ("10", 10), ("999999999", 999999999)):
        assert signature.signature_version_number(label) == number
        signature.check_signature_version(label, "message m")
    assert is_supported_signature_version(signature.SIGNATURE_VERSION)
