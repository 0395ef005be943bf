"""Inspector: paste a blob, a body or an error; see its kind, its bytes, its fields, what is odd (notebook 08)."""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from typing import Any

import ipywidgets as widgets

from kit.inspector import Inspection, explain, inspect
from kit.inspector.sample_data import samples
from kit.keys import Identity, PublicKeys
from kit.ui.parts import ERROR_COLOR, byte_map, status_line

__all__ = ["SANDBOX_SAMPLE", "Inspector"]

#: The sample that is made on the spot: an in-process sandbox, a key change and a message, read as bob.
SANDBOX_SAMPLE = "sandbox: the events bob fetches (a key change and a message, read with bob's demo keys)"
_PALETTE = ("#fde2b8", "#c6e2ff", "#d4f4c4", "#f7c6d9", "#e3d4f7", "#fff3a8", "#c9f2ef", "#f2d0b5", "#dcdcdc", "#b8e0d2")
_ERROR_KINDS = ("problem", "sdk-error")


def _colors(names: Iterable[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in names:
        out.setdefault(name, _PALETTE[len(out) % len(_PALETTE)])
    return out


def _fields_html(i: Inspection) -> str:
    head = "".join(f"<th style='text-align:left;padding:1px 8px'>{h}</th>" for h in ("offset", "length", "name", "value", "note"))
    rows = []
    for f in i.fields:
        cells = ("" if f.offset is None else str(f.offset), "" if f.length is None else str(f.length), f.name, f.value, f.note)
        rows.append("<tr>" + "".join(f"<td style='padding:1px 8px;white-space:pre'>{html.escape(c)}</td>" for c in cells) + "</tr>")
    return (
        "<table class='xk-fields' style='font-family:monospace;font-size:12px;border-collapse:collapse'>"
        f"<tr>{head}</tr>{''.join(rows)}</table>"
    )


def _notes_html(notes: Iterable[str]) -> str:
    items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    return f"<ul class='xk-notes' style='margin:2px 0'>{items}</ul>" if items else ""


def sandbox_sample() -> tuple[str, Identity, list[PublicKeys]]:
    """The events answer bob fetches from a fresh in-process sandbox after alice's init and first message."""
    from kit.client import connect  # httpx loads with this sample, not with `import kit.ui`
    from kit.message import prepare_message
    from kit.protocol import prepare_key_init

    root = connect(quiet=True)
    alice_id, bob_id = "1215441834412953600", "1603419180975409153"
    a, b = root.sandbox_user("alice", user_id=alice_id), root.sandbox_user("bob", user_id=bob_id)
    alice = Identity.from_seed("alice (demo only)", alice_id, version="1")
    bob = Identity.from_seed("bob (demo only)", bob_id, version="1")
    a.register_keys(alice)
    b.register_keys(bob)
    init = prepare_key_init(alice, [b.latest_public_keys(bob_id)])
    a.add_conversation_keys(init)
    a.send_message(prepare_message(alice, bob_id, "hello from the sandbox", conversation_key=init.conversation_key,
                                   conversation_key_version=init.conversation_key_version))  # fmt: skip
    page = b.http.get(f"/2/chat/conversations/{init.path_id}/events").json()
    return json.dumps(page, indent=2), bob, [b.latest_public_keys(alice_id)]


class Inspector(widgets.VBox):
    """Paste anything from the API, the SDK or the docs and see what it is, byte by byte.

    Widgets: `text` (paste here), `sample` (ready-made values), `inspect_button`, `explain_button`,
    `summary` (kind and summary), `part` (which nested inspection to show), `byte_map`, `fields`,
    `notes`, `explanation`. Model: `inspection` (the last `kit.inspect` result). `identity` and
    `signing_keys` open and verify what they can; no widget ever shows a private or conversation key.
    """

    def __init__(
        self,
        *,
        identity: Identity | None = None,
        signing_keys: Iterable[PublicKeys] = (),
        conversation_key: Any = None,
    ) -> None:
        self.identity = identity
        self.signing_keys = list(signing_keys)
        self.conversation_key = conversation_key
        self.inspection: Inspection | None = None
        self._samples = samples()
        self.text = widgets.Textarea(
            placeholder="paste base64, hex, JSON (a request or an answer), a signed text, or an error message",
            layout=widgets.Layout(width="100%", height="7em"),
        )
        self.sample = widgets.Dropdown(
            options=[("ready samples…", "")] + [(label, label) for label in (SANDBOX_SAMPLE, *self._samples)],
            value="",
            description="sample",
            layout=widgets.Layout(width="46em"),
        )
        self.inspect_button = widgets.Button(description="Inspect", button_style="primary", tooltip="say what this is")
        self.explain_button = widgets.Button(description="Explain", disabled=True, tooltip="why this error, and what to do")
        self.summary = widgets.HTML()
        self.part = widgets.Dropdown(description="part", layout=widgets.Layout(width="46em", display="none"))
        self.byte_map = widgets.HTML()
        self.fields = widgets.HTML()
        self.notes = widgets.HTML()
        self.explanation = widgets.HTML()
        self.inspect_button.on_click(self._on_inspect)
        self.explain_button.on_click(self._on_explain)
        self.sample.observe(self._on_sample, names="value")
        self.part.observe(self._on_part, names="value")
        super().__init__(
            [
                self.text,
                widgets.HBox([self.sample, self.inspect_button, self.explain_button]),
                self.summary,
                self.part,
                self.byte_map,
                self.fields,
                self.notes,
                self.explanation,
            ]
        )

    # ------------------------------------------------------------------ actions

    def show(self, value: str) -> Inspection:
        """Put `value` in the text area and inspect it (what a paste and a click do)."""
        self.text.value = value
        self._on_inspect()
        assert self.inspection is not None
        return self.inspection

    def _on_sample(self, _change: Any = None) -> None:
        label = self.sample.value
        if not label:
            return
        if label == SANDBOX_SAMPLE:
            text, self.identity, self.signing_keys = sandbox_sample()
        else:
            text = self._samples[label]
        self.show(text)

    def _on_inspect(self, _button: Any = None) -> None:
        self.explanation.value = ""
        try:
            self.inspection = inspect(self.text.value, conversation_key=self.conversation_key, identity=self.identity,
                                      signing_keys=self.signing_keys)  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - a panel shows what went wrong, it never raises into the front end
            self.inspection = None
            self.summary.value = status_line(f"{type(exc).__name__}: {exc}", ok=False)
            return
        i = self.inspection
        self.summary.value = (
            f"<div class='xk-kind'><b>{html.escape(i.kind)}</b> · <span class='xk-summary'>{html.escape(i.summary)}</span></div>"
        )
        parts = list(i.walk())
        self.part.options = [(f"{'(all)' if p is i else p.where or p.kind}: {p.kind}", n) for n, p in enumerate(parts)]
        self.part.layout.display = "flex" if len(parts) > 1 else "none"
        self.part.value = 0
        self._render(i, top=True)
        self.explain_button.disabled = i.kind not in _ERROR_KINDS

    def _on_part(self, _change: Any = None) -> None:
        if self.inspection is None or self.part.value is None:
            return
        parts = list(self.inspection.walk())
        if 0 <= self.part.value < len(parts):
            self._render(parts[self.part.value], top=self.part.value == 0)

    def _render(self, i: Inspection, *, top: bool) -> None:
        segments = i.segments()
        if i.secret:
            self.byte_map.value = status_line("a secret: no byte of it is shown", ok=False)
        elif segments:
            names = [name for _, _, name in segments]
            colors = _colors(n.replace("·", "").strip().split("] ", 1)[-1] for n in names)
            self.byte_map.value = byte_map(i.data, [(n, length) for _, length, n in segments], colors={
                n: colors[n.replace("·", "").strip().split("] ", 1)[-1]] for n in names})  # fmt: skip
        else:
            self.byte_map.value = ""
        self.fields.value = _fields_html(i) if i.fields else ""
        notes = i.all_notes() if top else list(i.notes)
        self.notes.value = _notes_html(notes)

    def _on_explain(self, _button: Any = None) -> None:
        e = explain(self.text.value)
        self.explanation.value = (
            "<div class='xk-explanation'>"
            f"<div><b>cause</b>: {html.escape(e.cause)}</div>"
            f"<div><b>fix</b>: {html.escape(e.fix)}</div>"
            f"<div><b>see</b>: <span class='xk-see' style='color:{ERROR_COLOR}'>{html.escape(e.see)}</span></div></div>"
        )
