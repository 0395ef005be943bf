"""Fixtures for the kit.tables tests: one fixed two-participant key init (alice, bob: tests/conftest.py)."""

from __future__ import annotations

import pytest

import kit

from .samples import DEMO_KEY, DEMO_MID, DEMO_VERSION


@pytest.fixture
def init(alice, bob) -> kit.KeyInit:
    return kit.prepare_key_init(alice, [bob.public_keys], version=DEMO_VERSION, message_id=DEMO_MID, conversation_key=DEMO_KEY)
