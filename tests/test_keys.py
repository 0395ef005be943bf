"""kit.keys: identities, public keys, their encodings, binding signatures and export."""

from __future__ import annotations

import base64
import copy
import dataclasses
import hashlib
import json
import pickle
from importlib import resources

import jsonschema
import pytest
import referencing
import referencing.jsonschema
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

import kit
from kit import keys
from kit.errors import SignatureError, WireFormatError
from kit.keys import SPKI_PREFIX, Identity, PublicKeys, fingerprint, load_public_key, sec1, spki
from kit.signature import decode_signature, encode_signature, verify

N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B


def _on_curve(x: int, y: int) -> bool:
    return (y * y - (x * x * x - 3 * x + B)) % P == 0


# ----------------------------------------------------------------------------- encodings


def test_spki_prefix_is_the_spec_value():
    assert SPKI_PREFIX.hex() == "3059301306072a8648ce3d020106082a8648ce3d030107034200"
    assert len(SPKI_PREFIX) == 26


def test_spki_and_sec1_match_cryptography(alice):
    pub = load_public_key(alice.public_keys.public_key)
    der = pub.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    assert spki(pub) == der
    assert len(der) == 91
    assert der[:26] == SPKI_PREFIX
    point = sec1(pub)
    assert len(point) == 65 and point[0] == 4
    assert point == pub.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


def test_every_encoding_loads_the_same_key(alice):
    pub = load_public_key(alice.public_keys.public_key)
    point = sec1(pub)
    compressed = pub.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
    assert len(compressed) == 33
    forms = [
        pub,
        spki(pub),
        point,
        compressed,
        bytearray(point),
        base64.b64encode(spki(pub)).decode(),
        base64.b64encode(point).decode(),
        base64.b64encode(compressed).decode(),
        base64.b64encode(point).decode().rstrip("="),
    ]
    for form in forms:
        assert sec1(load_public_key(form)) == point


def test_off_curve_point_rejected(alice):
    point = bytearray(sec1(load_public_key(alice.public_keys.public_key)))
    point[-1] ^= 0x01  # change y: (x, y') is on the curve only for y' = y or p - y
    assert not _on_curve(int.from_bytes(point[1:33], "big"), int.from_bytes(point[33:], "big"))
    for form in (bytes(point), SPKI_PREFIX + bytes(point), base64.b64encode(bytes(point)).decode()):
        with pytest.raises(WireFormatError, match="^identity key is not a point on the P-256 curve"):
            load_public_key(form, what="identity key")


@pytest.mark.parametrize(
    "raw",
    [
        b"\x04" + bytes(64),  # (0, 0) is not on the curve
        b"\x00" * 65,
        b"\x05" + bytes(range(64)),  # unknown point marker
        b"\x02" + bytes(64),  # compressed marker on a 65-byte input
        b"\x04" + bytes(32),  # uncompressed marker on a 33-byte input
        b"\x02" + b"\xff" * 32,  # x >= p
        b"\x04" + P.to_bytes(32, "big") + bytes(32),  # x = p
    ],
)
def test_bad_points_rejected(raw):
    with pytest.raises(WireFormatError, match="not a point on the P-256 curve"):
        load_public_key(raw)


def test_wrong_der_header_rejected(alice):
    der = bytearray(spki(load_public_key(alice.public_keys.public_key)))
    der[18] ^= 0x01  # inside the curve OID
    with pytest.raises(WireFormatError, match="wrong DER header"):
        load_public_key(bytes(der))
    # a P-384 or secp256k1 SPKI is not a P-256 key
    other = (
        ec.generate_private_key(ec.SECP256K1())
        .public_key()
        .public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    )
    assert len(other) == 88
    with pytest.raises(WireFormatError, match="got 88 bytes"):
        load_public_key(other)


@pytest.mark.parametrize("n", [0, 1, 32, 34, 64, 66, 90, 92, 120])
def test_wrong_length_rejected(n):
    with pytest.raises(
        WireFormatError, match=rf"^signing key must be SPKI \(91 bytes\) or SEC1 \(65 or 33 bytes\), got {n} bytes"
    ):
        load_public_key(b"\x04" * n, what="signing key")


@pytest.mark.parametrize("value", [None, 5, 1.0, ["x"], memoryview(b"x" * 65)])
def test_wrong_type_rejected(value):
    with pytest.raises(WireFormatError, match="must be bytes or base64 text"):
        load_public_key(value)


