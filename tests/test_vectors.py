"""Known-answer vectors: fixed inputs, the exact bytes the kit must produce (tests/vectors/*.json).

Every output of the kit's protocol core is deterministic once the random parts are pinned:
identities come from `kit.Identity.from_seed` (DEMO ONLY: anyone can rebuild these private
keys), signatures are RFC 6979, and the wrap's ephemeral key, the conversation key, the
message id, the version and the message nonce are inputs. So the vectors hold inputs and
expected outputs, and `test_kit_reproduces_vector` recomputes every output from the inputs.

Each vector was cross-checked against the official SDK (chatxdk 0.5.2) when it was
generated, and is checked again here wherever chatxdk can compute or verify the same
thing (`test_chatxdk_agrees_with_vector`): its signatures equal chatxdk's for the same keys
and bytes, chatxdk unwraps the wrapped keys, and chatxdk verifies and decrypts the events.

Regenerate (only when the format deliberately changes, then review the diff):

    .venv/bin/python tests/test_vectors.py --regenerate
    # or: .venv/bin/python -m tests.test_vectors --regenerate
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import kit
from kit import signature as ksig
from kit import thrift, wrap
from kit.wrap import ecies
from kit.protocol import key_change_event

try:
    import chatxdk_helpers as cx
except ModuleNotFoundError:  # run as `python -m tests.test_vectors`
    from tests import chatxdk_helpers as cx

VECTOR_DIR = Path(__file__).with_name("vectors")
KINDS = ("identities", "signatures", "wrap", "key_init", "message")
_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_REGENERATE = "python tests/test_vectors.py --regenerate"

# ============================================================================ inputs (used only to regenerate)

_IDENTITY_INPUTS = [
    ("alice", {"seed": "alice (demo only)", "user_id": "1215441834412953600", "version": "1"}),
    ("bob", {"seed": "bob (demo only)", "user_id": "1603419180975409153", "version": "1"}),
    ("carol", {"seed": "carol (demo only)", "user_id": "1843439638876491776", "version": "7"}),
]
_GROUP = "g1862051711563718656"
_PAIR = "1215441834412953600:1603419180975409153"
_KEY = bytes(range(32)).hex()
_KEY2 = hashlib.sha256(b"xchat-kit vector conversation key 2").hexdigest()
_SEQ = "2070276095283454100"
_CREATED = "1795545957535"


def _scalar(label: str) -> str:
    """A fixed ephemeral private key (hex) for one wrap in a vector."""
    digest = hashlib.sha256(b"xchat-kit vector ephemeral\x00" + label.encode()).digest()
    return (int.from_bytes(digest, "big") % (_N - 1) + 1).to_bytes(32, "big").hex()


def _input_cases() -> dict[str, list[tuple[str, dict[str, Any]]]]:
    return {
        "identities": _IDENTITY_INPUTS,
        "signatures": [
            (
                "key_change_pair",
                {
                    "signer": "alice",
                    "kind": "key_change",
                    "message_id": "5f0c2e3a-8b1d-4c6e-9f7a-2d4b6c8e0a1f",
                    "conversation_id": _PAIR,
                    "conversation_key_version": "1795545957535",
                    "conversation_key_hex": _KEY,
                },
            ),
            (
                "key_change_group",
                {
                    "signer": "carol",
                    "kind": "key_change",
                    "message_id": "a4d3c2b1-0f9e-4d8c-b7a6-958473625140",
                    "conversation_id": _GROUP,
                    "conversation_key_version": "1795545957999",
                    "conversation_key_hex": _KEY2,
                },
            ),
            (
                "message",
                {
                    "signer": "bob",
                    "kind": "message",
                    "message_id": "0e1d2c3b-4a59-4687-a5b4-c3d2e1f00112",
                    "conversation_id": _PAIR,
                    "conversation_key_version": "1795545957535",
                    "sealed_hex": hashlib.sha512(b"xchat-kit vector sealed").hexdigest(),
                },
            ),
            ("raw_bytes", {"signer": "alice", "kind": "raw", "data_hex": b"hello".hex()}),
        ],
        "wrap": [
            (
                "to_bob",
                {"recipient": "bob", "conversation_key_hex": _KEY, "ephemeral_scalar_hex": _scalar("wrap to bob")},
            ),
            (
                "to_carol",
                {"recipient": "carol", "conversation_key_hex": _KEY2, "ephemeral_scalar_hex": _scalar("wrap to carol")},
            ),
        ],
        "key_init": [
            (
                "pair",
                {
                    "sender": "alice",
                    "participants": ["alice", "bob"],
                    "conversation_id": None,
                    "version": "1795545957535",
                    "message_id": "5f0c2e3a-8b1d-4c6e-9f7a-2d4b6c8e0a1f",
                    "conversation_key_hex": _KEY,
                    "ephemeral_scalars_hex": [_scalar("pair alice"), _scalar("pair bob")],
                    "sequence_id": _SEQ,
                    "created_at_msec": _CREATED,
                },
            ),
            (
                "group_rotation",
                {
                    "sender": "carol",
                    "participants": ["carol", "alice", "bob"],
                    "conversation_id": _GROUP,
                    "version": "1795545957999",
                    "message_id": "a4d3c2b1-0f9e-4d8c-b7a6-958473625140",
                    "conversation_key_hex": _KEY2,
                    "ephemeral_scalars_hex": [_scalar("group carol"), _scalar("group alice"), _scalar("group bob")],
                    "sequence_id": str(int(_SEQ) + 10),
                    "created_at_msec": str(int(_CREATED) + 464),
                },
            ),
        ],
        "message": [
            (
                name,
                {
                    "sender": sender,
                    "conversation_id": conv,
                    "text": text,
                    "conversation_key_hex": key,
                    "conversation_key_version": version,
                    "message_id": mid,
                    "nonce_hex": hashlib.sha256(f"xchat-kit vector nonce {name}".encode()).digest()[:24].hex(),
                    "ttl_msec": ttl,
                    "sequence_id": str(int(_SEQ) + 1 + i),
                    "created_at_msec": str(int(_CREATED) + 1 + i),
                },
            )
            for i, (name, sender, conv, text, key, version, mid, ttl) in enumerate(
                [
                    (
                        "ascii",
                        "alice",
                        _PAIR,
                        "hello bob",
                        _KEY,
                        "1795545957535",
                        "6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d",
                        None,
                    ),
                    (
                        "non_ascii",
                        "bob",
                        _PAIR,
                        "ça va? 🔐 日本語",
                        _KEY,
                        "1795545957535",
                        "7b8c9d0e-1f2a-4b3c-9d4e-5f6a7b8c9d0e",
                        None,
                    ),
                    ("empty", "alice", _PAIR, "", _KEY, "1795545957535", "8c9d0e1f-2a3b-4c4d-ae5f-6a7b8c9d0e1f", None),
                    (
                        "commas_ttl",
                        "alice",
                        "1603419180975409153-1215441834412953600",
                        "a, b,, c,",
                        _KEY,
                        "1795545957535",
                        "9d0e1f2a-3b4c-4d5e-bf6a-7b8c9d0e1f2a",
                        60000,
                    ),
                    (
                        "group",
                        "carol",
                        _GROUP,
                        "hi all",
                        _KEY2,
                        "1795545957999",
                        "0e1f2a3b-4c5d-4e6f-8a7b-8c9d0e1f2a3b",
                        None,
                    ),
                ]
            )
        ],
    }


# ============================================================================ the kit side: inputs -> outputs


def _identities(spec: dict[str, dict[str, Any]]) -> dict[str, kit.Identity]:
    return {name: kit.Identity.from_seed(i["seed"], i["user_id"], version=i["version"]) for name, i in spec.items()}


def _key(hex_: str) -> bytes:
    return bytes.fromhex(hex_)


def _ephemeral(scalar_hex: str):
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.derive_private_key(int(scalar_hex, 16), ec.SECP256R1())


@contextlib.contextmanager
def fixed_ephemerals(scalars_hex: list[str]) -> Iterator[None]:
    """Make `kit.wrap` draw its ephemeral keys from `scalars_hex`, in order (for repeatable inits).

    Only the name `ec` inside kit.wrap.ecies is replaced, and only for the `with` block.
    """
    real = ecies.ec
    queue = list(scalars_hex)

    class _FixedEC:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        @staticmethod
        def generate_private_key(curve: Any) -> Any:
            assert queue, "the vector has fewer ephemeral keys than the init made wraps"
            return real.derive_private_key(int(queue.pop(0), 16), curve)

    ecies.ec = _FixedEC()
    try:
        yield
    finally:
        ecies.ec = real
    assert not queue, (
        f"{len(queue)} fixed ephemeral key(s) unused: prepare_key_init no longer wraps through "
        "kit.wrap.ecies.ec.generate_private_key (update fixed_ephemerals)"
    )


def _compute_identity(inp: dict[str, Any], ids: dict[str, kit.Identity]) -> dict[str, Any]:
    ident = kit.Identity.from_seed(inp["seed"], inp["user_id"], version=inp["version"])
    pk = ident.public_keys
    return {
        "private_key_blob_hex": ident.export_keys().hex(),
        "public_key": pk.public_key,
        "signing_public_key": pk.signing_public_key,
        "identity_public_key_signature": pk.identity_public_key_signature,
        "signing_public_key_signature": pk.signing_public_key_signature,
        "public_key_fingerprint": pk.fingerprint,
        "registration_body": ident.registration_body(),
    }


def _signed_payload(inp: dict[str, Any], ids: dict[str, kit.Identity]) -> bytes:
    signer = ids[inp["signer"]]
    if inp["kind"] == "key_change":
        return ksig.key_change_payload(
            message_id=inp["message_id"],
            sender_id=signer.user_id,
            conversation_id=inp["conversation_id"],
            conversation_key_version=inp["conversation_key_version"],
            conversation_key=_key(inp["conversation_key_hex"]),
        )
    if inp["kind"] == "message":
        return ksig.message_payload(
            message_id=inp["message_id"],
            sender_id=signer.user_id,
            conversation_id=inp["conversation_id"],
            conversation_key_version=inp["conversation_key_version"],
            sealed=_key(inp["sealed_hex"]),
        )
    return _key(inp["data_hex"])


def _compute_signature(inp: dict[str, Any], ids: dict[str, kit.Identity]) -> dict[str, Any]:
    payload = _signed_payload(inp, ids)
    sig = ids[inp["signer"]].sign(payload)
    out = {"signed_hex": payload.hex()}
    if inp["kind"] != "raw":
        out["signed_text"] = payload.decode("utf-8")
    return {**out, "signature": ksig.encode_signature(sig), "high_s": int.from_bytes(sig[32:], "big") > _N // 2}


def _compute_wrap(inp: dict[str, Any], ids: dict[str, kit.Identity]) -> dict[str, Any]:
    steps = wrap.wrap_steps(
        _key(inp["conversation_key_hex"]),
        ids[inp["recipient"]].public_keys.public_key,
        ephemeral=_ephemeral(inp["ephemeral_scalar_hex"]),
    )
    return {
        "ephemeral_public_hex": steps.ephemeral_public.hex(),
        "shared_secret_hex": steps.shared_secret.hex(),
        "kdf_output_hex": steps.kdf_output.hex(),
        "aes_key_hex": steps.aes_key.hex(),
        "iv_hex": steps.iv.hex(),
        "ciphertext_hex": steps.ciphertext.hex(),
        "tag_hex": steps.tag.hex(),
        "wrapped": cx.b64(steps.wrapped),
    }


def _compute_key_init(inp: dict[str, Any], ids: dict[str, kit.Identity]) -> dict[str, Any]:
    sender = ids[inp["sender"]]
    with fixed_ephemerals(inp["ephemeral_scalars_hex"]):
        init = kit.prepare_key_init(
            sender,
            [ids[n].public_keys for n in inp["participants"]],
            inp["conversation_id"],
            inp["version"],
            message_id=inp["message_id"],
            conversation_key=_key(inp["conversation_key_hex"]),
        )
    event = key_change_event(
        init.body,
        sender_id=sender.user_id,
        conversation_id=init.conversation_id,
        sequence_id=inp["sequence_id"],
        created_at_msec=inp["created_at_msec"],
    )
    payload = ksig.key_change_payload(
        message_id=init.message_id,
        sender_id=sender.user_id,
        conversation_id=init.conversation_id,
        conversation_key_version=init.conversation_key_version,
        conversation_key=init.conversation_key,
    )
    return {
        "conversation_id": init.conversation_id,
        "path_id": init.path_id,
        "signed_payload": payload.decode("utf-8"),
        "encoded_detail_hex": init.encoded_detail.hex(),
        "body": init.body,
        "event": cx.b64(event.encode()),
    }


def _compute_message(inp: dict[str, Any], ids: dict[str, kit.Identity]) -> dict[str, Any]:
    sender = ids[inp["sender"]]
    pm = kit.prepare_message(
        sender,
        inp["conversation_id"],
        inp["text"],
        conversation_key=_key(inp["conversation_key_hex"]),
        conversation_key_version=inp["conversation_key_version"],
        message_id=inp["message_id"],
        ttl_msec=inp["ttl_msec"],
        nonce=_key(inp["nonce_hex"]),
    )
    event = thrift.MessageEvent(
        sequence_id=inp["sequence_id"],
        message_id=pm.message_id,
        sender_id=sender.user_id,
        conversation_id=pm.conversation_id,
        created_at_msec=inp["created_at_msec"],
        detail=pm.create_event.encode_detail(),
        signature=thrift.read_event_signature(cx.unb64(pm.body["encoded_message_event_signature"])),
    )
    payload = ksig.message_payload(
        message_id=pm.message_id,
        sender_id=sender.user_id,
        conversation_id=pm.conversation_id,
        conversation_key_version=pm.conversation_key_version,
        sealed=pm.create_event.contents,
    )
    return {
        "conversation_id": pm.conversation_id,
        "path_id": pm.path_id,
        "sealed_hex": pm.create_event.contents.hex(),
        "signed_payload": payload.decode("utf-8"),
        "body": pm.body,
        "event": cx.b64(event.encode()),
    }


COMPUTE: dict[str, Callable[[dict[str, Any], dict[str, kit.Identity]], dict[str, Any]]] = {
    "identities": _compute_identity,
    "signatures": _compute_signature,
    "wrap": _compute_wrap,
    "key_init": _compute_key_init,
    "message": _compute_message,
}


# ============================================================================ the chatxdk side: cross-checks


def check_with_chatxdk(kind: str, inp: dict[str, Any], exp: dict[str, Any], ids: dict[str, kit.Identity]) -> None:
    """Assert that chatxdk computes or accepts the vector's expected output."""
    if kind == "identities":
        chat = cx.Chat()
        chat.import_keys(bytes.fromhex(exp["private_key_blob_hex"]), version=inp["version"])
        sdk = chat.get_public_keys()
        assert cx.unb64(exp["public_key"])[26:] == cx.unb64(sdk.identity)
        assert cx.unb64(exp["signing_public_key"])[26:] == cx.unb64(sdk.signing)
        assert chat.get_public_key_fingerprint() == exp["public_key_fingerprint"]
        assert chat.verify_key_binding(
            exp["public_key"], exp["signing_public_key"], exp["identity_public_key_signature"]
        )
        assert cx.b64(chat.sign(cx.unb64(exp["public_key"]))) == exp["identity_public_key_signature"]
        assert chat.verify(
            exp["public_key"], cx.unb64(exp["signing_public_key_signature"]), cx.unb64(exp["signing_public_key"])
        )
    elif kind == "signatures":
        chat = cx.sdk_from_identity(ids[inp["signer"]])
        data, sig = bytes.fromhex(exp["signed_hex"]), cx.unb64(exp["signature"])
        assert chat.sign(data) == sig
        assert chat.verify(ids[inp["signer"]].public_keys.signing_public_key, sig, data)
    elif kind == "wrap":
        chat = cx.sdk_from_identity(ids[inp["recipient"]])
        assert chat.decrypt_conversation_key(exp["wrapped"]) == _key(inp["conversation_key_hex"])
    elif kind == "key_init":
        sender = ids[inp["sender"]]
        key, version = _key(inp["conversation_key_hex"]), inp["version"]
        assert cx.sdk_from_identity(sender).sign(exp["signed_payload"].encode()) == cx.unb64(
            exp["body"]["action_signatures"][0]["message_event_signature"]["signature"]
        )
        for name in inp["participants"]:
            chat = cx.sdk_from_identity(ids[name])  # a fresh instance per recipient
            out = chat.decrypt_events([exp["event"]], [cx.signing_entry(sender.public_keys)])
            assert out["errors"] == {}, out["errors"]
            (item,) = out["messages"]
            assert item["event"]["verified"] is True and item["event"]["id"] == inp["message_id"]
            assert out["conversation_keys"] == {"keys": {version: key}, "latest_version": version}
    elif kind == "message":
        sender = ids[inp["sender"]]
        assert cx.sdk_from_identity(sender).sign(exp["signed_payload"].encode()) == cx.unb64(
            thrift.read_event_signature(cx.unb64(exp["body"]["encoded_message_event_signature"])).signature
        )
        chat = cx.Chat()
        got = chat.decrypt_event(
            exp["event"],
            {inp["conversation_key_version"]: _key(inp["conversation_key_hex"])},
            [cx.signing_entry(sender.public_keys)],
        )
        assert got["verified"] is True
        assert got["content"] == {"content_type": "Text", "text": inp["text"]}
        assert got["ttl_msec"] == inp["ttl_msec"] and got["id"] == inp["message_id"]
    else:  # pragma: no cover
        raise AssertionError(kind)


