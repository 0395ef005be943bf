"""What one `inspect` call was given and how much it may still do: `Context` (notebook 08)."""

from __future__ import annotations

from dataclasses import dataclass, field

from kit.keys import Identity, PublicKeys

__all__ = ["MAX_INNER", "Context"]

#: The most nested inspections one call makes (a 10,000-participant key change shows the first ones).
MAX_INNER = 64


@dataclass
class Context:
    """What one `inspect` call was given (keys to open things with) and how much it may still do."""

    conversation_keys: dict[str, bytes] = field(default_factory=dict)
    any_key: bytes | None = None  # a key given without a version: tried on everything
    identity: Identity | None = None
    signing_keys: tuple[PublicKeys, ...] = ()
    budget: int = MAX_INNER
    #: the user id of the key-change entry being read (None elsewhere): the identity tries only its own
    entry_user: str | None = None

    def keys_for(self, version: str) -> list[bytes]:
        found = [self.conversation_keys[version]] if version in self.conversation_keys else []
        return found + ([self.any_key] if self.any_key is not None and self.any_key not in found else [])

    def spend(self) -> bool:
        self.budget -= 1
        return self.budget >= 0
