"""What is sent and what is refused: request bodies, participants, conversation ids, problems; notebook 04."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kit.errors import APIError, KitError, Problem
from kit.ids import ConversationId
from kit.keys import fingerprint
from kit.protocol import KeyInit
from kit.tables.format import Table, error_line, preview

__all__ = ["conversation_ids_table", "participants_table", "problem_table", "request_table"]


def participants_table(init: KeyInit) -> Table:
    """The participants of a `KeyInit`: whose key version the conversation key was wrapped to."""
    wrapped = {p.user_id: p.encrypted_conversation_key for p in init.detail.participant_keys}
    rows = [
        (pk.user_id, pk.version, fingerprint(pk.public_key), preview(wrapped.get(pk.user_id, "")))
        for pk in init.participants
    ]
    return Table(rows, columns=["user_id", "public_key_version", "fingerprint", "encrypted_conversation_key"])


def conversation_ids_table(spellings: Iterable[str], *, caller: str) -> Table:
    """How each spelling of a conversation id reads: canonical (signatures, Thrift) and path (URLs)."""
    rows = []
    for text in spellings:
        try:
            cid = ConversationId.parse(text, caller=caller)
            rows.append((text, cid.canonical, cid.path, "group" if cid.is_group else "1:1"))
        except KitError as exc:
            rows.append((text, "", "", error_line(exc)))
    return Table(rows, columns=["written as", "canonical (signed)", "path (URL, JSON)", "kind"])


def _flatten(value: Any, path: str, rows: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(v, f"{path}.{k}" if path else k, rows)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _flatten(v, f"{path}[{i}]", rows)
    elif isinstance(value, str):
        rows.append((path, preview(value)))
    else:
        rows.append((path, repr(value)))


def request_table(body: dict[str, Any]) -> Table:
    """A JSON request body flattened to one row per value (long strings as previews)."""
    rows: list[tuple[str, str]] = []
    _flatten(body, "", rows)
    return Table(rows, columns=["field", "value"])


def problem_table(error: BaseException | Problem) -> Table:
    """A problem as one row: status, kind, title, detail, and the parameter it names.

    Takes a `kit.APIError` (or its `Problem`); any other error gives a row with its class name.
    """
    if isinstance(error, APIError):
        problem: Problem | None = error.problem
        status: Any = error.status
    elif isinstance(error, Problem):
        problem, status = error, error.status
    else:
        problem, status = None, None
    if problem is None:
        row = (None, type(error).__name__, "", str(error), "")
    else:
        row = (status, problem.kind, problem.title, problem.detail, str(problem.extra.get("parameter", "")))
    return Table([row], columns=["status", "problem", "title", "detail", "parameter"])
