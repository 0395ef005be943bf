"""Self-checking exercises: each check prints one friendly line, ✓ when right, ✗ naming the mistake.

A notebook exercise is three cells (see ../shared/recipes/lesson-format.md and docs/lessons.md):
an `exercise` markdown cell, a `solution` code cell whose answer sits between ``# begin solution`` and
``# end solution`` (the student copy, `make student`, turns each assignment there into ``name = ...``),
and a `check` cell that calls a checker from this package:

    >>> import kit
    >>> kit.lesson.check_text(..., "Event,1001:2002", right="the signed text")
    ✗ fill in the blank: replace the ... with your answer, then run this cell again

The generic checks live here; the per-notebook checkers (which compute the right answer from the
notebook's own values and recognise the mistakes people really make) live in modules named for
their notebook's topic. A check never raises for an expected mistake (a blank, a wrong type,
wrong bytes); it returns a `Check`, whose text is what the notebook shows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import import_module
from typing import Any

__all__ = [
    "Check", "call_learner", "check_bytes", "check_choice", "check_equal", "check_text", "does_nothing", "fail", "is_blank",
    "passed",
]

#: What a check says to a blank answer (an `...` left as it was).
BLANK = "✗ fill in the blank: replace the ... with your answer, then run this cell again"


@dataclass(frozen=True)
class Check:
    """The result of one check: `ok`, and the one line the notebook shows (✓ … or ✗ …)."""

    ok: bool
    message: str

    def __repr__(self) -> str:
        return self.message

    def __bool__(self) -> bool:
        return self.ok


def passed(message: str) -> Check:
    """A passing check: `message` says what is right ("same 113 bytes as kit.wrap")."""
    return Check(True, f"✓ {message}")


def fail(message: str) -> Check:
    """A failing check: `message` names the mistake and what to try."""
    return Check(False, f"✗ {message}")


def is_blank(answer: Any) -> bool:
    """True for an answer left blank: `...`, or a list/tuple/dict that still holds one."""
    if answer is Ellipsis:
        return True
    if isinstance(answer, (list, tuple)):
        return any(is_blank(a) for a in answer)
    if isinstance(answer, dict):
        return any(is_blank(v) for v in answer.values())
    return False


def does_nothing(fn: Callable[..., Any]) -> bool:
    """True for a function whose body is only `...` (the student copy's blank) or a docstring."""
    code = getattr(fn, "__code__", None)
    return code is not None and code.co_code == _blank_body.__code__.co_code and not code.co_names


def _blank_body(*args: Any, **kwargs: Any) -> None:
    ...


def call_learner(fn: Callable[..., Any], *args: Any) -> tuple[Any, BaseException | None]:
    """Call a function a learner wrote: `(result, None)`, or `(None, the exception)` (never a traceback)."""
    try:
        return fn(*args), None
    except Exception as exc:  # a learner's function may raise anything: name it, never show a traceback
        return None, exc


Mistake = tuple[Any, str]  # (a wrong answer people give, what the mistake is)


def _known_mistake(answer: Any, mistakes: Iterable[Mistake | Callable[[Any], str | None]]) -> str | None:
    for m in mistakes:
        if callable(m):
            said = m(answer)
            if said:
                return said
        else:
            wrong, why = m
            try:
                if type(answer) is type(wrong) and answer == wrong:
                    return why
            except Exception:  # an answer whose == raises is simply not this mistake
                continue
    return None


def _type_name(value: Any) -> str:
    return type(value).__name__


def _first_common(answer: Any, expected: Any) -> Check | None:
    """The answers every check refuses the same way: a blank, None."""
    if is_blank(answer):
        return Check(False, BLANK)
    if answer is None:
        return fail("your answer is None: did a function forget to `return` its result?")
    return None


def check_equal(
    answer: Any, expected: Any, *, right: str, mistakes: Iterable[Mistake | Callable[[Any], str | None]] = ()
) -> Check:
    """✓ when `answer == expected`; otherwise the first matching mistake, or a plain "not yet"."""
    early = _first_common(answer, expected)
    if early is not None:
        return early
    try:
        same = type(answer) is type(expected) and answer == expected
    except Exception:
        same = False
    if same:
        return passed(right)
    why = _known_mistake(answer, mistakes)
    if why:
        return fail(why)
    if type(answer) is not type(expected):
        return fail(f"the answer should be a {_type_name(expected)}, got a {_type_name(answer)}")
    return fail(f"not yet: that is not {right}")


def check_text(
    answer: Any, expected: str, *, right: str, mistakes: Iterable[Mistake | Callable[[Any], str | None]] = ()
) -> Check:
    """Like `check_equal` for text, and a wrong answer is told where it first differs."""
    early = _first_common(answer, expected)
    if early is not None:
        return early
    if isinstance(answer, (bytes, bytearray)):
        return fail("the answer should be text (str), got bytes: decode it (`.decode()`)")
    if not isinstance(answer, str):
        return fail(f"the answer should be text (str), got a {_type_name(answer)}")
    if answer == expected:
        return passed(right)
    why = _known_mistake(answer, mistakes)
    if why:
        return fail(why)
    at = next((i for i, (a, b) in enumerate(zip(answer, expected)) if a != b), min(len(answer), len(expected)))
    if at == len(answer) < len(expected):
        return fail(f"not yet: your text stops after {len(answer)} characters; {right} has {len(expected)}")
    if at == len(expected) < len(answer):
        return fail(f"not yet: your text goes on after {right} ends (character {at}: {answer[at:at + 12]!r})")
    return fail(f"not yet: character {at} is {answer[at]!r}, {right} has {expected[at]!r} there")


def check_bytes(
    answer: Any,
    expected: bytes,
    *,
    right: str,
    fields: Iterable[tuple[str, int]] = (),
    mistakes: Iterable[Mistake | Callable[[Any], str | None]] = (),
) -> Check:
    """Like `check_equal` for bytes; a wrong answer is told its first differing byte and the field it is in.

    `fields` is the layout as `(name, length)` pairs, e.g. ``[("ephemeral point", 65), ("ciphertext", 32),
    ("tag", 16)]``.
    """
    early = _first_common(answer, expected)
    if early is not None:
        return early
    if isinstance(answer, str):
        return fail("the answer should be bytes, got text: the check wants the raw bytes, not base64 or hex")
    if not isinstance(answer, (bytes, bytearray, memoryview)):
        return fail(f"the answer should be bytes, got a {_type_name(answer)}")
    answer = bytes(answer)
    if answer == expected:
        return passed(right)
    why = _known_mistake(answer, mistakes)
    if why:
        return fail(why)
    if len(answer) != len(expected):
        return fail(f"not yet: {len(answer)} bytes, {right} has {len(expected)}")
    at = next(i for i, (a, b) in enumerate(zip(answer, expected)) if a != b)
    where, start = "", 0
    for name, length in fields:
        if start <= at < start + length:
            where = f" (in the {name}, bytes {start}–{start + length - 1})"
            break
        start += length
    return fail(f"not yet: your bytes differ from {right} at byte {at}{where}")


def check_choice(answer: Any, expected: str, *, choices: dict[str, str], right: str) -> Check:
    """A decision among named `choices` (choice → why it is wrong, or why it is right for `expected`)."""
    early = _first_common(answer, expected)
    if early is not None:
        return early
    if not isinstance(answer, str) or answer not in choices:
        return fail(f"answer with one of {sorted(choices)}, got {answer!r}")
    if answer == expected:
        return passed(f"{right}: {choices[answer]}")
    return fail(choices[answer])


# The per-notebook checkers load on first use (kit.lesson.wrapping, ...), like kit's own submodules.
def __getattr__(name: str) -> Any:
    if not name.startswith("_"):
        try:
            return import_module(f"kit.lesson.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"kit.lesson.{name}":
                raise
    raise AttributeError(f"module 'kit.lesson' has no attribute {name!r}")
