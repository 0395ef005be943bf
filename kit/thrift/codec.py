"""The Thrift TBinaryProtocol codec: type codes, the hardened reader, the typed field access and the field writers (notebook 03)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from kit.errors import WireFormatError

__all__ = [
    "BOOL",
    "BYTE",
    "DOUBLE",
    "I16",
    "I32",
    "I64",
    "LIST",
    "MAP",
    "SET",
    "STOP",
    "STRING",
    "STRUCT",
    "TYPE_NAMES",
    "Fields",
    "Struct",
    "field_bool",
    "field_i32",
    "field_i64",
    "field_list",
    "field_string",
    "field_struct",
    "read_fields",
    "string_item",
]

# TBinaryProtocol type codes
STOP, BOOL, BYTE, DOUBLE, I16, I32, I64, STRING, STRUCT, MAP, SET, LIST = 0, 2, 3, 4, 6, 8, 10, 11, 12, 13, 14, 15
TYPE_NAMES = {
    BOOL: "bool", BYTE: "byte", DOUBLE: "double", I16: "i16", I32: "i32", I64: "i64",
    STRING: "string", STRUCT: "struct", MAP: "map", SET: "set", LIST: "list",
}  # fmt: skip
# The fewest bytes one element of each type can take: counts are checked against this
# before anything is allocated, so a declared length of 2^31 fails at once.
_MIN_SIZE = {BOOL: 1, BYTE: 1, DOUBLE: 8, I16: 2, I32: 4, I64: 8, STRING: 4, STRUCT: 1, MAP: 6, SET: 5, LIST: 5}
_MAX_DEPTH = 32

_I16 = struct.Struct(">h")
_I32 = struct.Struct(">i")
_I64 = struct.Struct(">q")
_HEAD = struct.Struct(">bh")


# ----------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Struct:
    """A decoded struct: its fields by id as ``(type, value)``, and where it lay in the input."""

    fields: dict[int, tuple[int, Any]]
    start: int
    end: int


class _Reader:
    __slots__ = ("budget", "data", "pos", "what")

    def __init__(self, data: bytes, what: str) -> None:
        self.data = data
        self.pos = 0
        self.what = what
        # A decoded value costs far more memory than its bytes (an empty struct is one byte on
        # the wire, ~200 bytes in Python). Real events carry one value per ~50 bytes; this budget
        # stops a list of a million empty structs from turning 1 MB into 200 MB.
        self.budget = 1024 + len(data) // 32

    def fail(self, message: str) -> WireFormatError:
        return WireFormatError(f"{self.what}: {message} (at byte {self.pos} of {len(self.data)})")

    def take(self, n: int) -> bytes:
        if n > len(self.data) - self.pos:
            raise self.fail(f"needs {n} more bytes but only {len(self.data) - self.pos} remain (truncated?)")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def count(self, n: int, elem_type: int, what: str) -> int:
        if n < 0:
            raise self.fail(f"{what} has negative length {n}")
        room = len(self.data) - self.pos
        if n * _MIN_SIZE.get(elem_type, 1) > room:
            raise self.fail(f"{what} declares {n} elements, more than the {room} remaining bytes can hold")
        return n

    def value(self, ttype: int, depth: int) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise self.fail("holds more values than its size allows for an X Chat event (too many tiny elements)")
        if ttype == STRING:
            data, pos = self.data, self.pos
            if len(data) - pos >= 4:  # the common case in one step; anything odd takes the checked path
                (n,) = _I32.unpack_from(data, pos)
                if 0 <= n <= len(data) - pos - 4:
                    self.pos = pos + 4 + n
                    return data[pos + 4 : pos + 4 + n]
            (n,) = _I32.unpack(self.take(4))
            return self.take(self.count(n, BYTE, "string"))
        if ttype == STRUCT:
            return self.struct(depth + 1)
        if ttype == BOOL:
            b = self.take(1)[0]
            if b > 1:
                raise self.fail(f"bool must be 0 or 1, got {b}")
            return b == 1
        if ttype == BYTE:
            return self.take(1)[0]
        if ttype == I16:
            return _I16.unpack(self.take(2))[0]
        if ttype == I32:
            return _I32.unpack(self.take(4))[0]
        if ttype == I64:
            return _I64.unpack(self.take(8))[0]
        if ttype == DOUBLE:
            return struct.unpack(">d", self.take(8))[0]
        if ttype in (LIST, SET):
            self._depth(depth + 1)
            elem = self.take(1)[0]
            self._type(elem)
            (n,) = _I32.unpack(self.take(4))
            return [self.value(elem, depth + 1) for _ in range(self.count(n, elem, TYPE_NAMES[ttype]))]
        if ttype == MAP:
            self._depth(depth + 1)
            kt, vt = self.take(1)[0], self.take(1)[0]
            self._type(kt)
            self._type(vt)
            (n,) = _I32.unpack(self.take(4))
            if n < 0 or n * (_MIN_SIZE[kt] + _MIN_SIZE[vt]) > len(self.data) - self.pos:
                raise self.fail(f"map declares {n} entries, more than the remaining bytes can hold")
            return [(self.value(kt, depth + 1), self.value(vt, depth + 1)) for _ in range(n)]
        raise self.fail(f"unknown Thrift type {ttype}")  # pragma: no cover - _type() rejects first

    def _type(self, ttype: int) -> None:
        if ttype not in _MIN_SIZE:
            raise self.fail(f"unknown Thrift type code {ttype}")

    def _depth(self, depth: int) -> None:
        if depth > _MAX_DEPTH:
            raise self.fail(f"structs nested more than {_MAX_DEPTH} deep")

    def struct(self, depth: int = 0) -> Struct:
        self._depth(depth)
        data = self.data
        end = len(data)
        start = self.pos
        fields: dict[int, tuple[int, Any]] = {}
        while True:
            pos = self.pos
            if pos < end and data[pos] == STOP:
                self.pos = pos + 1
                return Struct(fields, start, pos + 1)
            if end - pos >= 3 and data[pos] in _MIN_SIZE:  # a whole field header: read it in one step
                ttype, fid = _HEAD.unpack_from(data, pos)
                self.pos = pos + 3
            else:  # truncated or unknown: the checked path names what is wrong
                ttype = self.take(1)[0]
                self._type(ttype)
                (fid,) = _I16.unpack(self.take(2))
            if fid in fields:
                raise self.fail(f"field {fid} appears twice in one struct")
            fields[fid] = (ttype, self.value(ttype, depth))


def read_fields(data: bytes, *, what: str = "Thrift struct") -> Struct:
    """Decode one whole struct (no trailing bytes allowed) into raw fields, for inspection."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise WireFormatError(f"{what} must be bytes, got {type(data).__name__}")
    reader = _Reader(bytes(data), what)
    out = reader.struct()
    if reader.pos != len(reader.data):
        raise reader.fail(f"{len(reader.data) - reader.pos} trailing bytes after the struct's STOP")
    return out