def test_bad_base64_text_rejected():
    with pytest.raises(WireFormatError, match="^peer key is not valid base64"):
        load_public_key("not base64!", what="peer key")
    with pytest.raises(WireFormatError, match="more than the 200 allowed"):
        load_public_key("A" * 400)


# ----------------------------------------------------------------------------- fingerprint


def test_fingerprint_is_sha256_of_spki(alice):
    der = base64.b64decode(alice.public_keys.public_key)
    want = base64.urlsafe_b64encode(hashlib.sha256(der).digest()).decode().rstrip("=")
    assert len(want) == 43
    assert alice.fingerprint == want
    assert alice.public_keys.fingerprint == want
    point = der[26:]
    # the same fingerprint whatever form the key is given in
    assert fingerprint(point) == want
    assert fingerprint(base64.b64encode(point).decode()) == want
    assert kit.fingerprint(alice.public_keys.public_key) == want


def test_fingerprints_differ(alice, bob):
    assert alice.fingerprint != bob.fingerprint


# ----------------------------------------------------------------------------- binding


def test_both_bindings_verify_independently(alice):
    pk = alice.public_keys
    identity_der = base64.b64decode(pk.public_key)
    signing_der = base64.b64decode(pk.signing_public_key)
    assert len(identity_der) == 91 and len(signing_der) == 91
    assert len(pk.identity_public_key_signature) == 88 and pk.identity_public_key_signature.endswith("==")
    assert len(pk.signing_public_key_signature) == 88
    # identity_public_key_signature: the signing key over the identity SPKI
    verify(load_public_key(signing_der), decode_signature(pk.identity_public_key_signature), identity_der)
    # signing_public_key_signature: the identity key over the signing SPKI
    verify(load_public_key(identity_der), decode_signature(pk.signing_public_key_signature), signing_der)
    pk.verify_binding()


def test_swapped_identity_key_breaks_binding(alice, bob):
    forged = dataclasses.replace(alice.public_keys, public_key=bob.public_keys.public_key)
    with pytest.raises(SignatureError, match="identity_public_key_signature"):
        forged.verify_binding()


def test_swapped_signing_key_breaks_binding(alice, bob):
    forged = dataclasses.replace(alice.public_keys, signing_public_key=bob.public_keys.signing_public_key)
    with pytest.raises(SignatureError):
        forged.verify_binding()


def test_swapped_reverse_signature_breaks_binding(alice, bob):
    forged = dataclasses.replace(
        alice.public_keys, signing_public_key_signature=bob.public_keys.signing_public_key_signature
    )
    with pytest.raises(SignatureError, match="signing_public_key_signature"):
        forged.verify_binding()


def test_binding_without_reverse_signature_still_checks_forward(alice, bob):
    # GET public-keys answers carry only identity_public_key_signature
    pk = dataclasses.replace(alice.public_keys, signing_public_key_signature="")
    pk.verify_binding()
    with pytest.raises(SignatureError):
        dataclasses.replace(pk, public_key=bob.public_keys.public_key).verify_binding()


def test_missing_binding_rejected(alice):
    with pytest.raises(SignatureError, match="no identity_public_key_signature"):
        dataclasses.replace(alice.public_keys, identity_public_key_signature="").verify_binding()


def test_binding_is_over_the_encoding_given(alice):
    # A binding signed over SPKI does not verify when the identity key is given raw (CONFIRMED-X)
    pk = alice.public_keys
    raw_identity = base64.b64encode(base64.b64decode(pk.public_key)[26:]).decode()
    raw = dataclasses.replace(pk, public_key=raw_identity, signing_public_key_signature="")
    with pytest.raises(SignatureError, match="does not verify"):
        raw.verify_binding()
    # ... and one signed over the raw point verifies only in raw form
    point = base64.b64decode(raw_identity)
    sig_raw = encode_signature(alice.sign(point), padded=True)
    dataclasses.replace(raw, identity_public_key_signature=sig_raw).verify_binding()
    with pytest.raises(SignatureError):
        dataclasses.replace(pk, identity_public_key_signature=sig_raw, signing_public_key_signature="").verify_binding()


def test_binding_with_garbage_signature_text(alice):
    with pytest.raises(WireFormatError, match="identity_public_key_signature"):
        dataclasses.replace(alice.public_keys, identity_public_key_signature="!!").verify_binding()


# ----------------------------------------------------------------------------- PublicKeys


