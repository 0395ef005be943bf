"""kit.tables: the pandas views the notebooks show. Layouts tile their bytes, values match the spec, nothing secret."""

from __future__ import annotations

import base64
import io
import subprocess
import sys

import pandas as pd
import pytest

import kit
import kit.tables as T
from kit.encoding import b64
from kit.errors import APIError, Problem
from kit.protocol import key_change_event

DEMO_KEY = bytes(range(32))
DEMO_MID = "5b0b8f0e-8c1f-4d7e-9a51-3f5c2b9d7e10"
DEMO_VERSION = "1795545957535"


@pytest.fixture
def init(alice, bob) -> kit.KeyInit:
    return kit.prepare_key_init(alice, [bob.public_keys], version=DEMO_VERSION, message_id=DEMO_MID, conversation_key=DEMO_KEY)


def _event(init: kit.KeyInit, sender: str, seq: str = "2070276095283454101") -> str:
    event = key_change_event(
        init.body, sender_id=sender, conversation_id=init.conversation_id, sequence_id=seq, created_at_msec="1795545957535"
    )
    return b64(event.encode())


def _tiles(offsets, lengths, total: int) -> bool:
    pos = 0
    for offset, length in zip(offsets, lengths):
        if offset != pos:
            return False
        pos += length
    return pos == total


def _secret_forms(identity: kit.Identity) -> list[str]:
    blob = identity.export_keys()
    forms = []
    for part in (blob[:32], blob[32:]):
        forms += [part.hex(), part.hex(" "), base64.b64encode(part).decode().rstrip("=")]
    return forms


# ------------------------------------------------------------------------------ import cost and Table


def test_import_kit_does_not_load_pandas_or_matplotlib():
    code = "import sys, kit; assert 'pandas' not in sys.modules and 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_table_shows_long_text_whole():
    text = "x" * 120
    table = T.Table([(text,)], columns=["detail"])
    assert text in repr(table)
    assert text in table._repr_html_()
    assert isinstance(table[table["detail"] == text], T.Table)


# ------------------------------------------------------------------------------ byte maps


def test_byte_map_refuses_segments_that_do_not_tile():
    with pytest.raises(ValueError, match="starts at 2, expected 1"):
        T.ByteMap(b"abc", [T.Segment(0, 1, "a"), T.Segment(2, 1, "c")], title="gap")
    with pytest.raises(ValueError, match="cover 2 bytes of 3"):
        T.ByteMap(b"abc", [T.Segment(0, 2, "ab")], title="short")


def test_wrapped_key_map_layout(bob):
    wrapped = kit.wrap.wrap(DEMO_KEY, bob.public_keys.public_key)
    table = T.wrapped_key_map(b64(wrapped)).table
    assert list(table["length"]) == [1, 32, 32, 32, 16]
    assert _tiles(table["offset"], table["length"], 113)
    assert table["hex"][0] == "04"
    with pytest.raises(ValueError, match="113 bytes"):
        T.wrapped_key_map(wrapped[:-1])


def test_byte_map_text_html_and_picture(alice):
    bmap = T.spki_map(alice.public_keys.public_key)
    text = repr(bmap)
    assert text.startswith("SPKI public key, 91 bytes")
    assert "30 59 30 13 06 07 2a 86 48 ce 3d 02 01" in text
    html_a = bmap._repr_html_()
    assert html_a == T.spki_map(alice.public_keys.public_key)._repr_html_(), "the same bytes give the same HTML"
    assert "background-color" in html_a and "prime256v1" in html_a
    assert T.spki_map(alice.public_keys.signing_public_key)._repr_html_() != html_a
    fig = bmap.plot()
    assert type(fig).__name__ == "Figure"


def test_spki_map_header_is_the_fixed_prefix(alice):
    bmap = T.spki_map(alice.public_keys.public_key)
    header = sum(s.length for s in bmap.segments[:8])
    assert bmap.data[:header] == kit.keys.SPKI_PREFIX
    assert bmap.data[header:] == kit.keys.sec1(alice.public_keys.identity_key)


def test_signature_and_sealed_message_maps(alice):
    sig = alice.sign(b"payload")
    assert list(T.signature_map(kit.signature.encode_signature(sig)).table["field"]) == ["r", "s"]
    sealed = kit.message.seal_text("hello", DEMO_KEY, nonce=bytes(24))
    table = T.sealed_message_map(sealed).table
    assert list(table["length"]) == [24, 16, len(sealed) - 40]


