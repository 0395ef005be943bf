"""kit.errors: the KitError tree and RFC 7807 problems."""

from __future__ import annotations

import pytest

import kit
from kit import errors
from kit.errors import (
    APIError,
    Conflict,
    DecryptionError,
    Forbidden,
    InvalidRequest,
    KeyNotFoundError,
    KitError,
    NotFound,
    PayloadTooLarge,
    Problem,
    RateLimited,
    ServiceUnavailable,
    SignatureError,
    Unauthorized,
    WireFormatError,
)

API_SUBCLASSES = [
    (InvalidRequest, 400),
    (Unauthorized, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (PayloadTooLarge, 413),
    (RateLimited, 429),
    (ServiceUnavailable, 503),
]


@pytest.mark.parametrize("cls", [WireFormatError, SignatureError, DecryptionError, KeyNotFoundError, APIError])
def test_every_error_is_a_kit_error(cls):
    assert issubclass(cls, KitError)
    assert issubclass(cls, Exception)


def test_builtin_bases_for_natural_except_clauses():
    # A caller's `except ValueError` / `except LookupError` keeps working.
    assert issubclass(WireFormatError, ValueError)
    assert issubclass(KeyNotFoundError, LookupError)
    assert not issubclass(SignatureError, ValueError)
    assert not issubclass(DecryptionError, ValueError)


@pytest.mark.parametrize(("cls", "status"), API_SUBCLASSES)
def test_api_subclasses(cls, status):
    assert issubclass(cls, APIError)
    assert cls.status == status


def test_statuses_are_unique():
    statuses = [status for _, status in API_SUBCLASSES]
    assert len(set(statuses)) == len(statuses)


def test_module_all_is_sorted_and_resolves():
    assert list(errors.__all__) == sorted(errors.__all__)
    for name in errors.__all__:
        assert getattr(errors, name) is getattr(kit, name)


def test_tree_in_docstring_names_every_error():
    doc = errors.__doc__ or ""
    for name in errors.__all__:
        if name != "Problem":
            assert name in doc, name


@pytest.mark.parametrize(("cls", "status"), API_SUBCLASSES)
def test_of_picks_subclass_and_type(cls, status):
    err = APIError.of(status, f"something about status {status}", parameter="id")
    assert type(err) is cls
    assert err.status == status
    assert err.problem.status == status
    assert err.problem.type == errors.PROBLEM_BASE + cls.problem_kind
    assert err.problem.title == cls.title
    assert err.problem.detail == f"something about status {status}"
    assert err.problem.extra["parameter"] == "id"
    for name in cls.required_extra:
        assert name in err.problem.extra
    assert str(err) == f"{status} {cls.problem_kind}: something about status {status}"


def test_of_fills_required_members_but_keeps_given_ones():
    err = APIError.of(404, "no such conversation", resource_type="user", resource_id="42")
    assert err.problem.extra == {"resource_type": "user", "resource_id": "42"}
    err = APIError.of(404, "no such conversation")
    assert err.problem.extra["resource_type"] == "conversation"


def test_of_drops_none_members():
    err = APIError.of(400, "bad", parameter=None, value="x")
    assert "parameter" not in err.problem.extra
    assert err.problem.extra["value"] == "x"


def test_of_unknown_5xx_is_plain_api_error():
    err = APIError.of(500, "boom")
    assert type(err) is APIError
    assert err.status == 500
    assert err.problem.kind == "internal-error"


def test_of_keeps_headers():
    err = APIError.of(429, "slow down", headers={"x-rate-limit-reset": "123"})
    assert isinstance(err, RateLimited)
    assert err.headers == {"x-rate-limit-reset": "123"}


def test_problem_round_trip():
    p = Problem(
        type=errors.PROBLEM_BASE + "invalid-request",
        title="Invalid Request",
        detail="conversation_key_version must be digits, got 'x'",
        status=400,
        extra={"parameter": "conversation_key_version", "value": "x"},
    )
    d = p.to_dict()
    assert d["type"] == p.type and d["status"] == 400 and d["parameter"] == "conversation_key_version"
    assert Problem.from_dict(d) == p
    assert p.kind == "invalid-request"
    assert str(p) == "400 invalid-request: conversation_key_version must be digits, got 'x'"


def test_problem_without_status_omits_it():
    p = Problem(type="about:blank", title="T", detail="")
    assert "status" not in p.to_dict()
    assert str(p) == "about:blank: T"  # falls back to the title when the detail is empty


def test_problem_from_dict_is_tolerant():
    p = Problem.from_dict({}, status=418)
    assert p.type == "about:blank"
    assert p.title == "" and p.detail == ""
    assert p.status == 418
    # a non-integer status in the body is ignored in favour of the HTTP status
    assert Problem.from_dict({"status": "400"}, status=400).status == 400
    assert Problem.from_dict({"type": "https://x/problems/conflict/"}).kind == "conflict"


@pytest.mark.parametrize(("cls", "status"), API_SUBCLASSES)
def test_from_problem(cls, status):
    class Response:
        headers = {"content-type": "application/problem+json"}

    p = Problem(type="https://api.x.com/2/problems/whatever", title="t", detail="d", status=status)
    err = APIError.from_problem(p, status=status, response=Response())
    assert type(err) is cls
    assert err.problem is p
    assert err.headers["content-type"] == "application/problem+json"
    with pytest.raises(KitError):
        raise err


def test_from_problem_unknown_status():
    p = Problem(type="about:blank", title="t", detail="d")
    err = APIError.from_problem(p, status=502)
    assert type(err) is APIError
    assert err.status == 502
    assert err.response is None
    assert err.headers == {}
