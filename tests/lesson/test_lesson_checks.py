"""kit.lesson: the generic checks say ✓ or ✗ in one line and never raise for an expected mistake."""

from __future__ import annotations

import pytest

import kit
from kit import lesson


def test_blank_answers() -> None:
    for blank in (..., [1, ...], {"a": ...}, (...,)):
        for check in (
            lesson.check_equal(blank, 1, right="one"),
            lesson.check_text(blank, "x", right="x"),
            lesson.check_bytes(blank, b"x", right="x"),
            lesson.check_choice(blank, "a", choices={"a": "yes"}, right="a"),
        ):
            assert not check and check.message == lesson.BLANK


def test_none_is_a_missing_return() -> None:
    assert "return" in lesson.check_equal(None, 1, right="one").message


def test_equal_and_mistakes() -> None:
    assert lesson.check_equal(3, 3, right="three").message == "✓ three"
    c = lesson.check_equal(4, 3, right="three", mistakes=[(4, "off by one")])
    assert not c and c.message == "✗ off by one"
    assert lesson.check_equal("3", 3, right="three").message == "✗ the answer should be a int, got a str"
    assert lesson.check_equal(5, 3, right="three").message == "✗ not yet: that is not three"
    assert lesson.check_equal(2, 3, right="three", mistakes=[lambda a: "too small" if a < 3 else None]).message == "✗ too small"


def test_text_says_where_it_differs() -> None:
    assert lesson.check_text("abc", "abc", right="it")
    assert lesson.check_text("abd", "abc", right="it").message == "✗ not yet: character 2 is 'd', it has 'c' there"
    assert "stops after 2" in lesson.check_text("ab", "abc", right="it").message
    assert "goes on" in lesson.check_text("abcd", "abc", right="it").message
    assert "decode" in lesson.check_text(b"abc", "abc", right="it").message


def test_bytes_names_the_field() -> None:
    fields = [("head", 2), ("body", 3)]
    assert lesson.check_bytes(bytearray(b"abcde"), b"abcde", right="it", fields=fields)
    assert lesson.check_bytes(b"abXde", b"abcde", right="it", fields=fields).message == (
        "✗ not yet: your bytes differ from it at byte 2 (in the body, bytes 2–4)"
    )
    assert "5" in lesson.check_bytes(b"abcd", b"abcde", right="it").message
    assert "not base64 or hex" in lesson.check_bytes("6162", b"ab", right="it").message
    assert "got a int" in lesson.check_bytes(7, b"ab", right="it").message


def test_choice() -> None:
    choices = {"a": "because a", "b": "b is wrong because"}
    assert lesson.check_choice("a", "a", choices=choices, right="it").message == "✓ it: because a"
    assert lesson.check_choice("b", "a", choices=choices, right="it").message == "✗ b is wrong because"
    assert "one of" in lesson.check_choice("c", "a", choices=choices, right="it").message


def test_topics_load_lazily_and_unknown_names_are_attribute_errors() -> None:
    assert kit.lesson.wrapping.check_wrap
    with pytest.raises(AttributeError):
        kit.lesson.no_such_topic  # noqa: B018


def test_a_blank_function_and_a_learners_call() -> None:
    def blank(a, b):  # what the student copy leaves: a signature and `...`
        ...

    def written(a, b):
        return a + b

    def broken(a, b):
        raise ValueError("oops")

    assert lesson.does_nothing(blank) and not lesson.does_nothing(written) and not lesson.does_nothing(len)
    assert lesson.call_learner(written, 1, 2) == (3, None)
    result, err = lesson.call_learner(broken, 1, 2)
    assert result is None and isinstance(err, ValueError)
