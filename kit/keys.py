"""Identities and public keys: the P-256 key pairs a user registers with X Chat.

An *identity* is one user's key pair set: an identity key (ECDH, the key conversation keys
are wrapped to) and a signing key (ECDSA, for action and message signatures), each on NIST
P-256. Their public halves, bound to each other by two signatures, are the user's
*public keys* as the API stores them.

Public keys travel in two encodings; the kit accepts both wherever a key comes in:

- SPKI DER, 91 bytes: the API's form (a fixed 26-byte header, then the point);
- SEC1, 65 bytes uncompressed (the SDK's own output) or 33 bytes compressed.

Both are read and written by `kit.points`; the names are re-exported here.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from kit import signature as _sig
from kit.encoding import b64, b64url_nopad, from_b64
from kit.errors import DecryptionError, SignatureError, WireFormatError
from kit.ids import check_user_id, check_version, new_version
from kit.points import CURVE as _CURVE
from kit.points import SPKI_PREFIX, PublicKeyLike, load_public_key, sec1, spki
from kit.wrap import unwrap as unwrap_key

__all__ = [
    "SPKI_PREFIX",
    "Identity",
    "PublicKeyLike",
    "PublicKeys",
    "fingerprint",
    "load_public_key",
    "sec1",
    "spki",
]

_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def fingerprint(identity_key: PublicKeyLike) -> str:
    """The public key fingerprint: base64url without padding of SHA-256 over the identity SPKI."""
    return b64url_nopad(hashlib.sha256(spki(load_public_key(identity_key, what="identity key"))).digest())


@dataclass(frozen=True)
class PublicKeys:
    """One user's registered public keys, as the API returns them (base64 SPKI).

    `identity_public_key_signature` binds the identity key to the signing key (signed by the
    signing key over the identity key's bytes in the encoding given); check it with
    `verify_binding()` before wrapping a conversation key to `public_key`.
    """

    user_id: str
    version: str
    public_key: str
    signing_public_key: str
    identity_public_key_signature: str = ""
    signing_public_key_signature: str = ""
    fingerprint: str = ""

    def __post_init__(self) -> None:
        check_user_id(self.user_id, what="public keys user_id")
        check_version(self.version, what="public keys version")

    @cached_property
    def identity_key(self) -> ec.EllipticCurvePublicKey:
        """The parsed identity (ECDH) public key (parsed once per object, then cached)."""
        return load_public_key(self.public_key, what=f"identity public key of user {self.user_id}")

    @cached_property
    def _identity_point(self) -> bytes:
        """The identity key as a 65-byte SEC1 point, as the wrap helper processes take it."""
        raw = from_b64(self.public_key, what=f"identity public key of user {self.user_id}")
        if len(raw) == 91 and raw[:26] == SPKI_PREFIX:
            self.identity_key  # noqa: B018 - parsed (and so checked to be on the curve) first
            return raw[26:]
        return sec1(self.identity_key)

    @cached_property
    def signing_key(self) -> ec.EllipticCurvePublicKey:
        """The parsed signing (ECDSA) public key."""
        return load_public_key(self.signing_public_key, what=f"signing public key of user {self.user_id}")

    def verify_binding(self) -> None:
        """Raise `SignatureError` unless the signing key signed this identity key (and, when present,
        the identity key signed this signing key).

        A `PublicKeys` cannot change, so a binding that verified once is not checked again on
        the same object (an init or a catch-up reuses the objects it fetched); a failure is.
        """
        if self.__dict__.get("_binding_verified"):
            return
        who = f"user {self.user_id} key version {self.version}"
        if not self.identity_public_key_signature:
            raise SignatureError(f"public keys of {who} carry no identity_public_key_signature to check")
        identity_bytes = from_b64(self.public_key, what=f"identity public key of {who}")
        sig = _sig.decode_signature(self.identity_public_key_signature, what=f"identity_public_key_signature of {who}")
        _sig.verify(self.signing_key, sig, identity_bytes, what=f"identity_public_key_signature of {who}")
        if self.signing_public_key_signature:
            signing_bytes = from_b64(self.signing_public_key, what=f"signing public key of {who}")
            sig = _sig.decode_signature(self.signing_public_key_signature, what=f"signing_public_key_signature of {who}")
            _sig.verify(self.identity_key, sig, signing_bytes, what=f"signing_public_key_signature of {who}")
        self.__dict__["_binding_verified"] = True

    @classmethod
    def from_api(cls, record: dict[str, Any], *, user_id: str) -> PublicKeys:
        """Build from one `PublicKey` object of a GET public-keys answer."""
        try:
            return cls(
                user_id=user_id,
                version=str(record["public_key_version"]),
                public_key=str(record["public_key"]),
                signing_public_key=str(record["signing_public_key"]),
                identity_public_key_signature=str(record.get("identity_public_key_signature", "")),
            )
        except KeyError as exc:
            raise WireFormatError(f"public key record of user {user_id} has no {exc.args[0]!r}") from None

    def to_api(self) -> dict[str, str]:
        """The `PublicKey` object the API returns for this record."""
        return {
            "public_key": self.public_key,
            "public_key_version": self.version,
            "signing_public_key": self.signing_public_key,
            "identity_public_key_signature": self.identity_public_key_signature,
        }


def _scalar_key(scalar: int) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(scalar, _CURVE)


class Identity:
    """A user's identity and signing key pairs (private: never printed, never in a repr).

    Make one with `generate()`, `from_seed()` (demo only), `import_keys()` or `import_protected()`.
    """

    __slots__ = ("__weakref__", "_identity", "_public_keys", "_signing", "user_id", "version")

    def __init__(
        self,
        user_id: str,
        identity_key: ec.EllipticCurvePrivateKey,
        signing_key: ec.EllipticCurvePrivateKey,
        *,
        version: str,
    ) -> None:
        self.user_id = check_user_id(user_id)
        self.version = check_version(version, what="key version")
        self._identity = identity_key
        self._signing = signing_key
        self._public_keys: PublicKeys | None = None

    @classmethod
    def generate(cls, user_id: str, *, version: str | None = None) -> Identity:
        """Fresh random keys for `user_id`; `version` defaults to the time in milliseconds."""
        return cls(
            user_id,
            ec.generate_private_key(_CURVE),
            ec.generate_private_key(_CURVE),
            version=version if version is not None else new_version(),
        )

    @classmethod
    def from_seed(cls, seed: str | bytes, user_id: str, *, version: str = "1") -> Identity:
        """DEMO ONLY: keys derived from a public seed, the same every run.

        Anyone who knows the seed has the private keys. Use it for lessons and test
        vectors, never for a real account.
        """
        seed_bytes = seed.encode("utf-8") if isinstance(seed, str) else bytes(seed)

        def scalar(label: bytes) -> int:
            digest = hashlib.sha512(b"xchat-kit demo identity\x00" + label + b"\x00" + seed_bytes).digest()
            return int.from_bytes(digest, "big") % (_ORDER - 1) + 1

        return cls(user_id, _scalar_key(scalar(b"identity")), _scalar_key(scalar(b"signing")), version=version)

    @classmethod
    def import_keys(cls, blob: bytes, *, user_id: str, version: str) -> Identity:
        """Load the 64-byte private blob (identity scalar ‖ signing scalar), the SDK's `export_keys()` layout."""
        if not isinstance(blob, (bytes, bytearray)) or len(blob) != 64:
            got = len(blob) if isinstance(blob, (bytes, bytearray)) else type(blob).__name__
            raise WireFormatError(f"private key blob must be exactly 64 bytes long, got {got}")
        keys = []
        for half, name in ((blob[:32], "identity"), (blob[32:], "signing")):
            scalar = int.from_bytes(half, "big")
            if not 0 < scalar < _ORDER:
                raise WireFormatError(f"private key blob: the {name} scalar is not in 1..n-1 for P-256")
            keys.append(_scalar_key(scalar))
        return cls(user_id, keys[0], keys[1], version=version)

    def export_keys(self) -> bytes:
        """The 64-byte private blob the SDK's `import_keys` accepts. Unprotected: see `export_protected`."""
        return b"".join(
            k.private_numbers().private_value.to_bytes(32, "big") for k in (self._identity, self._signing)
        )

    def export_protected(self, passphrase: str) -> bytes:
        """The private blob sealed under a passphrase (Argon2id + XSalsa20-Poly1305 via pynacl)."""
        from kit import vault

        meta = json.dumps({"user_id": self.user_id, "version": self.version}).encode()
        return vault.seal(self.export_keys() + meta, passphrase)

    @classmethod
    def import_protected(cls, sealed: bytes, passphrase: str) -> Identity:
        """Open a blob from `export_protected`; a wrong passphrase raises `DecryptionError`."""
        from kit import vault

        plain = vault.open_sealed(sealed, passphrase)
        try:
            meta = json.loads(plain[64:])
            return cls.import_keys(plain[:64], user_id=meta["user_id"], version=meta["version"])
        except (ValueError, KeyError, TypeError):
            raise DecryptionError("protected key blob opened but its contents are not an identity") from None

    @property
    def public_keys(self) -> PublicKeys:
        """The public keys to register and share, with both binding signatures and the fingerprint."""
        if self._public_keys is None:
            identity_spki = spki(self._identity.public_key())
            signing_spki = spki(self._signing.public_key())
            self._public_keys = PublicKeys(
                user_id=self.user_id,
                version=self.version,
                public_key=b64(identity_spki),
                signing_public_key=b64(signing_spki),
                identity_public_key_signature=b64(_sig.sign(self._signing, identity_spki)),
                signing_public_key_signature=b64(_sig.sign(self._identity, signing_spki)),
                fingerprint=b64url_nopad(hashlib.sha256(identity_spki).digest()),
            )
        return self._public_keys

    @property
    def fingerprint(self) -> str:
        """The identity key fingerprint (safe to show: it is public)."""
        return self.public_keys.fingerprint

    def sign(self, data: bytes) -> bytes:
        """Sign `data` with the signing key: 64 bytes ``r‖s``, RFC 6979 (same input, same output)."""
        return _sig.sign(self._signing, bytes(data))

    def unwrap(self, encrypted_conversation_key: str | bytes) -> bytes:
        """Open a conversation key wrapped to this identity (base64 text or the 113 raw bytes)."""
        if isinstance(encrypted_conversation_key, str):
            raw = from_b64(encrypted_conversation_key, what="encrypted_conversation_key", max_len=400)
        else:
            raw = bytes(encrypted_conversation_key)
        return unwrap_key(self._identity, raw)

    def exchange(self, public_key: PublicKeyLike) -> bytes:
        """Raw ECDH with the identity key (for showing the wrap step by step)."""
        return self._identity.exchange(ec.ECDH(), load_public_key(public_key))

    def registration_body(self, *, generate_version: bool = False) -> dict[str, Any]:
        """The JSON body of `POST /2/users/{id}/public_keys` (`AddUserPublicKeyRequest`)."""
        pk = self.public_keys
        return {
            "version": self.version,
            "generate_version": generate_version,
            "public_key": {
                "public_key": pk.public_key,
                "signing_public_key": pk.signing_public_key,
                "identity_public_key_signature": pk.identity_public_key_signature,
                "signing_public_key_signature": pk.signing_public_key_signature,
                "public_key_fingerprint": pk.fingerprint,
                "registration_method": "CustomPin",
            },
        }

    def __repr__(self) -> str:
        return f"Identity(user_id={self.user_id!r}, version={self.version!r}, fingerprint={self.fingerprint!r})"

    def __reduce__(self) -> Any:
        raise TypeError("an Identity holds private keys and is not pickled; use export_protected()")
