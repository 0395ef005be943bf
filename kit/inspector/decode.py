"""Pasted text to bytes: every way the text can be read (base64 in its four spellings, hex, PEM).

A reading remembers how the text was written, so the inspector can say what the API would have
wanted instead (padded standard base64 for keys and Thrift, unpadded for action signatures).
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass

__all__ = ["Reading", "clean", "readings"]

_HEX = re.compile(r"[0-9a-fA-F]+")
_HEX_SPACED = re.compile(r"[0-9a-fA-F]{2}(?:[ :][0-9a-fA-F]{2})+")
_B64 = re.compile(r"[A-Za-z0-9+/_-]*={0,2}")
_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.S)


@dataclass(frozen=True)
class Reading:
    """One way to read the text as bytes: the bytes, and how the text spelled them."""

    data: bytes
    encoding: str  # "base64", "hex", "PEM <label>"
    urlsafe: bool = False
    padded: bool | None = None  # None: the length needs no padding (a multiple of 3 bytes) or not base64
    text: str = ""

    @property
    def spelling(self) -> str:
        """How it was written, in words: "base64", "base64 without padding", "URL-safe base64", "hex"."""
        if self.encoding != "base64":
            return self.encoding
        alphabet = "URL-safe base64" if self.urlsafe else "base64"
        return alphabet + (" without padding" if self.padded is False else "")


def clean(text: str) -> tuple[str, list[str]]:
    """The text without what pasting adds (outer whitespace, quotes, line breaks in base64), and notes."""
    notes: list[str] = []
    t = text.strip()
    if len(t) >= 2 and t[0] == t[-1] and t[0] in "\"'":
        t = t[1:-1].strip()
        notes.append("the text was quoted: read without its quotes")
    return t, notes


def _b64(t: str) -> Reading | None:
    if not t or not _B64.fullmatch(t):
        return None
    urlsafe = "-" in t or "_" in t
    if urlsafe and ("+" in t or "/" in t):
        return None  # two alphabets at once: not base64
    body = t.rstrip("=")
    if len(body) % 4 == 1:
        return None
    need = -len(body) % 4
    has = len(t) - len(body)
    if has and has != need:
        return None
    std = body.translate(str.maketrans("-_", "+/")) if urlsafe else body
    try:
        raw = binascii.a2b_base64(std + "=" * need, strict_mode=True)
    except (binascii.Error, ValueError):
        return None
    padded = None if need == 0 else bool(has)
    return Reading(raw, "base64", urlsafe=urlsafe, padded=padded, text=t)


def readings(text: str) -> tuple[list[Reading], list[str]]:
    """Every plausible reading of `text` as bytes (the likeliest first), and notes about the text."""
    t, notes = clean(text)
    out: list[Reading] = []
    pem = _PEM.search(t)
    if pem:
        body = re.sub(r"\s+", "", pem.group(2))
        r = _b64(body)
        if r is not None:
            out.append(Reading(r.data, f"PEM {pem.group(1).title()}", text=t))
        return out, notes
    squeezed = re.sub(r"\s+", "", t)
    if squeezed != t and not _HEX_SPACED.fullmatch(t):
        notes.append("the text has spaces or line breaks inside: read without them (the API wants one unbroken string)")
    if squeezed.lower().startswith("0x") and _HEX.fullmatch(squeezed[2:]) and len(squeezed) % 2 == 0:
        out.append(Reading(bytes.fromhex(squeezed[2:]), "hex", text=t))
        return out, notes
    if _HEX_SPACED.fullmatch(t):
        out.append(Reading(bytes.fromhex(re.sub("[ :]", "", t)), "hex", text=t))
        return out, notes
    if _HEX.fullmatch(squeezed) and len(squeezed) % 2 == 0:
        out.append(Reading(bytes.fromhex(squeezed), "hex", text=t))
    r = _b64(squeezed)
    if r is not None:
        out.append(r)
    return out, notes
