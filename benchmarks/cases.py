"""The rows: what is measured, against what, and with which inputs.

Every identity is a kit identity; where chatxdk needs a private key it imports the kit's
64-byte export (`Chat().import_keys(...)`), so both sides work on the same keys and the same
bytes. Floors call the primitives directly through `cryptography` (and pynacl for messages).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

import kit
import kit.wrap as kwrap
import kit.wrap.workers as kworkers
from benchmarks.harness import Contender, Row, fill, measure, median
from kit import signature as ksig
from kit import thrift
from kit.encoding import b64_nopad
from kit.protocol import key_change_event

REPO = Path(__file__).resolve().parent.parent
CURVE = ec.SECP256R1()
ECDH = ec.ECDH()
ECDSA_DET = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
ECDSA = ec.ECDSA(hashes.SHA256())
ALICE = "1215441834412953600"
BOB = "1603419180975409153"
SEQ = 2070276095283454100  # above the SDK's strict key-change threshold
CREATED = "1795545957535"


@dataclass
class Config:
    """Sizes and repetitions. `Config()` is the full run; `Config.tiny()` the unit-test smoke run."""

    sizes: tuple[int, ...] = (1, 2, 10, 100, 1000, 10_000)
    rounds: int = 9  # interleaved rounds per row
    big_rounds: int = 3  # rounds for rosters of 5,000 or more
    target: float = 0.03  # seconds per batch (calibrated per contender)
    crossover_sizes: tuple[int, ...] = (64, 128, 256, 512, 1024, 2048)
    cold_n: int = 1000  # roster of the "keys fresh from the API" init row
    catchup_k: int = 5
    catchup_m: int = 100
    sandbox_batch: int = 40  # init calls per batch, in-process
    loopback_threads: int = 4
    loopback_requests: int = 60  # per thread per phase per round
    loopback_rounds: int = 5
    room_learners: int = 30  # the room row (benchmarks.room): learners joining and pairing
    room_rounds: int = 5
    import_runs: int = 9
    memory_n: int = 10_000
    notebooks: Path | None = REPO / "notebooks"
    nbval_empty_runs: int = 2
    openssl_speed: bool = True
    only: frozenset[str] = frozenset()  # groups to run; empty = all
    progress: Callable[[str], None] = field(default=lambda msg: print(msg, file=sys.stderr, flush=True))

    @classmethod
    def tiny(cls, **overrides: Any) -> Config:
        base = cls(
            sizes=(1, 2, 10),
            rounds=2,
            big_rounds=1,
            target=0.001,
            crossover_sizes=(64, 128),
            cold_n=10,
            catchup_k=1,
            catchup_m=2,
            sandbox_batch=2,
            loopback_threads=2,
            loopback_requests=3,
            loopback_rounds=1,
            room_learners=4,
            room_rounds=1,
            import_runs=1,
            memory_n=20,
            notebooks=None,
            nbval_empty_runs=1,
            openssl_speed=False,
            progress=lambda msg: None,
        )
        return dataclasses.replace(base, **overrides)

    def wants(self, group: str) -> bool:
        return not self.only or group in self.only


# ----------------------------------------------------------------------------- shared inputs


def uid(i: int) -> str:
    return str(3_000_000_000_000_000_000 + i)


class World:
    """Identities and chatxdk instances shared by the rows (made once)."""

    def __init__(self, n_max: int) -> None:
        from chat_xdk import Chat

        self.Chat = Chat
        self.alice = kit.Identity.generate(ALICE)
        self.bob = kit.Identity.generate(BOB)
        self.alice_pk = self.alice.public_keys
        self.bob_pk = self.bob.public_keys
        self.others = [kit.Identity.generate(uid(i)).public_keys for i in range(max(n_max - 1, 1))]
        for pk in (self.bob_pk, *self.others):  # what a client does once when it fetches keys
            pk.identity_key  # noqa: B018
            pk._identity_point  # noqa: B018
            pk.verify_binding()
        self.sdk_alice = self.sdk_of(self.alice)
        self.sdk_bob = self.sdk_of(self.bob)

    def sdk_of(self, identity: kit.Identity) -> Any:
        chat = self.Chat()
        chat.import_keys(identity.export_keys(), version=identity.version)
        chat.set_identity(identity.user_id, identity.version)
        return chat

    @staticmethod
    def sdk_entry(pk: kit.PublicKeys) -> dict[str, str]:
        return {"user_id": pk.user_id, "public_key": pk.public_key, "key_version": pk.version}

    @staticmethod
    def sdk_signing_entry(pk: kit.PublicKeys) -> dict[str, str]:
        return {
            "user_id": pk.user_id,
            "public_key_version": pk.version,
            "public_key": pk.signing_public_key,
            "identity_public_key": pk.public_key,
            "identity_public_key_signature": pk.identity_public_key_signature,
        }

    @staticmethod
    def private(identity: kit.Identity, which: str) -> ec.EllipticCurvePrivateKey:
        blob = identity.export_keys()
        half = blob[:32] if which == "identity" else blob[32:]
        return ec.derive_private_key(int.from_bytes(half, "big"), CURVE)


def event_b64(init: kit.KeyInit, sender: kit.Identity, seq: int) -> str:
    ev = key_change_event(
        init.body, sender_id=sender.user_id, conversation_id=init.conversation_id, sequence_id=str(seq), created_at_msec=CREATED
    )
    return base64.b64encode(ev.encode()).decode()


def message_event_b64(pm: kit.PreparedMessage, sender: kit.Identity, seq: int) -> str:
    sig = thrift.read_event_signature(base64.b64decode(pm.body["encoded_message_event_signature"]))
    ev = thrift.MessageEvent(
        sequence_id=str(seq),
        message_id=pm.message_id,
        sender_id=sender.user_id,
        conversation_id=pm.conversation_id,
        created_at_msec=CREATED,
        detail=pm.create_event.encode_detail(),
        signature=sig,
    )
    return base64.b64encode(ev.encode()).decode()


def der(sig64: bytes) -> bytes:
    return encode_dss_signature(int.from_bytes(sig64[:32], "big"), int.from_bytes(sig64[32:], "big"))


def _workers(value: int | None) -> Callable[[], None]:
    def setup() -> None:
        kworkers.WORKERS = value

    return setup


# ----------------------------------------------------------------------------- crypto rows


def row_keygen(cfg: Config, w: World) -> Row:
    Chat = w.Chat
    sha = hashlib.sha256
    DER, SPKI = Encoding.DER, PublicFormat.SubjectPublicKeyInfo

    def floor() -> None:
        a, b = ec.generate_private_key(CURVE), ec.generate_private_key(CURVE)
        sa = a.public_key().public_bytes(DER, SPKI)
        sb = b.public_key().public_bytes(DER, SPKI)
        b.sign(sa, ECDSA_DET)
        a.sign(sb, ECDSA_DET)
        sha(sa).digest()

    samples, _ = measure(
        [
            Contender("kit", lambda: kit.Identity.generate(ALICE).public_keys),
            Contender("chatxdk", lambda: Chat().generate_keypairs()),
            Contender("floor", floor),
        ],
        rounds=cfg.rounds,
        target=cfg.target,
    )
    row = Row("keygen", "keys", "key generation (identity + signing, 2 binding sigs, fingerprint)", "s")
    row.note = "kit: Identity.generate(...).public_keys; chatxdk: Chat().generate_keypairs(); floor: 2 keygens, 2 SPKI encodings, 2 signs, 1 SHA-256"
    return fill(row, samples, {"chatxdk / kit": ("chatxdk", "kit"), "kit / floor": ("kit", "floor")})


def row_init(cfg: Config, w: World, n: int) -> Row:
    others = w.others[: n - 1]
    cid = None if n == 2 else "g1"
    roster_pk = [w.alice_pk, *others] if n != 2 else [w.alice_pk, w.bob_pk]
    peers = others if n != 2 else [w.bob_pk]
    entries = [w.sdk_entry(pk) for pk in roster_pk]
    publics = [pk.identity_key for pk in roster_pk]
    sdk = w.sdk_alice
    alice = w.alice
    w.alice_pk.identity_key  # noqa: B018

    def kit_init() -> None:
        kit.prepare_key_init(alice, peers, cid)

    if cid is None:
        def sdk_init() -> None:
            sdk.prepare_conversation_key_change(entries)
    else:
        def sdk_init() -> None:
            sdk.prepare_conversation_key_change(entries, conversation_id=cid)

    def floor() -> None:
        gen = ec.generate_private_key
        for p in publics:
            gen(CURVE).exchange(ECDH, p)

    big = n >= 5000  # calls of a second or more: one per batch, no warm-up for chatxdk and the floor
    contenders = [
        Contender("kit", kit_init, ops=n, setup=_workers(0)),
        Contender("chatxdk", sdk_init, ops=n, warmup=not big),
        Contender("floor", floor, ops=n, warmup=not big),
    ]
    parallel = n >= kworkers.PARALLEL_MIN and kworkers.usable_cores() > 1
    if parallel:
        contenders.insert(1, Contender("kit (all cores)", kit_init, ops=n, setup=_workers(None)))
    rounds = cfg.big_rounds if big else cfg.rounds
    try:
        samples, _ = measure(contenders, rounds=rounds, target=cfg.target, max_inner=1 if big else 100_000)
    finally:
        kworkers.WORKERS = None
    row = Row(f"init_{n}", "init", f"init N={n:,} (wrap, sign, encode)", "s", per="participant")
    row.extra["n"] = n
    ratios = {"kit / floor": ("kit", "floor"), "chatxdk / kit": ("chatxdk", "kit")}
    if parallel:
        ratios["one core / all cores"] = ("kit", "kit (all cores)")
        ratios["chatxdk / kit (all cores)"] = ("chatxdk", "kit (all cores)")
    fill(row, samples, ratios, no_cpu=("kit (all cores)",))
    row.extra["whole_kit_s"] = row.values["kit"] * n
    row.extra["whole_kit_cpu_s"] = row.cpu_values["kit"] * n
    row.extra["whole_chatxdk_s"] = row.values["chatxdk"] * n
    row.note = "kit one core (kit.wrap.workers.WORKERS = 0); participant keys parsed and bindings checked once, before (cached on PublicKeys)"
    return row


def row_init_cold(cfg: Config, w: World) -> Row:
    """The same init with PublicKeys fresh from an API answer: parse and binding checks included."""
    n = cfg.cold_n
    records = [(pk.user_id, pk.to_api()) for pk in w.others[: n - 1]]
    entries = [w.sdk_entry(pk) for pk in [w.alice_pk, *w.others[: n - 1]]]
    sdk = w.sdk_alice
    alice = w.alice
    fresh: list[list[kit.PublicKeys]] = []

    def setup() -> None:
        kworkers.WORKERS = 0
        fresh.clear()
        fresh.append([kit.PublicKeys.from_api(r, user_id=u) for u, r in records])

    def kit_init() -> None:
        kit.prepare_key_init(alice, fresh.pop() if fresh else [kit.PublicKeys.from_api(r, user_id=u) for u, r in records], "g1")

    publics = [pk.identity_key for pk in [w.alice_pk, *w.others[: n - 1]]]

    def floor() -> None:
        gen = ec.generate_private_key
        for p in publics:
            gen(CURVE).exchange(ECDH, p)

    try:
        samples, _ = measure(
            [
                Contender("kit", kit_init, ops=n, setup=setup),
                Contender("chatxdk", lambda: sdk.prepare_conversation_key_change(entries, conversation_id="g1"), ops=n),
                Contender("floor", floor, ops=n),
            ],
            rounds=max(2, cfg.rounds // 2) if n < 5000 else cfg.big_rounds,
            target=cfg.target,
            max_inner=1,
        )
    finally:
        kworkers.WORKERS = None
    row = Row(
        "init_cold", "keys", f"init N={n:,}, keys fresh from the API (parse + 2 binding verifies each)", "s", per="participant"
    )
    row.note = "chatxdk does not check key bindings in prepare_*; the kit does (verify_bindings=True), once per PublicKeys object"
    return fill(row, samples, {"kit / floor": ("kit", "floor"), "chatxdk / kit": ("chatxdk", "kit")})


def rows_crossover(cfg: Config, w: World) -> tuple[list[Row], int | None]:
    """Wrap only (kit.wrap.wrap_all): one core against this process plus helpers, warm helpers."""
    rows: list[Row] = []
    key = os.urandom(32)
    saved = (kworkers.PARALLEL_MIN, kworkers.WORKERS)
    if kworkers.usable_cores() < 2:
        row = Row("crossover", "crossover", "wrap on all cores vs one core", "s", status="absent: one usable core")
        return [row], None
    try:
        kworkers.PARALLEL_MIN = 0
        kworkers.WORKERS = None
        kwrap.wrap_all(key, [w.others[0].identity_key] * 256)  # start the helper now, not in a timed batch
        for n in cfg.crossover_sizes:
            pks = (w.others * (n // max(len(w.others), 1) + 1))[:n]
            publics = [pk.identity_key for pk in pks]

            def points(a: int, b: int, pks: list[kit.PublicKeys] = pks) -> list[bytes]:
                return [pk._identity_point for pk in pks[a:b]]

            def one(publics: list = publics) -> None:
                kwrap.wrap_all(key, publics)

            def both(publics: list = publics, points: Callable = points) -> None:
                kwrap.wrap_all(key, publics, points=points)

            samples, _ = measure(  # short calls: more rounds, so a noisy round weighs less
                [Contender("one core", one, ops=n, setup=_workers(0)), Contender("all cores", both, ops=n, setup=_workers(None))],
                rounds=cfg.rounds * (2 if n <= 512 else 1),
                target=max(cfg.target, 0.002),
            )
            row = Row(f"crossover_{n}", "crossover", f"wrap only N={n:,}: all cores vs one core", "s", per="participant")
            row.extra["n"] = n
            rows.append(fill(row, samples, {"one core / all cores": ("one core", "all cores")}, no_cpu=("all cores",)))
    finally:
        kworkers.PARALLEL_MIN, kworkers.WORKERS = saved
    crossover = None
    for r in rows:  # the smallest N from which all cores win at every larger size measured
        if all(x.ratios.get("one core / all cores", 0) > 1.0 for x in rows if x.extra["n"] >= r.extra["n"]):
            crossover = r.extra["n"]
            break
    return rows, crossover


def row_unwrap(cfg: Config, w: World) -> Row:
    init = kit.prepare_key_init(w.alice, [w.bob_pk])
    text = next(e["encrypted_conversation_key"] for e in init.body["conversation_participant_keys"] if e["user_id"] == BOB)
    bob, sdk = w.bob, w.sdk_bob
    assert bob.unwrap(text) == init.conversation_key == bytes(sdk.decrypt_conversation_key(text))
    priv = w.private(bob, "identity")
    point = base64.b64decode(text)[:65]
    eph = ec.EllipticCurvePublicKey.from_encoded_point(CURVE, point)
    parse = ec.EllipticCurvePublicKey.from_encoded_point
    samples, _ = measure(
        [
            Contender("kit", lambda: bob.unwrap(text)),
            Contender("chatxdk", lambda: sdk.decrypt_conversation_key(text)),
            Contender("one ECDH", lambda: priv.exchange(ECDH, eph)),
            Contender("parse point + ECDH", lambda: priv.exchange(ECDH, parse(CURVE, point))),
        ],
        rounds=cfg.rounds,
        target=cfg.target,
    )
    row = Row("unwrap", "crypto", "unwrap one conversation key (base64 in, 32 bytes out)", "s")
    row.note = (
        "floor: one ECDH with an already parsed point; the kit must also parse the ephemeral point "
        "(an ECDH with a freshly parsed point costs more: see 'parse point + ECDH'), hash and open AES-GCM"
    )
    return fill(
        row,
        samples,
        {
            "kit / one ECDH": ("kit", "one ECDH"),
            "chatxdk / kit": ("chatxdk", "kit"),
            "kit / (parse point + ECDH)": ("kit", "parse point + ECDH"),
        },
    )


def _v7_payload(w: World) -> bytes:
    return ksig.key_change_payload(
        message_id="0c9e5d5e-6b55-4b1e-9a61-0f4b8d7f2a11",
        sender_id=ALICE,
        conversation_id=f"{ALICE}:{BOB}",
        conversation_key_version="1795572100861",
        conversation_key=bytes(range(32)),
    )


def row_sign(cfg: Config, w: World) -> Row:
    payload = _v7_payload(w)
    alice, sdk = w.alice, w.sdk_alice
    assert alice.sign(payload) == bytes(sdk.sign(payload))  # both RFC 6979: the same 64 bytes
    priv = w.private(alice, "signing")
    samples, _ = measure(
        [
            Contender("kit", lambda: alice.sign(payload)),
            Contender("chatxdk", lambda: sdk.sign(payload)),
            Contender("floor", lambda: priv.sign(payload, ECDSA_DET)),
        ],
        rounds=cfg.rounds,
        target=cfg.target,
    )
    row = Row("sign", "crypto", "sign the v7 key-change payload (RFC 6979)", "s")
    row.note = "floor: cryptography's deterministic ECDSA, DER out; the kit returns raw r||s like the SDK"
    return fill(row, samples, {"chatxdk / kit": ("chatxdk", "kit"), "kit / floor": ("kit", "floor")})


def row_verify(cfg: Config, w: World) -> Row:
    payload = _v7_payload(w)
    sig = w.alice.sign(payload)
    pk = w.alice_pk
    signing = pk.signing_key
    sdk = w.sdk_bob
    assert sdk.verify(pk.signing_public_key, sig, payload)
    d = der(sig)
    samples, _ = measure(
        [
            Contender("kit", lambda: ksig.verify(signing, sig, payload)),
            Contender("chatxdk", lambda: sdk.verify(pk.signing_public_key, sig, payload)),
            Contender("floor", lambda: signing.verify(d, payload, ECDSA)),
        ],
        rounds=cfg.rounds,
        target=cfg.target,
    )
    row = Row("verify", "crypto", "verify the v7 key-change payload", "s")
    row.note = "kit: kit.signature.verify with the parsed signing key; chatxdk: verify(base64 key, sig, data)"
    return fill(row, samples, {"chatxdk / kit": ("chatxdk", "kit"), "kit / floor": ("kit", "floor")})


def rows_read_key_change(cfg: Config, w: World) -> list[Row]:
    init = kit.prepare_key_init(w.alice, [w.bob_pk])
    ev = event_b64(init, w.alice, SEQ)
    bob, pk = w.bob, w.alice_pk
    signer = [pk]
    sdk = w.sdk_of(bob)
    entry = [w.sdk_signing_entry(pk)]
    out = sdk.decrypt_events([ev], entry)
    assert out["errors"] == {} and out["messages"][0]["event"]["verified"], out["errors"]
    assert kit.read_key_change(ev, recipient=bob, signing_keys=signer).conversation_key == init.conversation_key
    # floor: one ECDH + one ECDSA verify of the action signature
    priv = w.private(bob, "identity")
    mine = next(e for e in init.body["conversation_participant_keys"] if e["user_id"] == BOB)
    eph = ec.EllipticCurvePublicKey.from_encoded_point(CURVE, base64.b64decode(mine["encrypted_conversation_key"])[:65])
    payload = ksig.key_change_payload(
        message_id=init.message_id,
        sender_id=ALICE,
        conversation_id=init.conversation_id,
        conversation_key_version=init.conversation_key_version,
        conversation_key=init.conversation_key,
    )
    d = der(init.signature)
    signing = pk.signing_key

    def floor() -> None:
        priv.exchange(ECDH, eph)
        signing.verify(d, payload, ECDSA)

    rows = []
    samples, _ = measure(
        [
            Contender("kit", lambda: kit.read_key_change(ev, recipient=bob, signing_keys=signer)),
            Contender("chatxdk", lambda: sdk.decrypt_events([ev], entry)),
            Contender("floor", floor),
        ],
        rounds=cfg.rounds,
        target=cfg.target,
    )
    row = Row("read_key_change", "recipient", "read a key-change event as the recipient", "s")
    row.note = "kit: the signer's PublicKeys binding already checked (cached on the object); floor: one ECDH + one verify"
    rows.append(fill(row, samples, {"chatxdk / kit": ("chatxdk", "kit"), "kit / floor": ("kit", "floor")}))

    fields = {f.name: getattr(pk, f.name) for f in dataclasses.fields(pk)}

    def floor_cold() -> None:
        floor()
        signing.verify(d, payload, ECDSA)  # the binding: one more verify (the SDK checks one binding signature)

    samples, _ = measure(
        [
            Contender("kit", lambda: kit.read_key_change(ev, recipient=bob, signing_keys=[kit.PublicKeys(**fields)])),
            Contender("chatxdk", lambda: sdk.decrypt_events([ev], entry)),
            Contender("floor", floor_cold),
        ],
        rounds=cfg.rounds,
        target=cfg.target,
    )
    row = Row("read_key_change_cold", "recipient", "read a key-change event, signer keys fresh (binding checked)", "s")
    row.note = "kit checks both binding signatures of the fresh PublicKeys; floor: ECDH + 2 verifies"
    rows.append(fill(row, samples, {"chatxdk / kit": ("chatxdk", "kit"), "kit / floor": ("kit", "floor")}))
    return rows


def row_catchup(cfg: Config, w: World) -> Row:
    from nacl.secret import SecretBox

    k_changes, m_messages = cfg.catchup_k, cfg.catchup_m
    alice, bob, pk = w.alice, w.bob, w.alice_pk
    kc_events: list[str] = []
    msg_events: list[str] = []
    floor_kc: list[tuple[Any, bytes, bytes]] = []
    floor_msg: list[tuple[bytes, bytes, bytes]] = []
    seq = SEQ
    keys = {}
    for k in range(k_changes):
        init = kit.prepare_key_init(alice, [w.bob_pk])
        kc_events.append(event_b64(init, alice, seq))
        seq += 1
        keys[init.conversation_key_version] = init.conversation_key
        mine = next(e for e in init.body["conversation_participant_keys"] if e["user_id"] == BOB)
        eph = ec.EllipticCurvePublicKey.from_encoded_point(CURVE, base64.b64decode(mine["encrypted_conversation_key"])[:65])
        payload = ksig.key_change_payload(
            message_id=init.message_id,
            sender_id=ALICE,
            conversation_id=init.conversation_id,
            conversation_key_version=init.conversation_key_version,
            conversation_key=init.conversation_key,
        )
        floor_kc.append((eph, der(init.signature), payload))
        share = m_messages // k_changes + (1 if k < m_messages % k_changes else 0)
        for j in range(share):
            pm = kit.prepare_message(
                alice,
                init.conversation_id,
                f"message {k}.{j}: catching up on the conversation",
                conversation_key=init.conversation_key,
                conversation_key_version=init.conversation_key_version,
            )
            msg_events.append(message_event_b64(pm, alice, seq))
            seq += 1
            sealed = pm.create_event.contents
            payload = ksig.message_payload(
                message_id=pm.message_id,
                sender_id=ALICE,
                conversation_id=pm.conversation_id,
                conversation_key_version=init.conversation_key_version,
                sealed=sealed,
            )
            floor_msg.append((der(pm.signature), payload, sealed))
    fields = {f.name: getattr(pk, f.name) for f in dataclasses.fields(pk)}

    def kit_catchup() -> None:
        signer = [kit.PublicKeys(**fields)]  # fresh from the API: the binding is checked once per catch-up
        have = {}
        for ev in kc_events:
            kc = kit.read_key_change(ev, recipient=bob, signing_keys=signer)
            have[kc.conversation_key_version] = kc.conversation_key
        for ev in msg_events:
            kit.read_message(ev, conversation_key=have, signing_keys=signer)

    sdk = w.sdk_of(bob)
    entry = [w.sdk_signing_entry(pk)]
    events = kc_events + msg_events
    out = sdk.decrypt_events(events, entry)
    assert out["errors"] == {} and len(out["messages"]) == len(events), out["errors"]
    kit_catchup()

    priv = w.private(bob, "identity")
    signing = pk.signing_key
    key_list = list(keys.values())
    bind_d = der(base64.b64decode(pk.identity_public_key_signature))
    bind_payload = base64.b64decode(pk.public_key)

    def floor() -> None:
        signing.verify(bind_d, bind_payload, ECDSA)  # the signer's binding, once
        for eph, d, payload in floor_kc:
            priv.exchange(ECDH, eph)
            signing.verify(d, payload, ECDSA)
        box = SecretBox(key_list[0])
        for d, payload, sealed in floor_msg:
            signing.verify(d, payload, ECDSA)
            try:
                box.decrypt(sealed)
            except Exception:  # a message under another key version: same cost
                pass

    samples, _ = measure(
        [
            Contender("kit", kit_catchup),
            Contender("chatxdk", lambda: sdk.decrypt_events(events, entry)),
            Contender("floor", floor),
        ],
        rounds=cfg.rounds,
        target=cfg.target,
    )
    row = Row(
        "catchup",
        "recipient",
        f"recipient catches up: {k_changes} key changes + {m_messages} messages",
        "s",
        per="catch-up",
    )
    row.note = "kit: read_key_change + read_message over the history; chatxdk: one decrypt_events call; floor: ECDHs, verifies, secretbox opens"
    return fill(row, samples, {"chatxdk / kit": ("chatxdk", "kit"), "kit / floor": ("kit", "floor")})


# ----------------------------------------------------------------------------- sandbox rows


def _validation(op: Any) -> Callable[[str, bytes], None]:
    """The sandbox's own crypto-free checks of an init request, without its store: route, path,
    JSON, schema, conversation id, and `read_key_change_request` (Thrift detail, versions,
    signature encoding, entries, wrapped-key sizes)."""
    from kit.ids import ConversationId
    from kit.sandbox.schema import spec
    from kit.sandbox.key_changes import read_key_change_request

    compiled = spec()

    def validate(path: str, raw: bytes) -> None:
        found = compiled.find("POST", path)
        assert found is not None and found[0] is op
        op.validate_path(found[1])
        body = json.loads(raw)
        op.validate_body(body)
        ConversationId.parse(found[1]["id"], caller=ALICE)
        read_key_change_request(body)

    return validate


def row_sandbox_inprocess(cfg: Config) -> Row:
    import httpx

    from kit.sandbox import Sandbox, SandboxTransport
    from kit.sandbox.schema import spec

    alice = kit.Identity.generate(ALICE)
    bob = kit.Identity.generate(BOB)
    sandbox = Sandbox()
    client = kit.connect(sandbox=sandbox, quiet=True)
    a = client.create_sandbox_user("alice", user_id=ALICE)
    b = client.create_sandbox_user("bob", user_id=BOB)
    for user, identity in ((a, alice), (b, bob)):
        client.as_user(user).register_keys(identity)  # as_user shares the transport: closed with `client`
    client.close()
    base = "http://sandbox.invalid"
    headers = {"authorization": f"Bearer {a.access_token}"}
    kit_http = httpx.Client(transport=SandboxTransport(sandbox), base_url=base, headers=headers)
    echo_http = httpx.Client(
        transport=httpx.MockTransport(lambda request: httpx.Response(200, content=request.read())), base_url=base, headers=headers
    )
    path = f"/2/chat/conversations/{min(ALICE, BOB, key=int)}-{max(ALICE, BOB, key=int)}/keys"
    sample = kit.prepare_key_init(alice, [bob.public_keys])
    assert sample.path_id in path
    sample_raw = json.dumps(sample.body).encode()
    validate = _validation(spec().by_id["addConversationKeys"])
    validate(path, sample_raw)
    bodies: list[dict[str, Any]] = []
    statuses: list[int] = []

    def refill() -> None:  # fresh inits (newer versions) for the next batch, untimed
        bodies.clear()
        bodies.extend(kit.prepare_key_init(alice, [bob.public_keys]).body for _ in range(cfg.sandbox_batch + 2))
        bodies.reverse()

    def kit_call() -> None:
        statuses.append(kit_http.post(path, json=bodies.pop()).status_code)

    body = sample.body
    samples, _ = measure(
        [
            Contender("kit", kit_call, setup=refill),
            Contender("echo", lambda: echo_http.post(path, json=body)),
            Contender("validation", lambda: validate(path, sample_raw)),
        ],
        rounds=cfg.rounds,
        target=cfg.target,
        max_inner=cfg.sandbox_batch,
    )
    bad = [s for s in statuses if s != 200]
    if bad:
        raise RuntimeError(f"sandbox answered {bad[:3]} to init calls")
    samples["echo + validation"] = [e + v for e, v in zip(samples["echo"], samples["validation"])]
    samples["cpu:echo + validation"] = [e + v for e, v in zip(samples["cpu:echo"], samples["cpu:validation"])]
    row = Row("sandbox_inprocess", "sandbox", "sandbox init call in-process (httpx transport, 1:1)", "s", per="request")
    row.note = "kit: httpx.Client + SandboxTransport (schema, rules, SQLite); echo: httpx.MockTransport; validation: route + JSON + schema + Thrift + entry checks"
    fill(row, samples, {"kit / (echo + validation)": ("kit", "echo + validation"), "kit / echo": ("kit", "echo")})
    kit_http.close()
    echo_http.close()
    return row


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def loopback_server(*extra: str, ready: Callable[[str], bool], env: dict[str, str] | None = None) -> Iterator[str]:
    """`python -m benchmarks.loopback_server PORT *extra` in a child process: yields its URL once `ready(url)`.

    The room rows (benchmarks/room.py) and the loopback rows start their server the same way.
    """
    import httpx

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    child_env = {**os.environ, **(env or {})}
    child_env["PYTHONPATH"] = os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.loopback_server", str(port), *extra],
        cwd=REPO,
        env=child_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if ready(url):
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                raise RuntimeError(f"loopback server {' '.join(extra)} did not start: {err[-500:]}")
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


def rows_loopback(cfg: Config) -> list[Row]:
    import httpx

    def ready(url: str) -> bool:
        return httpx.post(url + "/bench/echo", content=b"x", timeout=1).status_code == 200

    with loopback_server(ready=ready) as url:
        return _loopback(cfg, url)


def _loopback(cfg: Config, url: str) -> list[Row]:
    import httpx

    threads, per, rounds = cfg.loopback_threads, cfg.loopback_requests, cfg.loopback_rounds
    setup_client = kit.connect(base_url=url, quiet=True)
    lanes = []  # one 1:1 conversation per client thread: its inits arrive in version order
    for t in range(threads):
        a = kit.Identity.generate(uid(900 + 2 * t))
        b = kit.Identity.generate(uid(901 + 2 * t))
        ua = setup_client.create_sandbox_user(f"la{t}", user_id=a.user_id)
        ub = setup_client.create_sandbox_user(f"lb{t}", user_id=b.user_id)
        for user, identity in ((ua, a), (ub, b)):
            setup_client.as_user(user).register_keys(identity)  # shares setup_client's transport
        inits = [kit.prepare_key_init(a, [b.public_keys]) for _ in range(per * rounds)]
        bodies = [json.dumps(i.body).encode() for i in inits]
        lanes.append((ua.access_token, f"/2/chat/conversations/{inits[0].path_id}/keys", bodies))
    setup_client.close()

    clients = [
        httpx.Client(base_url=url, headers={"authorization": f"Bearer {tok}", "content-type": "application/json"}, timeout=30)
        for tok, _, _ in lanes
    ]
    for c in clients:  # open the keep-alive connections before timing
        c.post("/bench/echo", content=b"warm")

    def phase(kind: str, r: int) -> tuple[float, list[float], int]:
        lat: list[list[float]] = [[] for _ in range(threads)]
        errors = [0] * threads
        barrier = threading.Barrier(threads + 1)

        def work(t: int) -> None:
            _, path, bodies = lanes[t]
            client = clients[t]
            target = "/bench/echo" if kind == "echo" else path
            mine = bodies[r * per : (r + 1) * per]
            barrier.wait()
            for body in mine:
                t0 = time.perf_counter()
                status = client.post(target, content=body).status_code
                lat[t].append(time.perf_counter() - t0)
                if status != 200:
                    errors[t] += 1

        ts = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
        for th in ts:
            th.start()
        barrier.wait()
        t0 = time.perf_counter()
        for th in ts:
            th.join()
        wall = time.perf_counter() - t0
        return wall, [x for xs in lat for x in xs], sum(errors)

    rps: dict[str, list[float]] = {"kit": [], "bare echo": []}
    p50: dict[str, list[float]] = {"kit": [], "bare echo": []}
    p99: dict[str, list[float]] = {"kit": [], "bare echo": []}
    errors = 0
    for r in range(rounds):
        order = ["echo", "kit"] if r % 2 == 0 else ["kit", "echo"]
        for kind in order:
            wall, lat, err = phase(kind, r)
            name = "kit" if kind == "kit" else "bare echo"
            errors += err if kind == "kit" else 0
            rps[name].append(len(lat) / wall)
            lat.sort()
            p50[name].append(lat[len(lat) // 2])
            p99[name].append(lat[min(len(lat) - 1, int(len(lat) * 0.99))])
    for c in clients:
        c.close()
    if errors:
        raise RuntimeError(f"{errors} loopback init calls did not answer 200")
    label = f"{threads} client threads, keep-alive"
    r1 = Row("loopback_rps", "sandbox", f"sandbox init over loopback uvicorn: requests/s ({label})", "req/s", per="request")
    fill(r1, rps, {"kit / bare echo": ("kit", "bare echo")})
    r2 = Row("loopback_p50", "sandbox", "sandbox init over loopback: p50 latency", "s", per="request")
    fill(r2, p50, {"kit / bare echo": ("kit", "bare echo")})
    r3 = Row("loopback_p99", "sandbox", "sandbox init over loopback: p99 latency", "s", per="request")
    fill(r3, p99, {"kit / bare echo": ("kit", "bare echo")})
    note = "server: uvicorn (h11) in a child process, one app: /bench/echo (bare ASGI echo) and the sandbox; clients: httpx in threads"
    for r in (r1, r2, r3):
        r.note = note
        r.extra["threads"] = threads
        r.extra["requests_per_phase"] = threads * per
    return [r1, r2, r3]


# ----------------------------------------------------------------------------- process rows


_IMPORT_CODE = "import time; t = time.perf_counter(); import {mod}; print(time.perf_counter() - t)"


def row_import(cfg: Config) -> Row:
    runs: dict[str, list[float]] = {"kit": [], "chatxdk": [], "python -c pass (wall)": [], "import kit (wall)": []}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}

    def inner(mod: str) -> float:
        out = subprocess.run(
            [sys.executable, "-c", _IMPORT_CODE.format(mod=mod)], capture_output=True, text=True, check=True, env=env, cwd=REPO
        )
        return float(out.stdout.strip().splitlines()[-1])

    def wall(code: str) -> float:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, env=env, cwd=REPO)
        return time.perf_counter() - t0

    jobs = [
        ("kit", lambda: inner("kit")),
        ("chatxdk", lambda: inner("chat_xdk")),
        ("python -c pass (wall)", lambda: wall("pass")),
        ("import kit (wall)", lambda: wall("import kit")),
    ]
    for r in range(cfg.import_runs):
        for i in range(len(jobs)):
            name, job = jobs[(r + i) % len(jobs)]
            runs[name].append(job())
    row = Row("import", "process", "`import kit` in a fresh interpreter", "s")
    row.note = "kit / chatxdk: time of the import statement inside the child; (wall): the whole child process"
    return fill(
        row,
        runs,
        {"chatxdk / kit": ("chatxdk", "kit"), "kit wall / python wall": ("import kit (wall)", "python -c pass (wall)")},
    )


def row_memory(cfg: Config, w: World) -> Row:
    """Peak RSS of an N-participant init, in a fresh child (kit and chatxdk alike), against its output size."""
    n = cfg.memory_n
    pks = [w.alice_pk, *w.others[: n - 1]]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        roster = Path(tmp) / "roster.json"
        roster.write_text(json.dumps({"sender": base64.b64encode(w.alice.export_keys()).decode(), "sender_id": ALICE,
                                      "sender_version": w.alice.version,
                                      "keys": [{**pk.to_api(), "user_id": pk.user_id} for pk in pks]}))
        for which in ("kit", "chatxdk"):
            out = subprocess.run(
                [sys.executable, "-m", "benchmarks.memory_probe", which, str(roster)],
                capture_output=True, text=True, env=env, cwd=REPO, timeout=600,
            )
            if out.returncode != 0:
                raise RuntimeError(f"memory probe {which} failed: {out.stderr[-800:]}")
            results[which] = json.loads(out.stdout.strip().splitlines()[-1])
    row = Row("memory", "process", f"peak RSS of an init with N={n:,} (growth during the call)", "bytes", per="init")
    for which, res in results.items():
        row.values[which] = float(res["peak_growth"])
        row.values[f"{which} output"] = float(res["output_bytes"])
        row.extra[which] = res
    row.ratios["kit growth / kit output"] = results["kit"]["peak_growth"] / results["kit"]["output_bytes"]
    row.ratios["chatxdk growth / chatxdk output"] = results["chatxdk"]["peak_growth"] / results["chatxdk"]["output_bytes"]
    row.ratios["chatxdk / kit"] = results["chatxdk"]["peak_growth"] / max(results["kit"]["peak_growth"], 1)
    row.note = "VmHWM reset before the call (/proc/self/clear_refs); output = the JSON body (kit) / the returned dict as JSON (chatxdk); one core"
    return row


_EMPTY_NOTEBOOK = {
    "cells": [{"cell_type": "code", "execution_count": None, "id": "empty", "metadata": {}, "outputs": [], "source": "pass"}],
    "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}


def rows_nbval(cfg: Config) -> list[Row]:
    """nbval on each notebook against an empty notebook run the same way.

    One pytest run (`make test-notebooks`'s options) over: an empty notebook, the notebooks
    with another empty one in the middle, and a last empty one. `benchmarks.nbval_timer`
    times each file inside that run (kernel start, cells, shutdown); pytest's own start-up
    is shared and left out. Ratio: notebook ÷ the median empty notebook.
    """
    folder = cfg.notebooks
    notebooks = sorted(p for p in folder.glob("*.ipynb")) if folder is not None and folder.is_dir() else []
    if not notebooks:
        where = "no notebooks folder" if folder is None or not folder.is_dir() else f"no *.ipynb in {folder.name}/"
        return [Row("nbval", "notebooks", "nbval on each notebook vs an empty notebook", "s", status=f"absent: {where}")]
    sanitize = REPO / "tests" / "nbval_sanitize.cfg"
    args = ["--nbval", "--nbval-current-env", "-p", "no:cacheprovider", "-p", "benchmarks.nbval_timer", "-q"]
    args += ["--rootdir", str(REPO), "-c", str(REPO / "pyproject.toml")]
    if sanitize.exists():
        args += ["--nbval-sanitize-with", str(sanitize)]
    with tempfile.TemporaryDirectory() as tmp:
        empties = [Path(tmp) / f"empty-{i}.ipynb" for i in range(max(cfg.nbval_empty_runs, 1) + 1)]
        for e in empties:
            e.write_text(json.dumps(_EMPTY_NOTEBOOK))
        half = len(notebooks) // 2
        order = [empties[0], *notebooks[:half], *empties[1:-1], *notebooks[half:], empties[-1]]
        times_file = Path(tmp) / "times.json"
        env = {**os.environ, "BENCH_NBVAL_TIMES": str(times_file)}
        env["PYTHONPATH"] = os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        cfg.progress(f"  nbval: {len(notebooks)} notebooks and {len(empties)} empty ones in one pytest run")
        t0 = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-m", "pytest", *args, *map(str, order)], capture_output=True, cwd=REPO, env=env, timeout=1800
        )
        total = time.perf_counter() - t0
        if not times_file.exists():
            tail = out.stdout.decode(errors="replace")[-600:]
            raise RuntimeError(f"nbval run wrote no timings (exit {out.returncode}): {tail}")
        times = json.loads(times_file.read_text())
    empty_times = [times[str(e)]["seconds"] for e in empties if str(e) in times]
    base = median(empty_times)
    rows = []
    for nb in notebooks:
        got = times.get(str(nb))
        row = Row(f"nbval_{nb.stem}", "notebooks", f"nbval {nb.name} vs an empty notebook", "s", per="run")
        if got is None:
            row.status = "error: not collected by nbval"
            rows.append(row)
            continue
        row.values = {"kit": got["seconds"], "empty notebook": base}
        row.samples = {"kit": [got["seconds"]], "empty notebook": empty_times}
        row.ratios = {"notebook / empty": got["seconds"] / base}
        row.extra = {"cells": got["cells"], "failed": got["failed"], "pytest_wall_s": total, "pytest_exit": out.returncode}
        row.note = "one pytest --nbval run for all; per file: kernel start + cells + shutdown" + (
            "; SOME CELLS FAILED" if got["failed"] else ""
        )
        rows.append(row)
    return rows


def openssl_speed() -> dict[str, Any] | None:
    """`openssl speed` for P-256 sign/verify/ECDH (the system OpenSSL, not the one inside cryptography)."""
    exe = shutil.which("openssl")
    if exe is None:
        return None
    try:
        version = subprocess.run([exe, "version"], capture_output=True, text=True, timeout=10).stdout.strip()
        out = subprocess.run(
            [exe, "speed", "-seconds", "1", "ecdsap256", "ecdhp256"], capture_output=True, text=True, timeout=120
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    result: dict[str, Any] = {"openssl": version}
    m = re.search(r"256 bits ecdsa \(nistp256\)\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)\s+([\d.]+)", out)
    if m:  # the ops/s columns (the seconds columns are rounded to 0.1 ms)
        result["sign_us"] = 1e6 / float(m.group(1))
        result["verify_us"] = 1e6 / float(m.group(2))
    m = re.search(r"256 bits ecdh \(nistp256\)\s+[\d.]+s\s+([\d.]+)", out)
    if m:
        result["ecdh_us"] = 1e6 / float(m.group(1))
    return result


def summarize_p(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}
