"""kit.content: the plaintext structs of every message kind, written and read (no SDK here; see test_interop_kinds)."""

from __future__ import annotations

import pytest

import kit
from kit import content as c
from kit.thrift import read_text


def test_plain_text_is_the_text_encoding():
    assert c.encode_message("hello") == kit.thrift.encode_text("hello")
    assert c.read_content(c.encode_message("hello")) == c.Content("text", "hello")


def test_entity_layout():
    # RichTextEntity{1 i32 start, 2 i32 end, 3 RichTextContent{3 mention{}}}
    assert kit.Entity("mention", 3, 7).encode().hex() == "08000100000003" "08000200000007" "0c00030c00030000" "00"


def test_message_with_everything_round_trips():
    qr = kit.QuickReply.request("q", [("a", "A"), c.QuickReplyOption("b", "B", "meta", "desc")])
    data = c.encode_message("hi @x", entities=[kit.Entity("mention", 3, 5)], quick_reply=qr)
    got = c.read_content(data)
    assert (got.kind, got.text, got.entities, got.quick_reply) == ("text", "hi @x", (kit.Entity("mention", 3, 5),), qr)
    with pytest.raises(kit.WireFormatError):  # the text-only reader (kit.thrift.read_text) still refuses other kinds
        read_text(c.encode_reaction("1", "👍"))


def test_empty_entity_list_is_kept_distinct_from_none():
    assert c.read_content(c.encode_message("x", entities=[])).entities == ()
    assert c.read_content(c.encode_message("x")).entities is None
    assert c.encode_message("x", entities=[]) != c.encode_message("x")


@pytest.mark.parametrize("remove", [False, True])
def test_reactions_round_trip(remove):
    got = c.read_content(c.encode_reaction("2070276095283454101", "👍", remove=remove))
    assert (got.kind, got.emoji, got.target_sequence_id, got.text) == (
        "reaction_remove" if remove else "reaction_add", "👍", "2070276095283454101", ""
    )


def test_edit_round_trips():
    got = c.read_content(c.encode_edit("5", "new text", entities=[("url", 0, 3)]))
    assert (got.kind, got.text, got.target_sequence_id, got.entities) == ("edit", "new text", "5", (kit.Entity("url", 0, 3),))


def test_preview_round_trips_and_makes_a_reply():
    p = c.Preview(sender_id=42, text="quoted", entities=(kit.Entity("hashtag", 0, 2),), sequence_id="9", message_id="m", raw_event=b"\x00", raw_key_changes=(b"\x00",))
    got = c.read_content(c.encode_message("re", preview=p))
    assert got.kind == "reply" and got.preview == p


def test_quick_reply_dicts_round_trip():
    qr = kit.QuickReply.response("q1", "yes", "m")
    assert kit.QuickReply.from_dict(qr.to_dict()) == qr
    with pytest.raises(kit.WireFormatError, match="'request' or 'response'"):
        c.QuickReply("maybe").encode()


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: kit.Entity("mention", 0, 2**31), "fits in 32 bits"),
        (lambda: kit.Entity("mention", True, 2), "fits in 32 bits"),
        (lambda: c.encode_message("x", entities=["mention"]), "kit.Entity"),
        (lambda: c.encode_message(b"x"), "must be a str"),
        (lambda: c.encode_reaction("1", ""), "needs an emoji"),
    ],
)
def test_bad_values_are_named(make, match):
    with pytest.raises(kit.WireFormatError, match=match):
        make()


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (bytes.fromhex("0c00010c0005000000"), "mark_conversation_read, a kind of content the kit does not read"),
        (bytes.fromhex("0c00010000"), "must set exactly one field"),
        (bytes.fromhex("0c00010c00020b0002000000017800" "0000"), "message_sequence_id is missing"),
        (bytes.fromhex("0c00010c00010f00020c00000001" "0800010000000100" "000000"), "needs start_index, end_index"),
    ],
)
def test_malformed_plaintexts_are_named(data, match):
    with pytest.raises(kit.WireFormatError, match=match):
        c.read_content(data)
