"""Where the sandbox keeps its state: SQLite, in memory by default or in a file.

One implementation for both, so the in-process sandbox and a workshop server behave alike.
With a file: WAL journal and ``synchronous=FULL``, every request one transaction, so an
answer the server sent survives ``kill -9`` and a restart, and a half-done request is never
visible. A full disk or a read-only file raises `ServiceUnavailable` (503), never corrupts.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from kit.errors import APIError

__all__ = ["RESET_TABLES", "SEQUENCE_BASE", "Store", "StoredEvent", "token_digest"]

#: Sequence ids start here so they look like the live API's (~2.07e18) and are above the
#: threshold from which the official SDK enforces key-change signatures.
SEQUENCE_BASE = 2070276095283454100

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    token_digest TEXT UNIQUE,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS tokens (
    digest TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    client_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS tokens_by_user ON tokens (user_id);
CREATE TABLE IF NOT EXISTS public_keys (
    user_id TEXT NOT NULL REFERENCES users(id),
    version TEXT NOT NULL,
    version_num TEXT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (user_id, version)
);
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    latest_key_version TEXT,
    info TEXT NOT NULL DEFAULT '{}',
    stored_bytes INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS members (
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    user_id TEXT NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    kind TEXT NOT NULL,
    message_id TEXT NOT NULL,
    sender_id TEXT NOT NULL,
    key_version TEXT NOT NULL,
    request_digest TEXT NOT NULL,
    encoded BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (conversation_id, message_id)
);
CREATE INDEX IF NOT EXISTS events_by_conversation ON events (conversation_id, kind, seq);
CREATE TABLE IF NOT EXISTS room_names (
    name_key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    user_id TEXT NOT NULL UNIQUE REFERENCES users(id),
    joined_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ended_tokens (
    digest TEXT PRIMARY KEY,
    reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS deletions (
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    seq INTEGER NOT NULL,
    for_user TEXT NOT NULL,
    by_event INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, seq, for_user)
);
CREATE INDEX IF NOT EXISTS deletions_by_event ON deletions (conversation_id, by_event);
-- the events answer walks this backwards a page at a time: messages, deletes, group changes, never a sort
DROP INDEX IF EXISTS events_timeline;
CREATE INDEX IF NOT EXISTS events_page ON events (conversation_id, seq) WHERE kind IN ('message', 'delete', 'group_change');
"""

#: What a room reset empties, children before parents (`ended_tokens` stays: it holds only
#: digests, so an old token is told why it ended).
RESET_TABLES = ("room_names", "tokens", "public_keys", "deletions", "events", "members", "conversations", "users")


def token_digest(token: str) -> str:
    """Tokens are stored as SHA-256 digests and looked up by digest: the database never holds
    a usable token, and the lookup does not compare secrets byte by byte."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StoredEvent:
    """One stored event: its sequence id and the `MessageEvent` bytes as served."""

    seq: int
    conversation_id: str
    kind: str
    message_id: str
    sender_id: str
    key_version: str
    request_digest: str
    encoded: bytes
    created_at: int

    @property
    def sequence_id(self) -> str:
        return str(SEQUENCE_BASE + self.seq)


class Store:
    """The sandbox's tables, behind one lock (SQLite serializes writers anyway)."""

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self.rows_read = 0  # rows `read` returned, all told: what a test of paging counts
        self._lock = threading.RLock()
        try:
            # A ``file:`` URI opens with its options, e.g. ``file:room.sqlite?mode=ro`` (read-only).
            uri = path.startswith("file:")
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, uri=uri)
            if path != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(_SCHEMA)
            self._add_stored_bytes()
        except sqlite3.Error as exc:
            raise APIError.of(503, f"sandbox database {path!r} cannot be opened: {exc}", resource_type="database") from None

    def _add_stored_bytes(self) -> None:
        """A file from before the per-conversation quota gets its `stored_bytes` column, counted
        from its events (a read-only file is left as it is: it stores nothing anyway)."""
        columns = [r[1] for r in self._db.execute("PRAGMA table_info(conversations)")]
        if "stored_bytes" in columns:
            return
        try:
            with self.transaction() as db:
                db.execute("ALTER TABLE conversations ADD COLUMN stored_bytes INTEGER NOT NULL DEFAULT 0")
                db.execute(
                    "UPDATE conversations SET stored_bytes = "
                    "(SELECT COALESCE(SUM(length(encoded)), 0) FROM events WHERE events.conversation_id = conversations.id)"
                )
        except APIError:
            pass

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit: all of it is stored, or none of it."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise APIError.of(
                    503, f"the sandbox cannot store this request now ({exc}); nothing was stored", resource_type="database"
                ) from None

    def read(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                rows = self._db.execute(sql, args).fetchall()
                self.rows_read += len(rows)
                return rows
            except sqlite3.OperationalError as exc:
                raise APIError.of(503, f"the sandbox cannot read its database now ({exc})", resource_type="database") from None

    def reset(self) -> None:
        """Empty every table of `RESET_TABLES` in one transaction, keeping the file and its
        `ended_tokens`: first recording there that every token of the room ended in a reset."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO ended_tokens (digest, reason) SELECT digest, 'reset' FROM tokens "
                "UNION ALL SELECT token_digest, 'reset' FROM users WHERE token_digest IS NOT NULL"
            )
            for table in RESET_TABLES:
                db.execute(f"DELETE FROM {table}")  # noqa: S608 (a constant table name)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @staticmethod
    def event_from(row: Any) -> StoredEvent:
        return StoredEvent(*row)