# ============================================================================ files


def _load(kind: str) -> dict[str, Any]:
    return json.loads((VECTOR_DIR / f"{kind}.json").read_text(encoding="utf-8"))


def _identity_map() -> dict[str, kit.Identity]:
    return _identities({c["name"]: c["inputs"] for c in _load("identities")["cases"]})


def _cases() -> list[Any]:
    out = []
    for kind in KINDS:
        if not (VECTOR_DIR / f"{kind}.json").exists():  # collect anyway; the tests then fail and say why
            out.append(pytest.param(kind, None, id=f"{kind}-missing"))
            continue
        for case in _load(kind)["cases"]:
            out.append(pytest.param(kind, case, id=f"{kind}-{case['name']}"))
    return out


_DESCRIPTIONS = {
    "identities": "Demo identities (kit.Identity.from_seed; DEMO ONLY, the private keys follow from the seeds): "
    "the 64-byte private blob, SPKI public keys, binding signatures, fingerprint, registration body.",
    "signatures": "Deterministic (RFC 6979) ECDSA P-256 signatures, raw r||s base64 without padding, "
    "over the v7 key-change payload, the message payload and raw bytes.",
    "wrap": "ECIES wrap with a fixed ephemeral key: every step, and the 113-byte wrapped key.",
    "key_init": "Whole Initialize Conversation Keys requests with fixed key, version, message id and "
    "ephemeral keys (one per roster entry, in roster order), and the MessageEvent a server stores.",
    "message": "Text messages with fixed key, message id and XSalsa20 nonce: sealed bytes, request body, "
    "and the MessageEvent envelope.",
}


