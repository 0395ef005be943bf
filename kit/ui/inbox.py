"""Inbox: fetch events as the recipient, verify, unwrap, decrypt (notebooks 05 to 07, app tab 4)."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from kit.encoding import from_b64
from kit.errors import KitError, TrustError
from kit.keys import Identity, PublicKeys
from kit.message import read_message
from kit.protocol import read_key_change
from kit.thrift import read_message_event
from kit.trust import TrustStore
from kit.ui.parts import ERROR_COLOR, OK_COLOR, problem_text, status_line, trust_badge

__all__ = ["Inbox"]


class Inbox(widgets.VBox):
    """The recipient's side: fetch every conversation's events, verify key changes, decrypt messages.

    Every signer is checked against `trust` (a `kit.TrustStore`; a new one by default, which pins each
    signer at first sight): keys that changed since are refused. Widgets: `fetch`, `status`, `table`.
    Model: `rows`, one dict per event (`conversation`, `sequence_id`, `kind`, `sender`, `shows`, `ok`,
    `trust`: the signer's trust state, "pinned", "verified", "changed" or "" when unknown).
    """

    def __init__(self, client: Any, identity: Identity, *, trust: TrustStore | None = None) -> None:
        self.client = client
        self.identity = identity
        self.trust = trust if trust is not None else TrustStore()
        self.rows: list[dict[str, Any]] = []
        self.fetch = widgets.Button(
            description="Fetch", button_style="primary", tooltip="GET the events of my conversations"
        )
        self.status = widgets.HTML()
        self.table = widgets.HTML()
        self.fetch.on_click(self._on_fetch)
        super().__init__([widgets.HBox([self.fetch, self.status]), self.table])

    def _on_fetch(self, _button: Any = None) -> None:
        self.rows = []
        try:
            conversations = self.client.get_conversations()
            for conv in conversations:
                self.rows.extend(self._read_conversation(str(conv["id"])))
        except KitError as exc:
            self.status.value = status_line(problem_text(exc), ok=False)
            self.table.value = _table(self.rows)
            return
        plural = "" if len(conversations) == 1 else "s"
        self.status.value = status_line(
            f"{len(self.rows)} events in {len(conversations)} conversation{plural}, read as user "
            f"{self.identity.user_id} (key version {self.identity.version})"
        )
        self.table.value = _table(self.rows)

    def _read_conversation(self, conversation: str) -> list[dict[str, Any]]:
        key_changes: list[str] = []
        messages: list[str] = []
        for i, page in enumerate(self.client.iter_events(conversation)):
            if i == 0:
                key_changes = list(page.key_changes)
            messages.extend(page.messages)
        signers: dict[str, list[PublicKeys]] = {}

        def keys_of(sender: str) -> list[PublicKeys]:
            if sender not in signers:
                signers[sender] = self.client.get_public_keys(sender)
            return signers[sender]

        rows = []
        conversation_keys: dict[str, bytes] = {}
        for encoded in key_changes:
            row = _envelope(conversation, "key change", encoded)
            try:
                change = read_key_change(
                    encoded, recipient=self.identity, signing_keys=keys_of(row["sender"]), trust=self.trust
                )
            except KitError as exc:
                row.update(shows=problem_text(exc), ok=False, trust="changed" if isinstance(exc, TrustError) else "")
            else:
                conversation_keys[change.conversation_key_version] = change.conversation_key
                row.update(
                    shows=f"signature verified; conversation key version {change.conversation_key_version} unwrapped",
                    ok=True,
                    trust=self._state(keys_of(row["sender"]), row),
                )
            rows.append(row)
        for encoded in reversed(messages):  # the API sends newest first; read them in order
            row = _envelope(conversation, "message", encoded)
            try:
                message = read_message(
                    encoded, conversation_key=conversation_keys, signing_keys=keys_of(row["sender"]), trust=self.trust
                )
            except KitError as exc:
                row.update(shows=problem_text(exc), ok=False, trust="changed" if isinstance(exc, TrustError) else "")
            else:
                row.update(shows=message.text, ok=True, trust=self._state(keys_of(row["sender"]), row))
            rows.append(row)
        return rows

    def _state(self, keys: list[PublicKeys], row: dict[str, Any]) -> str:
        signer = next((k for k in keys if k.version == row.get("key_version")), None)
        return "" if signer is None else self.trust.check(signer).state


def _envelope(conversation: str, kind: str, encoded: str) -> dict[str, Any]:
    row: dict[str, Any] = {"conversation": conversation, "sequence_id": "?", "kind": kind, "sender": "?"}
    try:
        event = read_message_event(
            from_b64(encoded, what=f"{kind} event", max_len=16 * 1024 * 1024), what=f"{kind} event"
        )
    except KitError:
        return row
    row.update(sequence_id=event.sequence_id, sender=event.sender_id)
    if event.signature is not None:
        row["key_version"] = event.signature.public_key_version
    return row


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return status_line("no events yet")
    head = "".join(
        f"<th style='text-align:left;padding:2px 8px'>{h}</th>"
        for h in ("conversation", "sequence id", "kind", "sender", "signer's keys", "what the recipient reads")
    )
    body = []
    for r in rows:
        color = OK_COLOR if r.get("ok") else ERROR_COLOR
        cells = [r["conversation"], r["sequence_id"], r["kind"], r["sender"]]
        tds = "".join(f"<td style='padding:2px 8px'>{html.escape(str(c))}</td>" for c in cells)
        tds += f"<td style='padding:2px 8px'>{trust_badge(r['trust']) if r.get('trust') else ''}</td>"
        tds += f"<td class='xk-shows' style='padding:2px 8px;color:{color}'>{html.escape(str(r.get('shows', '')))}</td>"
        body.append(f"<tr>{tds}</tr>")
    return f"<table class='xk-inbox' style='border-collapse:collapse'><tr>{head}</tr>{''.join(body)}</table>"