class Fields:
    """Typed access to a decoded struct's fields, with errors that name the field."""

    __slots__ = ("s", "what")

    def __init__(self, s: Struct, what: str) -> None:
        self.s = s
        self.what = what

    def get(self, fid: int, ttype: int, name: str, *, required: bool = False) -> Any:
        entry = self.s.fields.get(fid)
        if entry is None:
            if required:
                raise WireFormatError(f"{self.what}: field {fid} {name} is missing")
            return None
        got, value = entry
        if got != ttype:
            raise WireFormatError(
                f"{self.what}: field {fid} {name} must be a {TYPE_NAMES[ttype]}, got a {TYPE_NAMES.get(got, got)}"
            )
        return value

    def text(self, fid: int, name: str, *, required: bool = False) -> str | None:
        raw = self.get(fid, STRING, name, required=required)
        if raw is None:
            return None
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise WireFormatError(f"{self.what}: field {fid} {name} is not valid UTF-8") from None

    def text_list(self, fid: int, name: str, *, required: bool = False) -> tuple[str, ...]:
        """A ``list<string>`` field as text (empty when absent and not required)."""
        entry = self.s.fields.get(fid)
        if entry is not None and entry[0] != LIST:
            raise WireFormatError(
                f"{self.what}: field {fid} {name} must be a list of strings, got a {TYPE_NAMES.get(entry[0], entry[0])}"
            )
        items = self.get(fid, LIST, name, required=required)
        if items is None:
            return ()
        out = []
        for i, raw in enumerate(items):
            if not isinstance(raw, bytes):
                raise WireFormatError(f"{self.what}: field {fid} {name} must be a list of strings ({name}[{i}] is not)")
            try:
                out.append(raw.decode("utf-8"))
            except UnicodeDecodeError:
                raise WireFormatError(f"{self.what}: {name}[{i}] is not valid UTF-8") from None
        return tuple(out)


# ----------------------------------------------------------------------------- writing


def field_string(fid: int, value: str | bytes) -> bytes:
    raw = value.encode("utf-8") if isinstance(value, str) else value
    return _HEAD.pack(STRING, fid) + _I32.pack(len(raw)) + raw


def field_bool(fid: int, value: bool) -> bytes:
    return _HEAD.pack(BOOL, fid) + (b"\x01" if value else b"\x00")


def field_i64(fid: int, value: int) -> bytes:
    return _HEAD.pack(I64, fid) + _I64.pack(value)


def field_struct(fid: int, body: bytes) -> bytes:
    """A struct field whose `body` already ends with its STOP byte."""
    return _HEAD.pack(STRUCT, fid) + body


def field_list(fid: int, elem_type: int, items: list[bytes]) -> bytes:
    """A list field; each item is already encoded (a struct's bytes end with its STOP)."""
    return _HEAD.pack(LIST, fid) + bytes([elem_type]) + _I32.pack(len(items)) + b"".join(items)



def field_i32(fid: int, value: int) -> bytes:
    """An i32 field (entity offsets, the delete action)."""
    return _HEAD.pack(I32, fid) + _I32.pack(value)


def string_item(value: str) -> bytes:
    """One string as a list element: ``i32 length ‖ UTF-8``."""
    raw = value.encode("utf-8")
    return _I32.pack(len(raw)) + raw