def _generate() -> None:
    """Compute every vector with the kit, cross-check each with chatxdk, and write tests/vectors/*.json."""
    inputs = _input_cases()
    ids = _identities(dict(inputs["identities"]))
    VECTOR_DIR.mkdir(exist_ok=True)
    for kind in KINDS:
        cases = []
        for name, inp in inputs[kind]:
            exp = COMPUTE[kind](inp, ids)
            assert COMPUTE[kind](inp, ids) == exp, f"{kind}/{name} is not deterministic"
            check_with_chatxdk(kind, inp, exp, ids)
            cases.append({"name": name, "inputs": inp, "expected": exp})
        doc = {"description": _DESCRIPTIONS[kind], "generated_by": _REGENERATE, "cases": cases}
        path = VECTOR_DIR / f"{kind}.json"
        path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {path} ({len(cases)} cases, each cross-checked with chatxdk)")


# ============================================================================ tests


def test_vector_files_complete():
    for kind in KINDS:
        doc = _load(kind)
        assert doc["cases"], kind
        assert len({c["name"] for c in doc["cases"]}) == len(doc["cases"])
    names = {c["name"] for c in _load("identities")["cases"]}
    assert {"alice", "bob", "carol"} <= names


@pytest.mark.parametrize(("kind", "case"), _cases())
def test_kit_reproduces_vector(kind, case):
    assert case is not None, f"tests/vectors/{kind}.json is missing: {_REGENERATE}"
    assert COMPUTE[kind](case["inputs"], _identity_map()) == case["expected"]


