"""kit.ids: conversation ids in every spelling, user ids, key versions."""

from __future__ import annotations

import threading
import time

import pytest

from kit.errors import WireFormatError
from kit.ids import (
    MAX_VERSION_SKEW_MS,
    PATH_ID_PATTERN,
    ConversationId,
    check_user_id,
    check_version,
    new_version,
    version_key,
)

A = "1215441834412953600"
B = "1603419180975409153"


# ----------------------------------------------------------------------------- parse


@pytest.mark.parametrize("text", [f"{A}:{B}", f"{B}:{A}", f"{A}-{B}", f"{B}-{A}"])
def test_pair_spellings_canonicalise(text):
    cid = ConversationId.parse(text)
    assert cid.canonical == f"{A}:{B}"
    assert cid.path == f"{A}-{B}"
    assert cid.members == (A, B)
    assert not cid.is_group
    assert str(cid) == cid.canonical


@pytest.mark.parametrize(("caller", "bare"), [(A, B), (B, A)])
def test_bare_id_needs_caller(caller, bare):
    assert ConversationId.parse(bare, caller=caller).canonical == f"{A}:{B}"
    with pytest.raises(WireFormatError, match="bare user id.*caller"):
        ConversationId.parse(bare)


def test_bare_id_with_bad_caller():
    with pytest.raises(WireFormatError, match="user id"):
        ConversationId.parse(B, caller="alice")


@pytest.mark.parametrize("gid", ["g1", "g1234567890123456789", "g0"])
def test_group_ids_pass_through(gid):
    cid = ConversationId.parse(gid, caller=A)
    assert cid.canonical == gid
    assert cid.path == gid
    assert cid.is_group
    assert cid.members == ()


def test_canonical_vs_path_form():
    cid = ConversationId.pair("20", "3")
    assert (cid.canonical, cid.path) == ("3:20", "3-20")


@pytest.mark.parametrize(
    ("a", "b", "lo", "hi"),
    [
        ("9", "10", "9", "10"),
        ("10", "9", "9", "10"),
        ("99", "100", "99", "100"),
        ("2", "11", "2", "11"),
        ("999999999999999999", "1000000000000000000", "999999999999999999", "1000000000000000000"),
        ("5", "5", "5", "5"),
    ],
)
def test_numeric_order_not_text_order(a, b, lo, hi):
    cid = ConversationId.pair(a, b)
    assert cid.canonical == f"{lo}:{hi}"
    assert ConversationId.parse(f"{a}-{b}").canonical == f"{lo}:{hi}"


@pytest.mark.parametrize("spelling", ["01", "0000000000000000001", "09", "00"])
def test_leading_zeros_are_refused_not_another_user(spelling):
    # "0000000000000000001" is not a second spelling of user "1": one user, one id.
    with pytest.raises(WireFormatError, match="no leading zero"):
        ConversationId.pair(spelling, "1")
    with pytest.raises(WireFormatError, match="no leading zero"):
        ConversationId.parse(f"10-{spelling}")


def test_user_zero_is_refused():
    with pytest.raises(WireFormatError, match="a user id is not 0"):
        check_user_id("0")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "non-empty"),
        ("g", "'g' and 1 to 19 digits"),
        ("gabc", "'g' and 1 to 19 digits"),
        ("g12345678901234567890", "'g' and 1 to 19 digits"),
        ("g12\n", "'g' and 1 to 19 digits"),
        ("abc", "1 to 19 decimal digits"),
        ("12345678901234567890", "1 to 19 decimal digits"),
        ("1:", "second user id"),
        (":1", "first user id"),
        ("1-", "second user id"),
        ("1:2:3", "second user id"),
        ("1-2-3", "second user id"),
        ("1:2-3", "second user id"),
        ("x-1", "first user id"),
        (" 1:2", "first user id"),
        ("1:2 ", "second user id"),
        ("1:2\n", "second user id"),
        ("+1:2", "first user id"),
        ("1:٢", "second user id"),
    ],
)
def test_bad_ids_name_the_problem(text, fragment):
    with pytest.raises(WireFormatError) as info:
        ConversationId.parse(text, caller="7")
    assert fragment in str(info.value)


@pytest.mark.parametrize("value", [None, 12, b"1:2", ["1", "2"]])
def test_non_string_ids(value):
    with pytest.raises(WireFormatError, match="must be a non-empty string"):
        ConversationId.parse(value)


# ----------------------------------------------------------------------------- pattern


@pytest.mark.parametrize(
    "text", ["1", "1234567890123456789", "1-2", f"{A}-{B}", f"{B}-{A}", "g1", "g1234567890123456789"]
)
def test_path_pattern_accepts(text):
    assert PATH_ID_PATTERN.match(text)
    assert PATH_ID_PATTERN.fullmatch(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "g",
        "1:2",
        "12345678901234567890",
        "1-12345678901234567890",
        "g12345678901234567890",
        "1-2-3",
        "G1",
        "-1",
        "1-",
        "1-2\n",
        "1\n",
        "g1\n",
        " 1",
        "1 ",
        "a",
    ],
)
def test_path_pattern_rejects(text):
    assert PATH_ID_PATTERN.match(text) is None
    assert PATH_ID_PATTERN.search(text) is None


