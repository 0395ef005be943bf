"""Fixtures of the kit.ui tests: an in-process sandbox, alice and bob as its users, their keys registered."""

from __future__ import annotations

import pytest

import kit
from ui_helpers import ALICE_ID, BOB_ID


@pytest.fixture
def sandbox() -> kit.Client:
    return kit.connect(quiet=True)


@pytest.fixture
def alice_user(sandbox):
    return sandbox.create_sandbox_user("alice", user_id=ALICE_ID)


@pytest.fixture
def bob_user(sandbox):
    return sandbox.create_sandbox_user("bob", user_id=BOB_ID)


@pytest.fixture
def alice_client(sandbox, alice_user):
    return sandbox.as_user(alice_user)


@pytest.fixture
def bob_client(sandbox, bob_user):
    return sandbox.as_user(bob_user)


@pytest.fixture
def registered(alice, bob, alice_client, bob_client):
    """alice and bob (seeded demo identities from conftest) with their keys registered."""
    alice_client.register_keys(alice)
    bob_client.register_keys(bob)
    return alice, bob
