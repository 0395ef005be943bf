"""kit.trust: the comparison code, the TrustStore and its file, and the attacks the lessons show.

The attack of notebook 05 (whoever holds alice's access token registers new keys for her and signs a
key change with them) runs through both doors of the sandbox: plain `read_key_change` accepts it (the
lesson says so), a keyring with a trust store pinned at first contact refuses it, and adopts it only
after `accept_change`. The lying server (`api.sandbox.lie`) exists only in process.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

import kit
from conftest import ALICE_ID, BOB_ID
from kit import signature as ksig
from kit.encoding import b64
from kit.trust import signing_fingerprint
from sandbox_fixtures import (  # noqa: F401  (fixtures: connect needs door, answers and served)
    Connect,
    answers,
    connect,
    door,
    party,
    served,
)

VECTORS = Path(__file__).with_name("vectors") / "comparison_code.json"


def keys_of(entry: dict) -> kit.PublicKeys:
    return kit.PublicKeys(
        user_id=entry["user_id"], version="1", public_key=entry["public_key"], signing_public_key=entry["signing_public_key"]
    )


def mallory_as(user_id: str, *, version: str = "1") -> kit.Identity:
    return kit.Identity.from_seed("mallory (demo only)", user_id, version=version)


# ----------------------------------------------------------------------------- the comparison code


def test_comparison_code_is_symmetric_and_readable(alice, bob):
    code = kit.comparison_code(alice.public_keys, bob.public_keys)
    assert code == kit.comparison_code(bob.public_keys, alice.public_keys)
    assert code == kit.comparison_code(alice, bob)  # identities give their public keys
    groups = code.split(" ")
    assert len(groups) == 12 and all(len(g) == 5 and g.isdigit() for g in groups)


def test_comparison_code_changes_with_any_key_or_user_id(alice, bob, carol):
    base = kit.comparison_code(alice.public_keys, bob.public_keys)
    other = carol.public_keys
    variants = {
        "alice's identity key": (dataclasses.replace(alice.public_keys, public_key=other.public_key), bob.public_keys),
        "alice's signing key": (dataclasses.replace(alice.public_keys, signing_public_key=other.signing_public_key), bob.public_keys),
        "bob's identity key": (alice.public_keys, dataclasses.replace(bob.public_keys, public_key=other.public_key)),
        "bob's signing key": (alice.public_keys, dataclasses.replace(bob.public_keys, signing_public_key=other.signing_public_key)),
        "alice's user id": (dataclasses.replace(alice.public_keys, user_id="1001"), bob.public_keys),
        "bob's user id": (alice.public_keys, dataclasses.replace(bob.public_keys, user_id="2002")),
    }
    codes = {what: kit.comparison_code(a, b) for what, (a, b) in variants.items()}
    assert all(code != base for code in codes.values()), codes
    assert len(set(codes.values())) == len(codes)


def test_comparison_code_ignores_key_version_and_encoding(alice, bob):
    base = kit.comparison_code(alice.public_keys, bob.public_keys)
    later = kit.Identity.import_keys(alice.export_keys(), user_id=ALICE_ID, version="9")  # same keys, new version
    assert kit.comparison_code(later.public_keys, bob.public_keys) == base
    sec1 = dataclasses.replace(alice.public_keys, public_key=b64(kit.keys.sec1(alice.public_keys.identity_key)))
    assert kit.comparison_code(sec1, bob.public_keys) == base


def test_comparison_code_known_answers():
    doc = json.loads(VECTORS.read_text("utf-8"))
    assert len(doc["cases"]) >= 3
    for case in doc["cases"]:
        a, b = keys_of(case["inputs"]["a"]), keys_of(case["inputs"]["b"])
        assert kit.comparison_code(a, b) == case["expected"]["comparison_code"], case["name"]
        seeded = kit.Identity.from_seed(case["inputs"]["a"]["seed"], a.user_id).public_keys
        assert seeded.public_key == a.public_key  # the vector's keys are the demo identities'


def test_comparison_code_is_the_same_in_another_process(alice, bob):
    code = (
        "import kit\n"
        f"a = kit.Identity.from_seed('alice (demo only)', '{ALICE_ID}')\n"
        f"b = kit.Identity.from_seed('bob (demo only)', '{BOB_ID}')\n"
        "print(kit.comparison_code(a, b))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == kit.comparison_code(alice, bob)


def test_fingerprint_matches_chatxdk(alice):
    from chatxdk_helpers import sdk_from_identity, sdk_user

    chat = sdk_from_identity(alice)
    assert kit.fingerprint(alice.public_keys.public_key) == chat.get_public_key_fingerprint()
    assert kit.TrustStore().check(alice.public_keys).fingerprint == chat.get_public_key_fingerprint()
    dave = sdk_user("1700000000000000001")  # keys the SDK made
    assert kit.TrustStore().check(dave.public_keys).fingerprint == dave.chat.get_public_key_fingerprint()


# ----------------------------------------------------------------------------- the store


def test_states_new_pinned_verified_changed(alice, bob):
    trust = kit.TrustStore()
    seen = trust.check(alice.public_keys)
    assert (seen.state, seen.user_id, seen.pinned_fingerprint, seen.ok) == ("new", ALICE_ID, None, False)
    assert seen.fingerprint == alice.fingerprint
    pinned = trust.pin(alice.public_keys)
    assert (pinned.state, pinned.pinned_fingerprint, pinned.ok) == ("pinned", alice.fingerprint, True)
    assert trust.pin(alice.public_keys) == pinned  # the same keys again: nothing changes
    code = kit.comparison_code(bob, alice)
    assert trust.verify(alice.public_keys, code=code, mine=bob).state == "verified"
    other = mallory_as(ALICE_ID, version="2").public_keys
    changed = trust.check(other)
    assert (changed.state, changed.fingerprint, changed.pinned_fingerprint) == ("changed", other.fingerprint, alice.fingerprint)
    assert "identity key of user" in changed.reason and "\n" not in changed.reason
    with pytest.raises(kit.TrustError):
        trust.pin(other)  # pin never overwrites: that is accept_change's decision
    accepted = trust.accept_change(other)
    assert (accepted.state, accepted.pinned_fingerprint) == ("pinned", other.fingerprint)


def test_a_wrong_code_raises_and_changes_nothing(alice, bob, carol):
    trust = kit.TrustStore()
    trust.pin(alice.public_keys)
    wrong = kit.comparison_code(bob, carol)
    with pytest.raises(kit.TrustError, match=f"comparison code for user {ALICE_ID} does not match") as err:
        trust.verify(alice.public_keys, code=wrong, mine=bob)
    assert isinstance(err.value, kit.KitError) and err.value.user_id == ALICE_ID
    assert trust.check(alice.public_keys).state == "pinned"
    with pytest.raises(kit.TrustError, match="60 digits"):
        trust.verify(alice.public_keys, code="12345 678", mine=bob)
    spoken = kit.comparison_code(bob, alice).replace(" ", "-")  # dashes or no spaces read the same
    assert trust.verify(alice.public_keys, code=spoken, mine=bob).state == "verified"


def test_a_new_signing_key_under_the_same_identity_key_is_a_change(alice, bob, carol):
    """Bindings fetched from the API carry only the signing key's signature over the identity key, so
    anyone can pair alice's identity key with their own signing key: the fingerprint alone would not see it."""
    mallory = mallory_as(ALICE_ID, version="2")
    identity_bytes = kit.encoding.from_b64(alice.public_keys.public_key, what="identity key")
    crossed = kit.PublicKeys(
        user_id=ALICE_ID,
        version="2",
        public_key=alice.public_keys.public_key,
        signing_public_key=mallory.public_keys.signing_public_key,
        identity_public_key_signature=b64(mallory.sign(identity_bytes)),
    )
    crossed.verify_binding()  # verifies: the binding says nothing about whose record it is
    trust = kit.TrustStore()
    trust.pin(alice.public_keys)
    seen = trust.check(crossed)
    assert seen.fingerprint == alice.fingerprint and seen.state == "changed"
    assert "signing key" in seen.reason and signing_fingerprint(crossed) in seen.reason
    assert kit.comparison_code(bob, crossed) != kit.comparison_code(bob, alice)