def test_parsed_path_always_matches_pattern():
    for text in ["9-10", "10:9", "g77", f"{B}:{A}"]:
        assert PATH_ID_PATTERN.match(ConversationId.parse(text).path)


# ----------------------------------------------------------------------------- user ids and versions


@pytest.mark.parametrize("good", ["1", A, "1234567890123456789", "9223372036854775807"])
def test_check_user_id_accepts(good):
    assert check_user_id(good) == good
    assert check_user_id(good, i64=True) == good


def test_check_user_id_i64_bound():
    assert check_user_id("9" * 19) == "9" * 19  # a well-formed id (the API's pattern): it names nobody
    for bad in ("9223372036854775808", "9" * 19):
        with pytest.raises(WireFormatError, match="an i64"):
            check_user_id(bad, i64=True)


@pytest.mark.parametrize(
    "bad",
    ["", "12345678901234567890", "12a", "1\n", " 1", "-1", "١٢", None, 12, b"12",
     "0", "01", "0000000000000000001", "²", "١٢٣٤", "１２３", "1\ud800"],
)  # fmt: skip
def test_check_user_id_rejects(bad):
    with pytest.raises(WireFormatError, match=r"^sender must be 1 to 19 decimal digits, got "):
        check_user_id(bad, what="sender")


@pytest.mark.parametrize("good", ["0", "1", "1795545957535", str(int(time.time() * 1000) + MAX_VERSION_SKEW_MS - 60_000)])
def test_check_version_accepts(good):
    assert check_version(good) == good


@pytest.mark.parametrize(
    "bad",
    ["", "9" * 31, "9" * 30, "9" * 20, "9223372036854775808", "1.5", "1\n", "v1", " 1", "-1", None, 1, b"1",
     "01700000000000", "007", "00", "²", "١٢٣", "１２３", "1\ud800"],
)  # fmt: skip
def test_check_version_rejects(bad):
    with pytest.raises(WireFormatError, match=r"^key version must be a string of decimal digits, got "):
        check_version(bad, what="key version")


def test_check_version_names_the_leading_zero_rule():
    with pytest.raises(WireFormatError, match="no leading zero"):
        check_version("01700000000000")


@pytest.mark.parametrize("ahead_ms", [MAX_VERSION_SKEW_MS + 60_000, 10 * 365 * MAX_VERSION_SKEW_MS])
def test_check_version_refuses_the_far_future(ahead_ms):
    now = 1_800_000_000_000
    assert check_version(str(now + MAX_VERSION_SKEW_MS), now_ms=now)  # a day of skew is fine
    with pytest.raises(WireFormatError, match="more than one day in the future"):
        check_version(str(now + ahead_ms), what="$.version", now_ms=now)
    with pytest.raises(WireFormatError, match="more than one day in the future"):
        check_version(str(int(time.time() * 1000) + ahead_ms))
    assert version_key(str(now + ahead_ms)) == now + ahead_ms  # comparing stored versions has no clock


def test_version_key_is_numeric():
    assert version_key("9") < version_key("10")
    assert "9" > "10"  # the trap the function exists for
    assert sorted(["10", "9", "100", "1795545957535", "2"], key=version_key) == ["2", "9", "10", "100", "1795545957535"]
    for bad in ("007", "1e3", "²", "9" * 20):
        with pytest.raises(WireFormatError):
            version_key(bad)


# ----------------------------------------------------------------------------- new_version


def test_new_version_is_digits_and_near_now():
    import time

    v = new_version()
    assert check_version(v) == v
    assert abs(int(v) - time.time() * 1000) < 60_000 or int(v) > time.time() * 1000  # may run ahead after bursts


def test_new_version_strictly_increasing_same_now():
    start = int(new_version()) + 1_000
    got = [new_version(now_ms=start) for _ in range(50)]
    nums = [int(v) for v in got]
    assert nums[0] == start
    assert all(b > a for a, b in zip(nums, nums[1:], strict=False))
    assert nums == list(range(start, start + 50))


def test_new_version_never_goes_back():
    high = int(new_version()) + 1_000
    assert int(new_version(now_ms=high)) == high
    assert int(new_version(now_ms=1)) == high + 1
    assert int(new_version()) > high + 1


def test_new_version_across_threads():
    out: list[str] = []
    lock = threading.Lock()
    stamp = int(new_version()) + 1_000

    def worker():
        mine = [new_version(now_ms=stamp) for _ in range(200)]
        mine += [new_version() for _ in range(50)]
        with lock:
            out.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(out) == 8 * 250
    assert len(set(out)) == len(out), "two threads got the same version"
    assert all(check_version(v) for v in out)