def test_wrap_steps_table_rows(bob):
    from cryptography.hazmat.primitives.asymmetric import ec

    steps = kit.wrap.wrap_steps(DEMO_KEY, bob.public_keys.public_key, ephemeral=ec.derive_private_key(7, ec.SECP256R1()))
    table = T.wrap_steps_table(steps)
    assert list(table["length"]) == [65, 32, 32, 16, 16, 32, 16, 113]
    assert all(len(h) <= 49 for h in table["hex"]), "at most 16 bytes of hex per cell"


def test_tamper_table_names_the_field_and_the_error(bob):
    wrapped = kit.wrap.wrap(DEMO_KEY, bob.public_keys.public_key)
    table = T.tamper_table(bob, wrapped, [0, 70, 100])
    assert list(table["field"]) == ["04: uncompressed point", "ciphertext (AES-128-GCM of the conversation key)", "GCM tag"]
    assert table["unwrap"][0].startswith("WireFormatError:")
    assert table["unwrap"][1].startswith("DecryptionError:")
    assert table["unwrap"][2].startswith("DecryptionError:")


def test_sealed_key_table_shows_no_secret_or_random_bytes(alice):
    sealed = alice.export_protected("pass phrase")
    table = T.sealed_key_table(sealed)
    assert list(table["length"]) == [5, 4, 4, 16, 24, 16, len(sealed) - 69]
    shown = repr(table) + table._repr_html_()
    assert sealed[13:29].hex() not in shown and sealed[13:29].hex(" ") not in shown
    for form in _secret_forms(alice):
        assert form not in shown


# ------------------------------------------------------------------------------ Thrift


def test_thrift_table_matches_the_decoded_sample_in_the_spec(init):
    """../shared/spec/wire-format.md §3: the offsets of a two-participant detail, 425 bytes."""
    table = T.thrift_table(init.encoded_detail)
    assert _tiles(table["offset"], table["length"], 425)
    assert list(table["offset"]) == [0, 3, 23, 31, 57, 216, 224, 225, 251, 410, 418, 419, 423, 424]
    assert table["wire"][0] == "0c 00 03"
    assert table["wire"][2] == "0f 00 02 0c 00 00 00 02"
    assert table["wire"][4] == "0b 00 02 00 00 00 98"
    assert table["value"][1] == "'1795545957535'"
    assert table["value"][11] == "false"
    assert table["field"][4] == "· · [0] encrypted_conversation_key"


def test_thrift_table_reads_base64_envelopes_and_times(init, alice):
    table = T.thrift_table(_event(init, alice.user_id), struct="MessageEvent")
    assert table["field"][0] == "sequence_id"
    created = table[table["field"] == "created_at_msec"]["value"].iloc[0]
    assert created == "2026-11-24 18:45:57.535 UTC (13 digits)"
    raw = base64.b64decode(_event(init, alice.user_id))
    assert _tiles(table["offset"], table["length"], len(raw))


def test_thrift_table_on_message_structs():
    text = kit.thrift.encode_text("hello")
    table = T.thrift_table(text, struct="MessageEntryHolder")
    assert "'hello'" in list(table["value"])
    mce = kit.thrift.MessageCreateEvent(b"\x00" * 45, DEMO_VERSION, True, 60000)
    table = T.thrift_table(mce.encode(), struct="MessageCreateEvent")
    assert list(table["field"]) == ["contents", "conversation_key_version", "should_notify", "ttl_msec", "STOP"]
    assert table["value"][0].startswith("45 bytes: 00 00")


def test_thrift_table_refuses_malformed_bytes(init):
    with pytest.raises(kit.WireFormatError):
        T.thrift_table(init.encoded_detail[:-1])


def test_thrift_map_colours_by_field_name(init):
    bmap = T.thrift_map(init.encoded_detail)
    kinds = {s.kind for s in bmap.segments}
    assert {"encrypted_conversation_key", "user_id", "structure (headers, STOP)"} <= kinds


# ------------------------------------------------------------------------------ keys, requests, events


def test_participants_and_public_keys_tables(init, alice, bob):
    table = T.participants_table(init)
    assert sorted(table["user_id"]) == sorted([alice.user_id, bob.user_id])
    assert set(table["fingerprint"]) == {alice.fingerprint, bob.fingerprint}
    assert all(v.endswith("(152 chars)") and v.startswith("'B") for v in table["encrypted_conversation_key"])
    keys = T.public_keys_table([bob.public_keys])
    assert keys["binding"][0] == "verified"


def test_public_keys_table_shows_a_broken_binding(alice, bob):
    import dataclasses

    swapped = dataclasses.replace(alice.public_keys, public_key=bob.public_keys.public_key)
    assert T.public_keys_table([swapped])["binding"][0].startswith("SignatureError:")


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


