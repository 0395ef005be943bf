"""kit.tables.thrift: the field walker matches the spec's decoded sample and tiles every byte."""

from __future__ import annotations

import base64

import pytest

import kit
import kit.tables as T

from .samples import DEMO_VERSION, key_change_event_b64 as _event, tiles as _tiles


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
