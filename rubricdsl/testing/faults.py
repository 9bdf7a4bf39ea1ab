"""Fault injection for the fake judge: seeded random faults, and faults forced for chosen responses.

Reproducibility matters more than realism: the same seed gives the same fault sequence (in arrival
order), and a test that needs "a 429, then success" forces exactly that instead of hoping for a draw.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ANSWERING", "BATCH_ONLY", "FAULT_KINDS", "FaultConfig", "FaultPlan", "malform"]

BATCH_ONLY = frozenset({"errored", "expired", "canceled"})
"""Results only a Message Batch request can have; a live request that draws one is answered normally."""
FAULT_KINDS = frozenset({"ok", "400", "401", "429", "500", "529", "malformed", "drop", "slow"}) | BATCH_ONLY
ANSWERING = (None, "slow", "malformed")
"""Faults that still need the oracle's answer (the others replace it)."""


@dataclass(frozen=True)
class FaultConfig:
    """Per-request fault probabilities (drawn from the server's seeded RNG) and deterministic forcing.

    ``faults_by_response`` maps a substring of the graded response to a fault kind (every matching request)
    or to a sequence of kinds consumed one per matching request, then no fault (``"ok"`` = no fault).
    The first matching key wins; ``""`` matches every request. Scripted faults override random ones.
    In a Message Batch, ``"errored"``/``"expired"``/``"canceled"`` give that result type, and the HTTP
    faults (``"429"``, ``"500"``, ``"drop"``, ...) an ``errored`` result with the matching error type.
    """

    rate_429: float = 0.0
    rate_529: float = 0.0
    rate_500: float = 0.0
    rate_malformed: float = 0.0
    rate_drop: float = 0.0
    rate_slow: float = 0.0
    retry_after: str | None = "0"
    slow_seconds: float = 1.0
    faults_by_response: Mapping[str, str | Sequence[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        rates = [r for _, r in self.weighted()]
        if any(not 0.0 <= r <= 1.0 for r in rates) or sum(rates) > 1.0 + 1e-9:
            raise ValueError(f"fault rates must be in [0, 1] and sum to at most 1, got {rates}")
        for kinds in self.faults_by_response.values():
            for kind in [kinds] if isinstance(kinds, str) else kinds:
                if kind not in FAULT_KINDS:
                    raise ValueError(f"unknown fault {kind!r}; expected one of {sorted(FAULT_KINDS)}")

    def weighted(self) -> list[tuple[str, float]]:
        """Fault kinds with their rates, in the fixed order the cumulative draw uses."""
        return [
            ("429", self.rate_429),
            ("529", self.rate_529),
            ("500", self.rate_500),
            ("malformed", self.rate_malformed),
            ("drop", self.rate_drop),
            ("slow", self.rate_slow),
        ]


class FaultPlan:
    """The server's fault state: one seeded RNG and the positions in scripted sequences, under one lock."""

    def __init__(self, config: FaultConfig, seed: int) -> None:
        self.config, self.seed = config, seed
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._rng = random.Random(self.seed)
            self._positions: Counter[str] = Counter()

    def draw(self, response: str) -> str | None:
        """One RNG draw per answered request (a reproducible fault sequence), then scripted overrides."""
        with self._lock:
            draw, fault, cumulative = self._rng.random(), None, 0.0
            for kind, rate in self.config.weighted():
                cumulative += rate
                if fault is None and draw < cumulative:
                    fault = kind
            for needle, kinds in self.config.faults_by_response.items():
                if needle not in response:
                    continue
                if isinstance(kinds, str):
                    fault = kinds
                else:
                    position = self._positions[needle]
                    self._positions[needle] += 1
                    fault = kinds[position] if position < len(kinds) else "ok"
                break
        return None if fault == "ok" else fault

    def child_rng(self) -> random.Random:
        """A generator for one malformed reply, seeded from the plan's, so the reply is reproducible too."""
        with self._lock:
            return random.Random(self._rng.random())


def malform(data: dict[str, Any], required: list[str], rng: random.Random) -> dict[str, Any]:
    """A copy of a valid tool input that fails validation: one required field dropped or given a wrong type.

    The wrong value is an object where a scalar is expected and a list where an object is expected, which
    pydantic rejects even in lax mode (a string like "yes" would be coerced to a bool).
    """
    out = dict(data)
    names = [n for n in required if n in out] or list(out)
    if not names:
        return {"__malformed__": True}
    name = names[rng.randrange(len(names))]
    if rng.random() < 0.5:
        del out[name]
    else:
        out[name] = ["__malformed__"] if isinstance(out[name], dict) else {"__malformed__": True}
    return out
