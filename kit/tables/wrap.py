"""The key wrap: the wrapped-key byte map, each step of one wrap, and what tampering does; notebook 02."""

from __future__ import annotations

from collections.abc import Iterable

from kit.errors import KitError
from kit.keys import Identity
from kit.tables.bytemap import ByteMap, segments_of
from kit.tables.format import Table, error_line, hex_pairs, raw_bytes
from kit.wrap import WRAPPED_KEY_SIZE, WrapSteps

__all__ = ["tamper_table", "wrap_steps_table", "wrapped_key_map"]


def wrapped_key_map(wrapped: bytes | str) -> ByteMap:
    """The 113 bytes of an `encrypted_conversation_key`: ephemeral point, ciphertext, tag."""
    raw = raw_bytes(wrapped, "encrypted_conversation_key")
    if len(raw) != WRAPPED_KEY_SIZE:
        raise ValueError(f"a wrapped conversation key is {WRAPPED_KEY_SIZE} bytes, got {len(raw)}")
    parts = [
        (1, "04: uncompressed-point prefix"),
        (32, "ephemeral public key X"),
        (32, "ephemeral public key Y"),
        (32, "ciphertext (AES-128-GCM of the conversation key)"),
        (16, "GCM tag"),
    ]
    return ByteMap(raw, segments_of(parts), title="wrapped conversation key")


def wrap_steps_table(steps: WrapSteps) -> Table:
    """Each intermediate value of one wrap (`kit.wrap.wrap_steps`), in order."""
    rows = [
        ("1", "E: ephemeral public key (SEC1)", steps.ephemeral_public),
        ("2", "Z: ECDH(ephemeral private, recipient public)", steps.shared_secret),
        ("3", "K: SHA-256(Z ‖ 00000001 ‖ E), X9.63 KDF", steps.kdf_output),
        ("4a", "AES-128 key = K[0:16]", steps.aes_key),
        ("4b", "GCM IV = K[16:32]", steps.iv),
        ("5a", "ciphertext", steps.ciphertext),
        ("5b", "GCM tag", steps.tag),
        ("6", "wrapped = E ‖ ciphertext ‖ tag", steps.wrapped),
    ]
    return Table([(n, what, len(v), hex_pairs(v)) for n, what, v in rows], columns=["step", "value", "length", "hex"])


def tamper_table(identity: Identity, wrapped: bytes, offsets: Iterable[int]) -> Table:
    """Flip the low bit of one byte of a wrapped key at each offset and try to unwrap it as `identity`."""
    raw = bytes(wrapped)
    fields = wrapped_key_map(raw).segments
    rows = []
    for i in offsets:
        changed = bytearray(raw)
        changed[i] ^= 0x01
        field = next(s.field for s in fields if s.offset <= i < s.offset + s.length)
        try:
            identity.unwrap(bytes(changed))
            result = "opened (this should never happen)"
        except KitError as exc:
            result = error_line(exc)
        rows.append((i, field, f"{raw[i]:02x} → {changed[i]:02x}", result))
    return Table(rows, columns=["offset", "field", "byte", "unwrap"])
