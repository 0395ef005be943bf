"""kit.tables.requests: participants, conversation ids, request bodies (and payloads), problems."""

from __future__ import annotations

import kit
import kit.tables as T
from kit.errors import APIError, Problem

from .samples import DEMO_KEY, DEMO_MID, DEMO_VERSION


def test_participants_and_public_keys_tables(init, alice, bob):
    table = T.participants_table(init)
    assert sorted(table["user_id"]) == sorted([alice.user_id, bob.user_id])
    assert set(table["fingerprint"]) == {alice.fingerprint, bob.fingerprint}
    assert all(v.endswith("(152 chars)") and v.startswith("'B") for v in table["encrypted_conversation_key"])
    keys = T.public_keys_table([bob.public_keys])
    assert keys["binding"][0] == "verified"


def test_conversation_ids_table(alice, bob):
    table = T.conversation_ids_table([bob.user_id, f"{bob.user_id}-{alice.user_id}", "g12", "x"], caller=alice.user_id)
    assert table["canonical (signed)"][0] == f"{alice.user_id}:{bob.user_id}"
    assert table["path (URL, JSON)"][1] == f"{alice.user_id}-{bob.user_id}"
    assert table["kind"][2] == "group"
    assert table["kind"][3].startswith("WireFormatError:")


def test_request_and_payload_tables(init, alice):
    table = T.request_table(init.body)
    assert "action_signatures[0].message_event_signature.signature_version" in list(table["field"])
    payload = kit.signature.key_change_payload(
        message_id=DEMO_MID,
        sender_id=alice.user_id,
        conversation_id=init.conversation_id,
        conversation_key_version=DEMO_VERSION,
        conversation_key=DEMO_KEY,
    )
    parts = T.payload_table(payload)
    assert list(parts["part"])[0] == "event type"
    assert parts["offset"].iloc[-1] + parts["length"].iloc[-1] == len(payload)


def test_problem_table_from_an_api_error():
    err = APIError.of(409, "conversation_key_version 1 is not newer", parameter="$.conversation_key_version")
    row = T.problem_table(err).iloc[0]
    assert (row["status"], row["problem"], row["title"]) == (409, "invalid-request", "Conflict")
    assert row["detail"] == "conversation_key_version 1 is not newer"
    assert row["parameter"] == "$.conversation_key_version"
    assert len(T.problem_table(err)) == 1


def test_problem_table_from_a_problem_and_from_other_errors():
    problem = Problem("https://api.x.com/2/problems/resource-not-found", "Not Found Error", "no such user", 404)
    assert T.problem_table(problem).iloc[0]["problem"] == "resource-not-found"
    row = T.problem_table(kit.DecryptionError("does not open")).iloc[0]
    assert row["problem"] == "DecryptionError" and row["detail"] == "does not open"
    assert T.error_line(kit.SignatureError("bad")) == "SignatureError: bad"