def test_public_keys_validate_ids():
    with pytest.raises(WireFormatError, match="user_id"):
        PublicKeys(user_id="alice", version="1", public_key="", signing_public_key="")
    with pytest.raises(WireFormatError, match="version"):
        PublicKeys(user_id="1", version="v1", public_key="", signing_public_key="")


def test_public_keys_api_round_trip(alice):
    pk = alice.public_keys
    record = pk.to_api()
    assert set(record) == {"public_key", "public_key_version", "signing_public_key", "identity_public_key_signature"}
    back = PublicKeys.from_api(record, user_id=alice.user_id)
    assert back.public_key == pk.public_key and back.version == pk.version
    assert back.signing_public_key_signature == ""
    back.verify_binding()


def test_public_keys_from_api_missing_member(alice):
    record = alice.public_keys.to_api()
    del record["signing_public_key"]
    with pytest.raises(WireFormatError, match="has no 'signing_public_key'"):
        PublicKeys.from_api(record, user_id=alice.user_id)


def test_parsed_keys(alice):
    pk = alice.public_keys
    assert sec1(pk.identity_key) == base64.b64decode(pk.public_key)[26:]
    assert sec1(pk.signing_key) == base64.b64decode(pk.signing_public_key)[26:]
    assert sec1(pk.identity_key) != sec1(pk.signing_key)


def test_bad_public_key_text_raises_on_use():
    pk = PublicKeys(user_id="1", version="1", public_key="AAAA", signing_public_key="AAAA")
    with pytest.raises(WireFormatError, match="identity public key of user 1"):
        pk.identity_key  # noqa: B018


# ----------------------------------------------------------------------------- export / import


def test_export_import_round_trip(alice):
    blob = alice.export_keys()
    assert len(blob) == 64
    back = Identity.import_keys(blob, user_id=alice.user_id, version=alice.version)
    assert back.public_keys.public_key == alice.public_keys.public_key
    assert back.public_keys.signing_public_key == alice.public_keys.signing_public_key
    assert back.fingerprint == alice.fingerprint
    assert back.sign(b"x") == alice.sign(b"x")  # RFC 6979: same scalar, same signature
    assert Identity.import_keys(bytearray(blob), user_id="5", version="2").export_keys() == blob


def test_export_layout_is_identity_then_signing(alice):
    blob = alice.export_keys()
    ident = ec.derive_private_key(int.from_bytes(blob[:32], "big"), ec.SECP256R1())
    signing = ec.derive_private_key(int.from_bytes(blob[32:], "big"), ec.SECP256R1())
    assert spki(ident.public_key()) == base64.b64decode(alice.public_keys.public_key)
    assert spki(signing.public_key()) == base64.b64decode(alice.public_keys.signing_public_key)


@pytest.mark.parametrize("n", [0, 32, 63, 65, 128])
def test_import_rejects_wrong_length(n):
    with pytest.raises(WireFormatError, match=rf"^private key blob must be exactly 64 bytes long, got {n}"):
        Identity.import_keys(b"\x01" * n, user_id="1", version="1")


def test_import_rejects_wrong_type():
    with pytest.raises(WireFormatError, match="got str"):
        Identity.import_keys("x" * 64, user_id="1", version="1")


@pytest.mark.parametrize(
    ("blob", "name"),
    [
        (bytes(32) + b"\x01" * 32, "identity"),
        (b"\x01" * 32 + bytes(32), "signing"),
        (N.to_bytes(32, "big") + b"\x01" * 32, "identity"),
        (b"\x01" * 32 + (N + 1).to_bytes(32, "big"), "signing"),
        (b"\xff" * 64, "identity"),
    ],
)
def test_import_rejects_scalar_out_of_range(blob, name):
    with pytest.raises(WireFormatError, match=f"the {name} scalar is not in 1..n-1"):
        Identity.import_keys(blob, user_id="1", version="1")


def test_import_accepts_extremes():
    Identity.import_keys((1).to_bytes(32, "big") + (N - 1).to_bytes(32, "big"), user_id="1", version="1")


def test_import_validates_ids():
    blob = b"\x01" * 64
    with pytest.raises(WireFormatError):
        Identity.import_keys(blob, user_id="bob", version="1")
    with pytest.raises(WireFormatError):
        Identity.import_keys(blob, user_id="1", version="one")