def test_file_round_trip(tmp_path, alice, bob, carol):
    trust = kit.TrustStore()
    trust.pin(alice.public_keys)
    trust.verify(carol.public_keys, code=kit.comparison_code(bob, carol), mine=bob)
    path = tmp_path / "trust.json"
    trust.save(path)
    again = kit.TrustStore.load(path)
    assert again.users() == trust.users() == sorted([ALICE_ID, carol.user_id], key=int)
    assert again.check(alice.public_keys) == trust.check(alice.public_keys)
    assert again.check(carol.public_keys).state == "verified"
    assert again.to_json() == trust.to_json()
    text = path.read_text("utf-8")
    for identity in (alice, bob, carol):  # public fingerprints only
        blob = identity.export_keys()
        assert blob.hex() not in text and blob[:32].hex() not in text and blob[32:].hex() not in text
        assert identity.public_keys.public_key not in text
    assert kit.TrustStore.load(tmp_path / "absent.json", missing_ok=True).users() == []
    with pytest.raises(kit.TrustError, match="no trust store file"):
        kit.TrustStore.load(tmp_path / "absent.json")


def _edit(path: Path, change) -> None:
    data = json.loads(path.read_text("utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")


@pytest.mark.parametrize(
    "damage, why",
    [
        (lambda p: p.write_text("{not json", encoding="utf-8"), "it is not JSON"),
        (lambda p: p.write_text(p.read_text("utf-8")[:40], encoding="utf-8"), "it is not JSON"),
        (lambda p: p.write_bytes(b"\xff\xfe"), "cannot be read"),
        (lambda p: p.write_text("[]", encoding="utf-8"), "is not an xchat-kit trust store"),
        (lambda p: _edit(p, lambda d: d.update(format=2)), "format 2 is not 1"),
        (lambda p: _edit(p, lambda d: d["users"][ALICE_ID].update(fingerprint="A" * 43)), "checksum does not match"),
        (lambda p: _edit(p, lambda d: d["users"][ALICE_ID].update(state="verified")), "checksum does not match"),
        (lambda p: _edit(p, lambda d: d["users"].pop(ALICE_ID)), "checksum does not match"),
        (lambda p: _edit(p, lambda d: d.pop("checksum")), "unexpected members"),
    ],
)
def test_a_damaged_or_edited_file_is_a_clear_error(tmp_path, alice, damage, why):
    trust = kit.TrustStore()
    trust.pin(alice.public_keys)
    path = tmp_path / "trust.json"
    trust.save(path)
    damage(path)
    with pytest.raises(kit.TrustError, match=why) as err:
        kit.TrustStore.load(path)
    assert "nothing was loaded" in str(err.value) and "\n" not in str(err.value)


def test_an_edit_with_a_recomputed_checksum_still_has_to_be_well_formed(tmp_path, alice):
    from kit.trust import _checksum  # the test re-signs the file as an editor who read the source would

    trust = kit.TrustStore()
    trust.pin(alice.public_keys)
    data = trust.to_json()
    data["users"][ALICE_ID]["state"] = "trusted"
    data["checksum"] = _checksum(data["users"])
    with pytest.raises(kit.TrustError, match="state 'trusted'"):
        kit.TrustStore.from_json(data)


# ----------------------------------------------------------------------------- read_key_change / read_message


def _conversation(alice, bob):
    init = kit.prepare_key_init(alice, [bob.public_keys], version="1795545957535", conversation_key=bytes(range(32)))
    event = kit.protocol.key_change_event(
        init.body, sender_id=alice.user_id, conversation_id=init.conversation_id, sequence_id="1", created_at_msec="1"
    )
    return init, b64(event.encode())


def test_read_key_change_and_read_message_consult_the_store(alice, bob):
    init, event = _conversation(alice, bob)
    trust = kit.TrustStore()
    change = kit.read_key_change(event, recipient=bob, signing_keys=[alice.public_keys], trust=trust)
    assert change.signer == alice.public_keys
    assert trust.check(alice.public_keys).state == "pinned"  # first contact: pinned
    impostor = mallory_as(ALICE_ID)  # alice's user id and key version, other keys
    forged_init, forged = _conversation(impostor, bob)
    kit.read_key_change(forged, recipient=bob, signing_keys=[impostor.public_keys])  # plain: verifies
    with pytest.raises(kit.TrustError, match=f"from user {ALICE_ID} refused: the identity key"):
        kit.read_key_change(forged, recipient=bob, signing_keys=[impostor.public_keys], trust=trust)
    msg = kit.prepare_message(
        impostor, init.conversation_id, "hi", conversation_key=forged_init.conversation_key,
        conversation_key_version=forged_init.conversation_key_version,
    )
    stored = kit.thrift.MessageEvent(
        sequence_id="2", message_id=msg.message_id, sender_id=ALICE_ID, conversation_id=init.conversation_id,
        created_at_msec="2", detail=b"\x0c\x00\x01" + msg.create_event.encode() + b"\x00",  # the union's field 1
        signature=kit.thrift.EventSignature(ksig.encode_signature(msg.signature), "1", ksig.SIGNATURE_VERSION),
    )
    text = b64(stored.encode())
    keys = {forged_init.conversation_key_version: forged_init.conversation_key}
    assert kit.read_message(text, conversation_key=keys, signing_keys=[impostor.public_keys]).text == "hi"
    with pytest.raises(kit.TrustError, match="message .* refused"):
        kit.read_message(text, conversation_key=keys, signing_keys=[impostor.public_keys], trust=trust)


def test_keyring_without_a_store_behaves_as_before(alice, bob):
    ring = kit.Keyring()
    assert ring.trust is None
    _, event = _conversation(mallory_as(ALICE_ID), bob)
    assert ring.read(event, recipient=bob, signing_keys=[mallory_as(ALICE_ID).public_keys]).adopted


def test_keyring_adopt_needs_the_signer_with_a_store(alice, bob):
    _, event = _conversation(alice, bob)
    change = kit.read_key_change(event, recipient=bob, signing_keys=[alice.public_keys])
    ring = kit.Keyring(trust=kit.TrustStore())
    with pytest.raises(kit.TrustError, match="does not say which keys signed it"):
        ring.adopt(dataclasses.replace(change, signer=None))
    assert ring.latest(change.conversation_id) is None
    assert ring.adopt(change).adopted


# ----------------------------------------------------------------------------- the attack, both doors


def test_token_holder_attack_through_both_doors(connect: Connect, door):
    root = connect()
    alice, bob = party(root), party(root)
    trust = kit.TrustStore()
    trust.pin(bob.client.latest_public_keys(alice.id))  # bob's first contact with alice
    init = kit.prepare_key_init(alice.identity, [alice.client.latest_public_keys(bob.id)])
    conversation = alice.client.add_conversation_keys(init, path_id=bob.id).conversation_id
    ring = kit.Keyring(trust=trust)
    assert ring.read(
        bob.client.get_events(conversation).key_changes[-1], recipient=bob.identity, signing_keys=bob.client.get_public_keys(alice.id)
    ).adopted

    # Whoever holds alice's token: new keys registered as a newer version, a key change signed with them.
    version = str(int(alice.identity.version) + 1)
    impostor = kit.Identity.from_seed("impostor (demo only)", alice.id, version=version)
    assert alice.client.register_keys(impostor) == version
    forged = kit.prepare_key_init(impostor, [alice.client.latest_public_keys(bob.id)], conversation_key=bytes(32))
    alice.client.add_conversation_keys(forged, path_id=bob.id)
    event = bob.client.get_events(conversation).key_changes[-1]
    signing_keys = bob.client.get_public_keys(alice.id)  # bob fetches alice's keys: the server has both versions

    plain = kit.read_key_change(event, recipient=bob.identity, signing_keys=signing_keys)
    assert plain.conversation_key == bytes(32)  # plain verification accepts it: what notebook 05 says

    with pytest.raises(kit.TrustError) as err:
        ring.read(event, recipient=bob.identity, signing_keys=signing_keys)
    assert err.value.user_id == alice.id
    assert err.value.pinned_fingerprint == alice.identity.fingerprint and err.value.fingerprint == impostor.fingerprint
    message = str(err.value)
    assert alice.identity.fingerprint in message and impostor.fingerprint in message and "nothing was adopted" in message
    assert "accept_change" in message and "\n" not in message
    latest = ring.latest(conversation)
    assert latest is not None and latest.conversation_key == init.conversation_key  # nothing adopted
    assert list(ring.keys(conversation)) == [init.conversation_key_version]

    trust.accept_change(impostor.public_keys)  # bob decides the new keys are alice's
    adoption = ring.read(event, recipient=bob.identity, signing_keys=signing_keys)
    assert adoption.adopted and ring.latest(conversation).conversation_key == bytes(32)


# ----------------------------------------------------------------------------- the lying server


def test_lying_server_end_to_end():
    api = kit.connect(quiet=True)
    alice = kit.Identity.from_seed("alice (demo only)", ALICE_ID)
    bob = kit.Identity.from_seed("bob (demo only)", BOB_ID)
    mallory = kit.Identity.from_seed("mallory (demo only)", "1999999999999999999")
    alice_api = api.sandbox_user("alice", user_id=ALICE_ID)
    bob_api = api.sandbox_user("bob", user_id=BOB_ID)
    alice_api.register_keys(alice)
    bob_api.register_keys(bob)

    api.sandbox.lie(swap_keys_of=ALICE_ID, with_keys=mallory.public_keys)
    seen = bob_api.latest_public_keys(ALICE_ID)  # binding verifies: mallory's record is self-consistent
    assert (seen.user_id, seen.version, seen.public_key) == (ALICE_ID, "1", mallory.public_keys.public_key)
    assert [k.public_key for k in bob_api.get_users_public_keys([ALICE_ID]).keys[ALICE_ID]] == [mallory.public_keys.public_key]

    init = kit.prepare_key_init(bob, [seen])  # bob wraps to mallory without knowing
    bob_api.add_conversation_keys(init, path_id=ALICE_ID)
    event = alice_api.get_events(init.conversation_id).key_changes[-1]
    entry = next(p for p in init.detail.participant_keys if p.user_id == ALICE_ID)
    assert mallory.unwrap(entry.encrypted_conversation_key) == init.conversation_key  # mallory reads it
    with pytest.raises(kit.DecryptionError):
        kit.read_key_change(event, recipient=alice, signing_keys=alice_api.get_public_keys(BOB_ID))  # alice cannot

    bobs_screen = kit.comparison_code(bob, seen)
    alices_screen = kit.comparison_code(alice, alice_api.latest_public_keys(BOB_ID))
    assert bobs_screen != alices_screen  # read aloud, they differ: that is how they find out
    with pytest.raises(kit.TrustError, match="does not match"):
        kit.TrustStore().verify(seen, code=alices_screen, mine=bob)

    trust = kit.TrustStore()
    api.sandbox.lie(swap_keys_of=ALICE_ID, with_keys=None)  # the truth again
    trust.verify(bob_api.latest_public_keys(ALICE_ID), code=alices_screen, mine=bob)
    api.sandbox.lie(swap_keys_of=ALICE_ID, with_keys=mallory.public_keys)
    assert trust.check(bob_api.latest_public_keys(ALICE_ID)).state == "changed"  # verified keys catch a later lie


def test_only_the_in_process_sandbox_can_lie(served):
    with kit.connect(base_url=served.url, quiet=True) as remote:
        with pytest.raises(kit.KitError, match="not to an in-process sandbox"):
            remote.sandbox  # noqa: B018
        for method, path in (("POST", "/sandbox/lie"), ("POST", "/2/sandbox/lie"), ("GET", "/sandbox/lie")):
            assert remote.http.request(method, path, json={}).status_code in (401, 404)
    assert not [r for r in kit.sandbox.Sandbox.ROUTES.values() if "lie" in r[1]]
    with kit.connect(token="not-a-real-token", quiet=True) as live:
        with pytest.raises(kit.KitError, match="api.x.com"):
            live.sandbox  # noqa: B018
    local = kit.connect(quiet=True)
    assert isinstance(local.sandbox, kit.sandbox.Sandbox)
    with pytest.raises(TypeError, match="with_keys must be kit.PublicKeys"):
        local.sandbox.lie(swap_keys_of=ALICE_ID, with_keys="keys")
