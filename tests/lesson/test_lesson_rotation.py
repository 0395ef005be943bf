"""kit.lesson.rotation: the version, replay and group checks pass the right answer and name each mistake."""

from __future__ import annotations

from typing import Any

import pytest

import kit
from kit.lesson import rotation

V1, V2 = "1795545957535", "1795632357535"


@pytest.mark.parametrize("answer", [V2, str(int(V1) + 1)])
def test_newer_versions_pass(answer: str) -> None:
    assert rotation.check_next_version(answer, latest=V1)


def test_a_far_future_version_is_named() -> None:
    c = rotation.check_next_version("17955459575350", latest=V1)  # a zero too many: the year 2539
    assert not c and "more than a day in the future" in c.message


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (V1, "latest version itself"),
        ("1795545957000", "older than the latest"),
        ("999999999999", "sorts after"),
        (int(V2), "decimal strings"),
        ("1795 632357535", "decimal digits and nothing else"),
        ("", "decimal digits and nothing else"),
        (1.5, "str of digits"),
        (None, "return"),
        (..., "fill in the blank"),
    ],
)
def test_each_version_mistake_is_named(answer: Any, said: str) -> None:
    c = rotation.check_next_version(answer, latest=V1)
    assert not c and said in c.message, c.message


def _events(alice: kit.Identity, bob: kit.Identity) -> list[bytes]:
    out = []
    for seq, (version, key) in enumerate([(V1, bytes(range(32))), (V2, bytes(range(32, 64)))], start=1):
        init = kit.prepare_key_init(alice, [bob.public_keys], version=version, conversation_key=key)
        out.append(kit.protocol.key_change_event(init.body, sender_id=alice.user_id, conversation_id=init.conversation_id,
                                                 sequence_id=str(seq), created_at_msec="0").encode())  # fmt: skip
    return out


def test_replayed_change(alice: kit.Identity, bob: kit.Identity) -> None:
    first, second = _events(alice, bob)
    served = [first, second, first]
    right = rotation.check_replayed_change("keep the newest", events=served, recipient=bob, signing_keys=[alice.public_keys])
    assert right and right.message.startswith("✓ the recipient keeps the newest")
    for wrong, said in [("adopt it", "take the conversation back"), ("reject it as forged", "not forged"), ("ignore", "answer with one of"), (..., "fill in the blank")]:
        c = rotation.check_replayed_change(wrong, events=served, recipient=bob, signing_keys=[alice.public_keys])
        assert not c and said in c.message, c.message
    # in the order of the versions, the second one is adopted: the check follows the keyring, not a fixed answer
    assert rotation.check_replayed_change("adopt it", events=[first, second], recipient=bob, signing_keys=[alice.public_keys])


def test_a_forged_last_event_is_rejected(alice: kit.Identity, bob: kit.Identity, carol: kit.Identity) -> None:
    first, _ = _events(alice, bob)
    forged_init = kit.prepare_key_init(carol, [bob.public_keys], version=V2)
    forged = kit.protocol.key_change_event(forged_init.body, sender_id=alice.user_id, conversation_id=f"{alice.user_id}:{bob.user_id}",
                                           sequence_id="3", created_at_msec="0").encode()  # fmt: skip
    served = [first, forged]
    assert rotation.check_replayed_change("reject it as forged", events=served, recipient=bob, signing_keys=[alice.public_keys])


def test_group_participants(alice: kit.Identity, bob: kit.Identity, carol: kit.Identity) -> None:
    init = kit.prepare_key_init(alice, [bob.public_keys, carol.public_keys], conversation_id="g123", version=V1)
    ids = {alice.user_id, bob.user_id, carol.user_id}
    assert rotation.check_group_participants(ids, init=init, creator=alice)
    assert rotation.check_group_participants(sorted(ids), init=init, creator=alice)
    for wrong, said in [
        (ids - {alice.user_id}, "the creator is missing"),
        (ids - {bob.user_id}, "missing"),
        (ids | {"1"}, "not in this group"),
        ({int(i) for i in ids}, "strings"),
        ("all of them", "a set of user ids"),
        (..., "fill in the blank"),
        (None, "return"),
    ]:
        c = rotation.check_group_participants(wrong, init=init, creator=alice)
        assert not c and said in c.message, (wrong, c.message)
