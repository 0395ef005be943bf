"""Write the inspector's sample data once: kit/spec/sample-chatxdk.json and kit/spec/sample-key-init-demo.json.

    .venv/bin/python tools/make_samples.py

- sample-chatxdk.json: values made by the official SDK (PyPI chatxdk, `import chat_xdk`) with throwaway keys
  it generated itself: a registration body, an init body and a message body (the SDK's outputs with the
  documented renames, SDK name -> API name), and the error strings it raises when made to fail. Neither a
  private key nor a conversation key is written. chatxdk is a test dependency: run this only to refresh.
- sample-key-init-demo.json: an init body the kit makes in the shape of the sample decoded in
  /work/shared/spec/wire-format.md §3 (the same user ids, versions and 425-byte detail), from demo-only
  seeded identities.

The X docs sample (kit/spec/sample-initialize-conversation-keys.json) is copied from the docs, not made here.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import importlib.metadata
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

ALICE_ID = "1215441834412953600"
BOB_ID = "1603419180975409153"


def sdk_sample() -> dict:
    from chatxdk_helpers import b64, sdk_message_event, sdk_user, signing_entry, wrap_entry

    import kit

    alice, bob = sdk_user(ALICE_ID), sdk_user(BOB_ID)
    p = alice.reg.public_key
    registration = {
        "version": alice.reg.version,
        "generate_version": alice.reg.generate_version,
        "public_key": {
            "public_key": p.public_key,
            "signing_public_key": p.signing_public_key,
            "identity_public_key_signature": p.identity_public_key_signature,
            "signing_public_key_signature": p.signing_public_key_signature,
            "public_key_fingerprint": p.public_key_fingerprint,
            "registration_method": p.registration_method,
        },
    }
    res = alice.chat.prepare_conversation_key_change([wrap_entry(alice.public_keys), wrap_entry(bob.public_keys)])
    init = {
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
    key, version, cid = res["conversation_key"], res["conversation_key_version"], res["conversation_id"]
    sp = alice.chat.encrypt_message(cid, "hello from chatxdk", conversation_key=key, conversation_key_version=version)
    message = {"message_id": sp.message_id, "encoded_message_create_event": sp.encrypted_content,
               "encoded_message_event_signature": sp.encoded_event_signature}  # fmt: skip
    ev = sdk_message_event(sp, ALICE_ID, cid)
    signing = [signing_entry(alice.public_keys)]

    def error(make) -> str:
        try:
            make()
        except ValueError as exc:
            return str(exc).split("\ncaused by:")[0]
        raise AssertionError("chatxdk did not fail")

    def event_b64(**changes) -> str:
        return b64(dataclasses.replace(ev, **changes).encode())

    wrong_version = dict(signing[0], public_key_version="999")
    urlsafe = ev.signature.signature.replace("+", "-").replace("/", "_") + "AA"
    errors = {
        "signature mismatch (event stored with the hyphen id)": error(
            lambda: bob.chat.decrypt_event(event_b64(conversation_id=cid.replace(":", "-")), {version: key}, signing)),
        "no matching signing key": error(lambda: bob.chat.decrypt_event(b64(ev.encode()), {version: key}, [wrong_version])),
        "invalid signature length": error(lambda: bob.chat.decrypt_event(
            event_b64(signature=dataclasses.replace(ev.signature, signature=urlsafe)), {version: key}, signing)),
        "signature version below 2": error(lambda: bob.chat.decrypt_event(
            event_b64(signature=dataclasses.replace(ev.signature, signature_version="1")), {version: key}, signing)),
        "key version not in the batch": error(lambda: bob.chat.decrypt_event(b64(ev.encode()), {"1": key}, signing)),
        "decryption failure": error(lambda: bob.chat.decrypt_conversation_key(b64(kit.wrap.wrap(key, alice.public_keys.public_key)))),
    }  # fmt: skip
    return {
        "about": "Made once by tools/make_samples.py with the official SDK (PyPI chatxdk "
        f"{importlib.metadata.version('chatxdk')}, import chat_xdk) and throwaway keys it generated; no private key or "
        "conversation key is kept. The bodies are the SDK's outputs with the documented renames (encrypted_key -> "
        "encrypted_conversation_key); the errors are what chatxdk raised when made to fail (first line).",
        "made": datetime.date.today().isoformat(),
        "sender_id": ALICE_ID,
        "recipient_id": BOB_ID,
        "registration": registration,
        "init_request": init,
        "send_message_request": message,
        "errors": errors,
    }


def demo_sample() -> dict:
    import kit

    alice = kit.Identity.from_seed("alice (demo only)", ALICE_ID, version="1")
    bob = kit.Identity.from_seed("bob (demo only)", BOB_ID, version="1")
    init = kit.prepare_key_init(
        alice,
        [bob.public_keys],
        version="1795545957535",
        message_id="5b1e0f3a-7c2d-4e8f-9a6b-1c3d5e7f9a0b",
        conversation_key=bytes.fromhex("00" * 31 + "01"),
    )
    assert len(base64.b64decode(init.body["action_signatures"][0]["encoded_message_event_detail"])) == 425
    return {
        "about": "Made by tools/make_samples.py with the kit, from demo-only seeded identities "
        "(Identity.from_seed('alice (demo only)' / 'bob (demo only)')), in the shape of the sample decoded in the "
        "wire-format spec §3: the same user ids, versions and 425-byte detail. Not X's bytes.",
        "path_id": init.path_id,
        "body": init.body,
    }


def main() -> None:
    out = ROOT / "kit" / "spec"
    (out / "sample-chatxdk.json").write_text(json.dumps(sdk_sample(), indent=2) + "\n", encoding="utf-8")
    (out / "sample-key-init-demo.json").write_text(json.dumps(demo_sample(), indent=2) + "\n", encoding="utf-8")
    print("wrote", out / "sample-chatxdk.json", "and", out / "sample-key-init-demo.json")


if __name__ == "__main__":
    main()
