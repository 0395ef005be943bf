"""Errors the kit raises on purpose, and RFC 7807 problems.

One tree for the whole kit, shared by the client and the sandbox::

    KitError                      base of every error the kit raises on purpose
    ├── WireFormatError           bytes or text that are not what the format says
    ├── SignatureError            a signature (action, message or key binding) that does not verify
    ├── DecryptionError           a wrapped key or message that does not open with the key given
    ├── KeyNotFoundError          no key for this user, key version or conversation key version
    ├── TrustError                keys that differ from the ones you pinned or verified, a wrong
    │                             comparison code, or a trust store file that is damaged
    └── APIError                  an HTTP answer that is an RFC 7807 problem (carries .problem)
        ├── InvalidRequest        400
        ├── Unauthorized          401
        ├── Forbidden             403
        ├── NotFound              404
        ├── Conflict              409
        ├── PayloadTooLarge       413
        ├── RateLimited           429
        └── ServiceUnavailable    503

The sandbox raises the same `APIError` subclasses that the client raises when it reads
the answer, so a learner meets one set of names on both sides of the wire.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "APIError",
    "Conflict",
    "DecryptionError",
    "Forbidden",
    "InvalidRequest",
    "KeyNotFoundError",
    "KitError",
    "NotFound",
    "PayloadTooLarge",
    "Problem",
    "RateLimited",
    "ServiceUnavailable",
    "SignatureError",
    "TrustError",
    "Unauthorized",
    "WireFormatError",
]

PROBLEM_BASE = "https://api.x.com/2/problems/"


class KitError(Exception):
    """Base of every error the kit raises on purpose."""


class WireFormatError(KitError, ValueError):
    """Bytes or text that are not what the wire format says (base64, length, point, Thrift)."""


class SignatureError(KitError):
    """A signature that does not verify, or no key to verify it with."""


class DecryptionError(KitError):
    """A wrapped conversation key or a message that does not open with the key given."""


class KeyNotFoundError(KitError, LookupError):
    """No entry for this user and key version, or no key for this conversation key version."""


class TrustError(KitError):
    """Keys that are not the ones you pinned or verified (nothing was adopted), a wrong comparison code,
    or a trust store file that is damaged; `.user_id`, `.fingerprint` (seen) and `.pinned_fingerprint` say whose."""

    def __init__(
        self,
        message: str,
        *,
        user_id: str | None = None,
        fingerprint: str | None = None,
        pinned_fingerprint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.user_id = user_id
        self.fingerprint = fingerprint
        self.pinned_fingerprint = pinned_fingerprint


@dataclass(frozen=True)
class Problem:
    """An RFC 7807 problem as the X API sends it (`application/problem+json`).

    `type` is one of the X API 2.167 problem URIs; `extra` holds the subtype's other
    members (`parameter`, `value`, `resource_type`, ...).
    """

    type: str
    title: str
    detail: str
    status: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """The last part of the type URI, e.g. ``invalid-request``."""
        return self.type.rstrip("/").rsplit("/", 1)[-1]

    def to_dict(self) -> dict[str, Any]:
        """The JSON object for an `application/problem+json` body."""
        out: dict[str, Any] = {"type": self.type, "title": self.title, "detail": self.detail}
        if self.status is not None:
            out["status"] = self.status
        out.update(self.extra)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, status: int | None = None) -> Problem:
        """Read a problem body; tolerant of missing members (the live API varies)."""
        extra = {k: v for k, v in data.items() if k not in {"type", "title", "detail", "status"}}
        raw_status = data.get("status", status)
        return cls(
            type=str(data.get("type", "about:blank")),
            title=str(data.get("title", "")),
            detail=str(data.get("detail", "")),
            status=raw_status if isinstance(raw_status, int) else status,
            extra=extra,
        )

    def __str__(self) -> str:
        head = f"{self.status} {self.kind}" if self.status is not None else self.kind
        return f"{head}: {self.detail or self.title}"


class APIError(KitError):
    """An HTTP answer that is a problem; `.problem`, `.status` and `.response` say which.

    Build one with `APIError.of(status, detail, ...)`: it picks the subclass and the
    2.167 problem type for the status.
    """

    status: int = 500
    problem_kind: str = "internal-error"
    title: str = "Internal Error"
    #: The subtype's required members in the 2.167 document that `of()` fills in when absent.
    required_extra: tuple[str, ...] = ()

    def __init__(self, problem: Problem, *, response: Any = None, headers: dict[str, str] | None = None):
        super().__init__(str(problem))
        self.problem = problem
        self.response = response
        self.headers = dict(headers or {})

    @classmethod
    def of(cls, status: int, detail: str, *, headers: dict[str, str] | None = None, **extra: Any) -> APIError:
        """The error for an HTTP status, with a detail that names the field or rule."""
        sub = _BY_STATUS.get(status) or (InvalidRequest if 400 <= status < 500 else APIError)
        for name in sub.required_extra:
            extra.setdefault(name, "conversation" if name == "resource_type" else "")
        problem = Problem(
            type=PROBLEM_BASE + sub.problem_kind,
            title=sub.title,
            detail=detail,
            status=status,
            extra={k: v for k, v in extra.items() if v is not None},
        )
        err = sub(problem, headers=headers)
        err.status = status
        return err

    @classmethod
    def from_problem(cls, problem: Problem, *, status: int, response: Any = None) -> APIError:
        """The error a client raises for a problem it received."""
        sub = _BY_STATUS.get(status, APIError)
        headers = dict(response.headers) if response is not None and hasattr(response, "headers") else None
        err = sub(problem, response=response, headers=headers)
        err.status = status
        return err


class InvalidRequest(APIError):
    """400: the request breaks the schema or a rule of the endpoint."""

    status = 400
    problem_kind = "invalid-request"
    title = "Invalid Request"


class Unauthorized(APIError):
    """401: no access token, or one the server does not know."""

    status = 401
    problem_kind = "not-authorized-for-resource"
    title = "Unauthorized"
    required_extra = ("resource_type",)


class Forbidden(APIError):
    """403: the caller may not act on this resource (not a participant, someone else's keys)."""

    status = 403
    problem_kind = "not-authorized-for-resource"
    title = "Forbidden"
    required_extra = ("resource_type",)


class NotFound(APIError):
    """404: unknown conversation, user or key."""

    status = 404
    problem_kind = "resource-not-found"
    title = "Not Found Error"
    required_extra = ("resource_type",)


class Conflict(APIError):
    """409: a key version that is not newer than the latest, or a changed replay."""

    status = 409
    problem_kind = "invalid-request"
    title = "Conflict"


class PayloadTooLarge(APIError):
    """413: a request body over the server's limit."""

    status = 413
    problem_kind = "invalid-request"
    title = "Payload Too Large"


class RateLimited(APIError):
    """429: too many requests; `.headers` carries the `x-rate-limit-*` values."""

    status = 429
    problem_kind = "resource-unavailable"
    title = "Too Many Requests"
    required_extra = ("resource_type",)


class ServiceUnavailable(APIError):
    """503: the server cannot store the request now (disk full, read-only database)."""

    status = 503
    problem_kind = "resource-unavailable"
    title = "Service Unavailable"
    required_extra = ("resource_type",)


_BY_STATUS: dict[int, type[APIError]] = {
    sub.status: sub
    for sub in (
        InvalidRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        PayloadTooLarge,
        RateLimited,
        ServiceUnavailable,
    )
}
