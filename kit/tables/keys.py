"""Public keys shown: the SPKI byte map, the public-keys table, a protected key blob's layout; notebook 01."""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Any

from kit.errors import KitError
from kit.keys import SPKI_PREFIX, PublicKeys, fingerprint, load_public_key, spki
from kit.tables.bytemap import ByteMap, segments_of
from kit.tables.format import Table, error_line, preview

__all__ = ["public_keys_table", "sealed_key_table", "spki_map"]


def spki_map(key: Any) -> ByteMap:
    """The 91-byte SPKI DER of a P-256 public key: the 26-byte header, then the SEC1 point."""
    raw = spki(load_public_key(key))
    assert raw.startswith(SPKI_PREFIX)
    parts = [
        (2, "30 59: SEQUENCE, 89 bytes"),
        (2, "30 13: SEQUENCE (algorithm), 19 bytes"),
        (2, "06 07: OBJECT IDENTIFIER, 7 bytes"),
        (7, "1.2.840.10045.2.1 id-ecPublicKey"),
        (2, "06 08: OBJECT IDENTIFIER, 8 bytes"),
        (8, "1.2.840.10045.3.1.7 prime256v1 (P-256)"),
        (2, "03 42: BIT STRING, 66 bytes"),
        (1, "00: no unused bits"),
        (1, "04: uncompressed-point prefix (SEC1 starts here)"),
        (32, "X"),
        (32, "Y"),
    ]
    return ByteMap(raw, segments_of(parts), title="SPKI public key")


def public_keys_table(keys: Iterable[PublicKeys]) -> Table:
    """Registered public keys: who, which version, the fingerprint, and whether the binding verifies."""
    rows = []
    for pk in keys:
        try:
            pk.verify_binding()
            binding = "verified"
        except KitError as exc:
            binding = error_line(exc)
        rows.append((pk.user_id, pk.version, fingerprint(pk.public_key), preview(pk.public_key), binding))
    return Table(rows, columns=["user_id", "key version", "fingerprint", "identity key (SPKI, base64)", "binding"])


def sealed_key_table(sealed: bytes) -> Table:
    """The layout of a passphrase-protected private key blob (`Identity.export_protected`).

    Shows lengths and the public parameters, never the secret or random bytes.
    """
    raw = bytes(sealed)
    ops, mem = struct.unpack_from(">II", raw, 5)
    rows = [
        (0, 5, "magic", repr(raw[:5].decode("ascii", "replace"))),
        (5, 4, "Argon2id opslimit", str(ops)),
        (9, 4, "Argon2id memlimit", f"{mem} bytes ({mem // 2**20} MiB)"),
        (13, 16, "salt", "random, public"),
        (29, 24, "nonce", "random, public"),
        (53, 16, "Poly1305 tag", "checks the passphrase and every byte"),
        (69, len(raw) - 69, "ciphertext", "64-byte private blob + user id and key version"),
    ]
    return Table(rows, columns=["offset", "length", "field", "value"])
