"""Shared fixtures: seeded demo identities (demo only: their private keys follow from public seeds)."""

from __future__ import annotations

import pytest

import kit

ALICE_ID = "1215441834412953600"
BOB_ID = "1603419180975409153"
CAROL_ID = "1843439638876491776"


@pytest.fixture
def alice() -> kit.Identity:
    return kit.Identity.from_seed("alice (demo only)", ALICE_ID, version="1")


@pytest.fixture
def bob() -> kit.Identity:
    return kit.Identity.from_seed("bob (demo only)", BOB_ID, version="1")


@pytest.fixture
def carol() -> kit.Identity:
    return kit.Identity.from_seed("carol (demo only)", CAROL_ID, version="7")
