"""Inbox: fetch events as the recipient, verify, unwrap, decrypt (notebooks 05 to 07, app tab 4)."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from kit.encoding import from_b64
from kit.errors import KitError, TrustError
from kit.keys import Identity, PublicKeys
from kit.message import Entry, fold, read_events
from kit.thrift import read_message_event
from kit.trust import TrustStore
from kit.ui.parts import ERROR_COLOR, OK_COLOR, problem_text, status_line, trust_badge

__all__ = ["Inbox"]


class Inbox(widgets.VBox):
    """The recipient's side: fetch every conversation's events, verify key changes, decrypt messages.

    Every signer is checked against `trust` (a `kit.TrustStore`; a new one by default, which pins each
    signer at first sight): keys that changed since are refused. Widgets: `fetch`, `status`, `table`.
    Model: `rows`, one dict per key change, message and delete (`conversation`, `sequence_id`, `kind`,
    `sender`, `shows`, `ok`, `trust`: the signer's trust state, "pinned", "verified", "changed" or ""
    when unknown). Edits and reactions are folded onto their target's row (`shows` is the edited
    text, `reactions`, `notes`); a reply's row has `quote` ("valid", "invalid" or None), `quoted`
    and `quote_problem`, and a forged quote shows in red.
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
        items = key_changes + list(reversed(messages))  # the API sends newest first; read them in order
        envelopes = [_envelope(conversation, "key change" if i < len(key_changes) else "message", e) for i, e in enumerate(items)]
        signers: dict[str, list[PublicKeys]] = {}
        for row in envelopes:
            sender = row["sender"]
            if sender != "?" and sender not in signers:
                signers[sender] = self.client.get_public_keys(sender)
        keys = [k for ks in signers.values() for k in ks]
        # One batch, as the SDK's decrypt_events reads one: key changes first, every failure an entry by index.
        batch = read_events(items, recipient=self.identity, signing_keys=keys, trust=self.trust)
        by_seq: dict[str, Any] = {c.sequence_id: c for c in batch.key_changes}
        by_seq.update({m.sequence_id: m for m in batch.messages})
        entries, _ = fold(batch.messages, batch.deletes, reader=self.identity.user_id)
        folded = {e.message.sequence_id: e for e in entries}
        rows = []
        for index, row in enumerate(envelopes):
            error = batch.errors.get(index)
            if error is not None:
                row.update(shows=problem_text(error), ok=False, trust="changed" if isinstance(error, TrustError) else "")
                rows.append(row)
                continue
            read = by_seq.get(row["sequence_id"])
            if row["kind"] == "key change" and read is not None:
                row.update(
                    shows=f"signature verified; conversation key version {read.conversation_key_version} unwrapped",
                    ok=True,
                    trust=self._state(signers.get(row["sender"], []), row),
                )
            elif read is not None and read.sequence_id in folded:
                entry = folded[read.sequence_id]
                row.update(_message_row(entry), trust=self._state(signers.get(row["sender"], []), row))
            elif read is not None and read.target_sequence_id not in folded:  # an edit or reaction whose target is gone
                row.update(kind=read.kind, shows=f"{read.kind} {read.emoji or read.text!r} of {read.target_sequence_id}", ok=True)
            elif read is None and any(d.sequence_id == row["sequence_id"] for d in batch.deletes):
                d = next(d for d in batch.deletes if d.sequence_id == row["sequence_id"])
                scope = "for all" if d.delete_for_all else "for self"
                row.update(kind="delete", shows=f"signed delete {scope} of {', '.join(d.sequence_ids)}", ok=True)
            else:
                continue  # an edit or a reaction: folded onto its target's row
            rows.append(row)
        return rows

    def _state(self, keys: list[PublicKeys], row: dict[str, Any]) -> str:
        signer = next((k for k in keys if k.version == row.get("key_version")), None)
        return "" if signer is None else self.trust.check(signer).state


def _message_row(entry: Entry) -> dict[str, Any]:
    m = entry.message
    shows = "" if entry.deleted else entry.text
    extra = [*(["edited"] if entry.edits else []), *([entry.deleted] if entry.deleted else []), *entry.notes]
    row: dict[str, Any] = {"kind": m.kind, "shows": shows, "ok": True, "reactions": entry.reactions_text(), "notes": "; ".join(extra)}
    if m.reply_to is not None:
        row["quote"] = m.reply_to.validation
        row["quoted"] = m.reply_to.text or ""
        row["quote_problem"] = m.reply_to.problem or ""
    return row


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


def _quote_html(r: dict[str, Any]) -> str:
    if "quote" not in r:
        return ""
    quoted = html.escape(repr(r.get("quoted", "")))
    if r["quote"] == "valid":
        return f"<div class='xk-quote' style='color:{OK_COLOR}'>↩ {quoted} (quote matches the signed original)</div>"
    if r["quote"] == "invalid":
        why = html.escape(r.get("quote_problem", ""))
        return f"<div class='xk-quote xk-forged' style='color:{ERROR_COLOR}'>↩ {quoted}: FORGED QUOTE ({why})</div>"
    return f"<div class='xk-quote' style='color:#4b5563'>↩ {quoted} (unchecked: no original embedded)</div>"


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return status_line("no events yet")
    head = "".join(
        f"<th style='text-align:left;padding:2px 8px'>{h}</th>"
        for h in ("conversation", "sequence id", "kind", "sender", "signer's keys", "what the recipient reads", "")
    )
    body = []
    for r in rows:
        color = OK_COLOR if r.get("ok") else ERROR_COLOR
        cells = [r["conversation"], r["sequence_id"], r["kind"], r["sender"]]
        tds = "".join(f"<td style='padding:2px 8px'>{html.escape(str(c))}</td>" for c in cells)
        tds += f"<td style='padding:2px 8px'>{trust_badge(r['trust']) if r.get('trust') else ''}</td>"
        extra = _quote_html(r)
        if r.get("reactions"):
            extra += f"<div class='xk-reactions'>{html.escape(r['reactions'])}</div>"
        if r.get("notes"):
            extra += f"<div class='xk-notes' style='color:#4b5563'>{html.escape(r['notes'])}</div>"
        tds += f"<td class='xk-shows' style='padding:2px 8px;color:{color}'>{html.escape(str(r.get('shows', '')))}</td>"
        tds += f"<td style='padding:2px 8px'>{extra}</td>"
        body.append(f"<tr>{tds}</tr>")
    return f"<table class='xk-inbox' style='border-collapse:collapse'><tr>{head}</tr>{''.join(body)}</table>"