def test_from_seed_deterministic_and_distinct():
    a1 = Identity.from_seed("seed one", "1")
    a2 = Identity.from_seed("seed one", "1")
    a3 = Identity.from_seed(b"seed one", "1")
    b = Identity.from_seed("seed two", "1")
    assert a1.export_keys() == a2.export_keys() == a3.export_keys()
    assert a1.export_keys() != b.export_keys()
    blob = a1.export_keys()
    assert blob[:32] != blob[32:]  # identity and signing keys differ
    assert a1.version == "1"
    assert Identity.from_seed("seed one", "1", version="9").version == "9"


def test_generate_is_random():
    a, b = Identity.generate("1", version="1"), Identity.generate("1", version="1")
    assert a.export_keys() != b.export_keys()
    assert Identity.generate("1").version.isdigit()


# ----------------------------------------------------------------------------- secrecy


def _secret_forms(identity: Identity) -> list[str]:
    blob = identity.export_keys()
    forms = []
    for half in (blob[:32], blob[32:]):
        forms += [
            half.hex(),
            half.hex().upper(),
            str(int.from_bytes(half, "big")),
            base64.b64encode(half).decode().rstrip("="),
            base64.urlsafe_b64encode(half).decode().rstrip("="),
        ]
    forms += [blob.hex(), base64.b64encode(blob).decode().rstrip("=")]
    return forms


def test_repr_and_str_hide_private_scalars(alice):
    shown = [repr(alice), str(alice), f"{alice}", format(alice, ""), repr([alice]), repr({"x": alice})]
    for text in shown:
        assert alice.user_id in text
        for secret in _secret_forms(alice):
            assert secret not in text
    assert alice.fingerprint in repr(alice)


def test_identity_has_no_instance_dict(alice):
    # __slots__: vars() cannot dump the private keys by accident
    with pytest.raises(TypeError):
        vars(alice)


def test_pickling_refused(alice):
    with pytest.raises(TypeError, match="not pickled"):
        pickle.dumps(alice)
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        with pytest.raises(TypeError):
            pickle.dumps(alice, protocol=protocol)
    with pytest.raises(TypeError):
        copy.deepcopy(alice)


# ----------------------------------------------------------------------------- registration


def _schema_validator() -> jsonschema.protocols.Validator:
    doc = json.loads(resources.files("kit.spec").joinpath("x-api-chat-openapi.json").read_text("utf-8"))
    uri = "urn:xchat-kit:openapi"
    resource = referencing.Resource.from_contents(doc, default_specification=referencing.jsonschema.DRAFT202012)
    registry = referencing.Registry().with_resource(uri, resource)
    schema = {"$ref": f"{uri}#/components/schemas/AddUserPublicKeyRequest"}
    return jsonschema.Draft202012Validator(schema, registry=registry)


def _schema_properties(name: str) -> set[str]:
    doc = json.loads(resources.files("kit.spec").joinpath("x-api-chat-openapi.json").read_text("utf-8"))
    return set(doc["components"]["schemas"][name]["properties"])


def test_registration_body_matches_openapi_schema(alice):
    validator = _schema_validator()
    body = alice.registration_body()
    errors = sorted(validator.iter_errors(body), key=str)
    assert not errors, [e.message for e in errors]
    # The schema allows extra members; the kit sends none the document does not name.
    assert set(body) <= _schema_properties("AddUserPublicKeyRequest")
    assert set(body["public_key"]) <= _schema_properties("AddUserPublicKeyPublicKey")
    # ... and the validator is live: a broken body fails it
    assert list(validator.iter_errors({**body, "version": 1}))
    assert list(validator.iter_errors({**body, "public_key": {**body["public_key"], "public_key": 5}}))
    assert list(validator.iter_errors({"public_key": body["public_key"]}))


def test_registration_body_content(alice):
    body = alice.registration_body(generate_version=True)
    pk = body["public_key"]
    assert body["version"] == alice.version
    assert body["generate_version"] is True
    assert alice.registration_body()["generate_version"] is False
    assert pk["registration_method"] == "CustomPin"
    assert len(base64.b64decode(pk["public_key"], validate=True)) == 91
    assert len(base64.b64decode(pk["signing_public_key"], validate=True)) == 91
    assert pk["public_key_fingerprint"] == alice.fingerprint
    for name in ("identity_public_key_signature", "signing_public_key_signature"):
        assert len(pk[name]) == 88 and pk[name].endswith("==")
    for secret in _secret_forms(alice):
        assert secret not in json.dumps(body)


def test_keys_module_all():
    assert len(set(keys.__all__)) == len(keys.__all__)
    for name in keys.__all__:
        assert hasattr(keys, name)