@pytest.mark.parametrize(("kind", "case"), _cases())
def test_chatxdk_agrees_with_vector(kind, case):
    assert case is not None, f"tests/vectors/{kind}.json is missing: {_REGENERATE}"
    check_with_chatxdk(kind, case["inputs"], case["expected"], _identity_map())


def test_signature_vectors_pin_high_and_low_s():
    """RFC 6979 signatures are not low-S normalised (nor are chatxdk's): the vectors hold both kinds."""
    cases = _load("signatures")["cases"] + _load("key_init")["cases"]
    highs = set()
    for case in cases:
        exp = case["expected"]
        sig = (
            exp["signature"]
            if "signature" in exp
            else exp["body"]["action_signatures"][0]["message_event_signature"]["signature"]
        )
        highs.add(int.from_bytes(cx.unb64(sig)[32:], "big") > _N // 2)
    assert highs == {True, False}


def test_wrap_vector_independent_of_recipient_encoding():
    ids = _identity_map()
    for case in _load("wrap")["cases"]:
        inp = case["inputs"]
        spki_b64 = ids[inp["recipient"]].public_keys.public_key
        for encoding in ("spki", "sec1", "compressed"):
            steps = wrap.wrap_steps(
                _key(inp["conversation_key_hex"]),
                cx.encode_public_key(spki_b64, encoding),
                ephemeral=_ephemeral(inp["ephemeral_scalar_hex"]),
            )
            assert cx.b64(steps.wrapped) == case["expected"]["wrapped"], encoding


def test_key_init_vector_without_fixed_ephemerals():
    """Without pinned ephemeral keys only the wrapped keys (and so the detail) change; they still open."""
    ids = _identity_map()
    for case in _load("key_init")["cases"]:
        inp, exp = case["inputs"], case["expected"]
        init = kit.prepare_key_init(
            ids[inp["sender"]],
            [ids[n].public_keys for n in inp["participants"]],
            inp["conversation_id"],
            inp["version"],
            message_id=inp["message_id"],
            conversation_key=_key(inp["conversation_key_hex"]),
        )
        mask = [{**e, "encrypted_conversation_key": "?"} for e in init.body["conversation_participant_keys"]]
        want = [{**e, "encrypted_conversation_key": "?"} for e in exp["body"]["conversation_participant_keys"]]
        assert mask == want
        assert (
            init.body["action_signatures"][0]["message_event_signature"]
            == (exp["body"]["action_signatures"][0]["message_event_signature"])
        )
        for e in init.body["conversation_participant_keys"]:
            reader = next(i for i in ids.values() if i.user_id == e["user_id"])
            assert reader.unwrap(e["encrypted_conversation_key"]) == init.conversation_key


def test_vectors_read_back_by_kit():
    """The recipient side of the kit accepts its own vector events (and returns the vector's inputs)."""
    ids = _identity_map()
    for case in _load("key_init")["cases"]:
        inp, exp = case["inputs"], case["expected"]
        for name in inp["participants"]:
            kc = kit.read_key_change(exp["event"], recipient=ids[name], signing_keys=[ids[inp["sender"]].public_keys])
            assert (
                kc.conversation_key.hex() == inp["conversation_key_hex"]
                and kc.conversation_key_version == inp["version"]
            )
    for case in _load("message")["cases"]:
        inp, exp = case["inputs"], case["expected"]
        msg = kit.read_message(
            exp["event"],
            conversation_key=_key(inp["conversation_key_hex"]),
            signing_keys=[ids[inp["sender"]].public_keys],
        )
        assert msg.text == inp["text"] and msg.message_id == inp["message_id"]


if __name__ == "__main__":
    if sys.argv[1:] != ["--regenerate"]:
        sys.exit(f"usage: {_REGENERATE}\n(rewrites tests/vectors/*.json after cross-checking each vector with chatxdk)")
    _generate()