def test_events_key_changes_and_messages(init, alice, bob):
    first = _event(init, alice.user_id)
    newer = kit.prepare_key_init(alice, [bob.public_keys], version="1795545960000", conversation_key=bytes(range(1, 33)))
    second = _event(newer, alice.user_id, seq="2070276095283454102")
    events = T.events_table([second, first])
    assert list(events["sequence_id"]) == ["2070276095283454101", "2070276095283454102"]
    assert set(events["kind"]) == {"key change"}

    table = T.key_changes_table([first, second, first], recipient=bob, signing_keys=[alice.public_keys])
    assert list(table["recipient's check"][:2]) == ["verified, adopted", "verified, adopted"]
    assert table["recipient's check"][2] == "verified, not adopted: not newer than 1795545960000"
    assert list(table["newest adopted"]) == ["1795545957535", "1795545960000", "1795545960000"]

    impostor = kit.Identity.from_seed("impostor (demo only)", alice.user_id, version="1")
    forged = _event(kit.prepare_key_init(impostor, [bob.public_keys], version="1795545970000"), alice.user_id)
    row = T.key_changes_table([forged], recipient=bob, signing_keys=[alice.public_keys]).iloc[0]
    assert row["recipient's check"].startswith("SignatureError:")
    assert row["newest adopted"] == ""

    # the latest adopted version is per conversation: a group's older version is still its first
    group_init = kit.prepare_key_init(alice, [bob.public_keys], conversation_id="g9", version="1795545950000")
    group = _event(group_init, alice.user_id)
    mixed = T.key_changes_table([second, group, first], recipient=bob, signing_keys=[alice.public_keys])
    assert list(mixed["recipient's check"][:2]) == ["verified, adopted", "verified, adopted"]
    assert list(mixed["newest adopted"]) == ["1795545960000", "1795545950000", "1795545960000"]

    msg = kit.prepare_message(alice, init.conversation_id, "hi", conversation_key=DEMO_KEY, conversation_key_version=DEMO_VERSION)
    mevent = kit.thrift.MessageEvent(
        "2070276095283454103", msg.message_id, alice.user_id, init.conversation_id, "1795545957600",
        msg.create_event.encode_detail(), kit.thrift.read_event_signature(base64.b64decode(msg.body["encoded_message_event_signature"])),
    )  # fmt: skip
    messages = T.messages_table([b64(mevent.encode())], conversation_keys={DEMO_VERSION: DEMO_KEY}, signing_keys=[alice.public_keys])
    assert messages["text"][0] == "hi" and messages["check"][0] == "verified"
    wrong = T.messages_table([b64(mevent.encode())], conversation_keys={DEMO_VERSION: bytes(32)}, signing_keys=[alice.public_keys])
    assert wrong["check"][0].startswith("DecryptionError:")


# ------------------------------------------------------------------------------ problems


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


# ------------------------------------------------------------------------------ cost and progress


def test_progress_bar_ends_its_line_and_shows_no_time():
    out = io.StringIO()
    bar = T.progress_bar("wrapping", width=10, stream=out)
    for done in (256, 512, 600):
        bar(done, 600)
    text = out.getvalue()
    assert text.endswith("\rwrapping [##########] 600/600\n")
    assert text.count("\n") == 1


def test_wrap_cost_and_its_plot(alice):
    members = T.demo_members(12)
    assert len({pk.user_id for pk in members}) == 12
    calls = []
    cost = T.wrap_cost(alice, members, [1, 4, 12], progress=lambda d, t: calls.append((d, t)))
    assert isinstance(cost, pd.DataFrame)
    assert list(cost["participants"]) == [2, 5, 13]
    assert calls == [(1, 17), (5, 17), (17, 17)]
    assert (cost["seconds"] > 0).all()
    assert type(T.plot_wrap_cost(cost)).__name__ == "Figure"
    with pytest.raises(ValueError, match="needs 20 members"):
        T.wrap_cost(alice, members, [20])


# ------------------------------------------------------------------------------ nothing secret


def test_no_view_shows_a_private_key(init, alice, bob):
    views = [
        T.spki_map(alice.public_keys.public_key),
        T.signature_map(init.signature),
        T.thrift_table(init.encoded_detail),
        T.participants_table(init),
        T.request_table(init.body),
        T.public_keys_table([alice.public_keys, bob.public_keys]),
        T.key_changes_table([_event(init, alice.user_id)], recipient=bob, signing_keys=[alice.public_keys]),
    ]
    shown = "".join(repr(v) + (v._repr_html_() or "") for v in views)
    for form in _secret_forms(alice) + _secret_forms(bob):
        assert form not in shown
    assert DEMO_KEY.hex() not in shown
