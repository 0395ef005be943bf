"""Secrets in the kit: private keys, conversation keys and tokens never show where a learner looks.

Not in a repr or str (Identity, KeyInit, KeyChange, Client, TokenAuth, SandboxUser), not in the
message or traceback of an exception from a common failure path, not in the kit's log lines
(every logger at DEBUG through a whole flow), not in any committed notebook (sources, outputs,
widget state). The protected export needs a passphrase, and a wrong one says so.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import logging
import pickle
import pprint
import re
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

import kit
from kit.client import Client, SandboxUser, TokenAuth
from kit.sandbox import Sandbox, SandboxTransport
from sandbox_fixtures import free_port
from tests.reliability_helpers import REPO, find_secrets, identity_secrets

DEMO_SEEDS = ("alice (demo only)", "bob (demo only)", "carol (demo only)")
PASSPHRASE = "correct horse battery staple"
WRONG_PASSPHRASE = "Tr0ub4dor&3"
_SEED = re.compile(r"""from_seed\(\s*b?(["'])(.+?)\1""")


def _key_spellings(key: bytes) -> list[str]:
    return [key.hex(), base64.b64encode(key).decode(), base64.b64encode(key).decode().rstrip("="), repr(key)[2:-1]]


class Flow:
    """A whole in-process exchange: accounts, keys, a conversation, a message, read by the recipient."""

    def __init__(self) -> None:
        self.sandbox = Sandbox()
        root = kit.connect(sandbox=self.sandbox, quiet=True)
        self.alice_acc = root.create_sandbox_user("sec_alice")
        self.bob_acc = root.create_sandbox_user("sec_bob")
        self.alice = root.as_user(self.alice_acc)
        self.bob = root.as_user(self.bob_acc)
        self.ia = kit.Identity.generate(self.alice_acc.id, version="1")
        self.ib = kit.Identity.from_seed("bob (demo only)", self.bob_acc.id, version="1")
        self.alice.register_keys(self.ia)
        self.bob.register_keys(self.ib)
        self.init = kit.prepare_key_init(self.ia, [self.bob.latest_public_keys(self.bob_acc.id)])
        self.alice.add_conversation_keys(self.init)
        pm = kit.prepare_message(
            self.ia,
            self.init.conversation_id,
            "secret text",
            conversation_key=self.init.conversation_key,
            conversation_key_version=self.init.conversation_key_version,
        )
        self.alice.send_message(pm)
        page = self.bob.get_events(self.init.path_id)
        self.key_change_event = page.key_changes[0]
        self.message_event = page.messages[0]
        self.change = kit.read_key_change(self.key_change_event, recipient=self.ib, signing_keys=[self.ia.public_keys])
        self.message = kit.read_message(
            self.message_event, conversation_key=self.change.conversation_key, signing_keys=[self.ia.public_keys]
        )

    def secrets(self) -> list[str]:
        out = [self.alice_acc.access_token, self.bob_acc.access_token]
        out += identity_secrets(self.ia) + identity_secrets(self.ib)
        out += _key_spellings(self.init.conversation_key)
        return out


@pytest.fixture(scope="module")
def flow() -> Flow:
    return Flow()


def _assert_clean(text: str, known: list[str], where: str) -> None:
    found = find_secrets(text, known=known)
    assert not found, f"{where} shows a secret: {found}"


# ---------------------------------------------------------------------------- the scanner itself


def test_the_scanner_finds_planted_secrets() -> None:
    ident = kit.Identity.from_seed("alice (demo only)", "1", version="1")
    scalar = ident.export_keys()[:32].hex()
    assert find_secrets("-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE...")
    assert find_secrets("Authorization: Bearer Zk3v9Qp2LmXw8RtY5uJb1NcA7sDf4GhK")
    assert find_secrets('{"access_token": "Zk3v9Qp2LmXw8RtY5uJb1NcA"}')
    assert find_secrets(f"scalar = {scalar}", known=identity_secrets(ident))
    assert find_secrets(f"SCALAR = {scalar.upper()}", known=identity_secrets(ident))
    assert not find_secrets("Authorization: Bearer <access token>  access_token=<hidden>  TokenAuth(<hidden>)")
    assert not find_secrets(f"fingerprint {ident.fingerprint}", known=identity_secrets(ident))


# ---------------------------------------------------------------------------- repr and str


def test_reprs_and_strs_hide_every_secret(flow: Flow) -> None:
    token = flow.alice_acc.access_token
    objects: dict[str, Any] = {
        "Identity (generated)": flow.ia,
        "Identity (demo seed)": flow.ib,
        "KeyInit": flow.init,
        "KeyChange": flow.change,
        "Client": flow.alice,
        "Client (connect)": kit.connect(base_url="http://127.0.0.1:9", token=token, quiet=True),
        "TokenAuth": TokenAuth(token),
        "SandboxUser": flow.alice_acc,
        "SandboxUser (built)": SandboxUser("1", "someone", token),
        "Sandbox": flow.sandbox,
        "SandboxTransport": SandboxTransport(flow.sandbox),
    }
    known = flow.secrets()
    for name, obj in objects.items():
        for text in (repr(obj), str(obj), f"{obj}", pprint.pformat(obj), pprint.pformat([obj, {"x": obj}])):
            _assert_clean(text, known, f"{name}: {text[:80]}")
    assert "<hidden>" in repr(TokenAuth(token)) and "conversation_key=<hidden>" in repr(flow.init)
    assert flow.ia.fingerprint in repr(flow.ia)  # the public part is what a repr shows


def test_an_identity_cannot_be_pickled_or_copied_out(flow: Flow) -> None:
    for attempt in (lambda: pickle.dumps(flow.ia), lambda: copy.deepcopy(flow.ia)):
        with pytest.raises(TypeError, match="export_protected") as err:
            attempt()
        _assert_clean(str(err.value), flow.secrets(), "pickling error")


# ---------------------------------------------------------------------------- exceptions


def _failures(flow: Flow) -> dict[str, Callable[[], Any]]:
    token = flow.alice_acc.access_token
    carol = kit.Identity.from_seed("carol (demo only)", "1843439638876491776", version="7")
    sealed = flow.ia.export_protected(PASSPHRASE)
    blob = flow.ia.export_keys()
    bad_client = Client(
        httpx.Client(
            transport=SandboxTransport(flow.sandbox), base_url="http://sandbox.invalid", auth=TokenAuth(token[::-1])
        )
    )
    revoked_sandbox = Sandbox()
    root = kit.connect(sandbox=revoked_sandbox, quiet=True)
    victim = root.create_sandbox_user("victim")
    revoked = root.as_user(victim)
    revoked_sandbox.revoke(victim.id)
    unreachable = kit.connect(base_url=f"http://127.0.0.1:{free_port()}", token=token, quiet=True, timeout=2)
    wrapped_for_bob = [p for p in flow.init.detail.participant_keys if p.user_id == flow.bob_acc.id][
        0
    ].encrypted_conversation_key
    return {
        "wrong passphrase": lambda: kit.Identity.import_protected(sealed, WRONG_PASSPHRASE),
        "empty passphrase": lambda: flow.ia.export_protected(""),
        "short private blob": lambda: kit.Identity.import_keys(blob[:63], user_id="1", version="1"),
        "long private blob": lambda: kit.Identity.import_keys(blob + b"\x00", user_id="1", version="1"),
        "blob out of range": lambda: kit.Identity.import_keys(b"\xff" * 64, user_id="1", version="1"),
        "unwrap with the wrong key": lambda: flow.ia.unwrap(wrapped_for_bob),
        "key change for someone else": lambda: kit.read_key_change(
            flow.key_change_event, recipient=carol, signing_keys=[flow.ia.public_keys]
        ),
        "key change, wrong signer": lambda: kit.read_key_change(
            flow.key_change_event,
            recipient=flow.ib,
            signing_keys=[kit.Identity.generate(flow.alice_acc.id, version="1").public_keys],
        ),
        "message, wrong key": lambda: kit.read_message(
            flow.message_event, conversation_key=bytes(32), signing_keys=[flow.ia.public_keys]
        ),
        "message, short key": lambda: kit.prepare_message(
            flow.ia,
            flow.init.conversation_id,
            "x",
            conversation_key=flow.init.conversation_key[:31],
            conversation_key_version=flow.init.conversation_key_version,
        ),
        "unknown token": lambda: bad_client.get_conversations(),
        "revoked token": lambda: revoked.get_conversations(),
        "token in a query string": lambda: flow.alice.request(
            "GET", "/2/chat/conversations", params={"access_token": token}
        ),
        "server unreachable": lambda: unreachable.get_conversations(),
        "empty token": lambda: TokenAuth(""),
    }


def test_exceptions_on_common_failure_paths_hide_every_secret(flow: Flow) -> None:
    known = flow.secrets() + [flow.alice_acc.access_token[::-1], PASSPHRASE, WRONG_PASSPHRASE]
    for name, fail in _failures(flow).items():
        with pytest.raises(Exception) as info:  # noqa: PT011 - each path raises its own type
            fail()
        exc = info.value
        texts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
        if isinstance(exc, kit.APIError):
            texts += [repr(exc.problem), json.dumps(exc.problem.to_dict())]
        for text in texts:
            _assert_clean(text, known, f"{name} ({type(exc).__name__})")
        assert str(exc).strip(), f"{name}: an empty message is no help either"


def test_a_wrong_passphrase_says_so(flow: Flow) -> None:
    sealed = flow.ia.export_protected(PASSPHRASE)
    with pytest.raises(kit.DecryptionError, match="wrong passphrase"):
        kit.Identity.import_protected(sealed, WRONG_PASSPHRASE)
    with pytest.raises(TypeError):
        flow.ia.export_protected()  # type: ignore[call-arg]  # there is no passphrase-less protected export
    with pytest.raises(kit.WireFormatError, match="passphrase"):
        flow.ia.export_protected("")
    back = kit.Identity.import_protected(sealed, PASSPHRASE)
    assert back.export_keys() == flow.ia.export_keys() and back.user_id == flow.ia.user_id
    raw = flow.ia.export_keys()
    assert raw not in sealed and raw[:32] not in sealed and raw.hex().encode() not in sealed


# ---------------------------------------------------------------------------- logs


def test_the_kits_log_lines_hide_every_secret(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    with caplog.at_level(logging.DEBUG):
        f = Flow()
        for name, fail in _failures(f).items():
            if name == "token in a query string":
                # httpx logs every request URL at INFO, query included: a token a caller puts in a
                # query string would show there. The kit never does; the sandbox refuses it (400).
                continue
            with contextlib.suppress(Exception):  # only the log lines matter here
                fail()
        kit.connect(sandbox=f.sandbox)  # prints one line
    out, err = capfd.readouterr()
    assert caplog.records, "nothing was logged: the scan would prove nothing"
    assert any(r.name.startswith("httpx") for r in caplog.records)
    text = "\n".join(r.getMessage() for r in caplog.records) + caplog.text + out + err
    _assert_clean(text, f.secrets() + [f.alice_acc.access_token[::-1]], "log lines")


# ---------------------------------------------------------------------------- notebooks


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


def _notebooks() -> list[Path]:
    return sorted((REPO / "notebooks").glob("*.ipynb"))


def notebook_findings(path: Path) -> list[str]:
    """Key- and token-shaped strings anywhere in a notebook: sources, outputs, widget state, metadata."""
    nb = json.loads(path.read_text("utf-8"))
    text = "\n".join(_strings(nb))
    seeds = set(DEMO_SEEDS) | {m.group(2) for m in _SEED.finditer(text)}
    known = [s for seed in sorted(seeds) for s in identity_secrets(kit.Identity.from_seed(seed, "1"))]
    return find_secrets(text, known=known)


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.name)
def test_committed_notebooks_hold_no_key_or_token(path: Path) -> None:
    assert not notebook_findings(path), f"{path.name}: {notebook_findings(path)}"


def test_the_notebook_scan_catches_a_leak(tmp_path: Path) -> None:
    ident = kit.Identity.from_seed("dora (demo only)", "1", version="1")
    leaky = {
        "cells": [
            {
                "cell_type": "code",
                "source": ['dora = kit.Identity.from_seed("dora (demo only)", "1")\n', "dora.export_keys().hex()"],
                "outputs": [
                    {"output_type": "execute_result", "data": {"text/plain": [repr(ident.export_keys().hex())]}}
                ],
            },
        ],
        "metadata": {"widgets": {"state": {"m": {"token": "Bearer Zk3v9Qp2LmXw8RtY5uJb1NcA7sDf4GhK"}}}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = tmp_path / "leaky.ipynb"
    path.write_text(json.dumps(leaky))
    found = notebook_findings(path)
    assert any("known secret" in f for f in found) and any(f.startswith("Bearer") for f in found)
