"""kit.lesson.init_call: the key-version and path-id checks pass the right answer and name each mistake."""

from __future__ import annotations

from typing import Any

import pytest

import kit
from kit.lesson import init_call

ALICE_ID = "1215441834412953600"
BOB_ID = "1603419180975409153"


@pytest.fixture
def records() -> list[kit.PublicKeys]:
    """Bob registered twice: version 9, then 10 (newest as a number, not as text)."""
    return [kit.Identity.from_seed("bob (demo only)", BOB_ID, version=v).public_keys for v in ("9", "10")]


def test_the_right_versions_pass(alice: kit.Identity, records: list[kit.PublicKeys]) -> None:
    assert init_call.check_participant_version("10", registered=records, sender=alice)
    assert init_call.check_signer_version("1", sender=alice, registered=records)


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ("9", "sorts last as text"),
        ("1", "sender's key version"),
        (10, "decimal strings"),
        (..., "fill in the blank"),
        ("11", "not yet"),
    ],
)
def test_each_participant_version_mistake_is_named(alice: kit.Identity, records: list[kit.PublicKeys], answer: Any, said: str) -> None:
    c = init_call.check_participant_version(answer, registered=records, sender=alice)
    assert not c and said in c.message, c.message


def test_an_older_version_that_is_not_the_text_maximum(alice: kit.Identity) -> None:
    recs = [kit.Identity.from_seed("bob (demo only)", BOB_ID, version=v).public_keys for v in ("3", "9", "10")]
    c = init_call.check_participant_version("3", registered=recs, sender=alice)
    assert not c and "older key of the recipient" in c.message


@pytest.mark.parametrize(
    ("answer", "said"),
    [("10", "key version of the recipient"), ("9", "key version of the recipient"), ("7", "signature_version"), (1, "decimal strings"), (..., "fill in the blank")],
)
def test_each_signer_version_mistake_is_named(alice: kit.Identity, records: list[kit.PublicKeys], answer: Any, said: str) -> None:
    c = init_call.check_signer_version(answer, sender=alice, registered=records)
    assert not c and said in c.message, c.message


def test_path_id() -> None:
    canonical = f"{ALICE_ID}:{BOB_ID}"
    assert init_call.check_path_id(f"{ALICE_ID}-{BOB_ID}", conversation_id=canonical)
    for wrong, said in [
        (canonical, "canonical id with a colon"),
        (f"{BOB_ID}-{ALICE_ID}", "reversed"),
        (f"{BOB_ID}:{ALICE_ID}", "colon form, reversed"),
        (BOB_ID, "bare user id"),
        (ALICE_ID, "bare user id"),
        (..., "fill in the blank"),
        (b"x", "got bytes"),
    ]:
        c = init_call.check_path_id(wrong, conversation_id=canonical)
        assert not c and said in c.message, (wrong, c.message)
    assert init_call.check_path_id("g123", conversation_id="g123")
