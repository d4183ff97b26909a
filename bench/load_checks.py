"""The load benchmark's checks, as plain functions over what the load recorded and what the database holds.

No Django, no locust here: the pieces are fed plain values, so the checks can be tested on their own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

MEMORY_GROWTH_LIMIT = 0.10  # a worker's RSS may grow at most 10 % from warm-up to the end
# Paths of the benchmark's own views (bench/load_urls.py), shared with the simulated users.
FLOOR_PATH = "/__bench__/signed-in/"
FAILURE_PATH = "/__bench__/fail/"


@dataclass(frozen=True)
class Ack:
    """A save the server acknowledged (200). `version` is the answer's new version when the response says
    exactly which version this save wrote (the questionnaire's autosave); None when it cannot (the API's
    PATCH answers with the audit as read after the save, which a concurrent save may already have changed)."""

    audit_id: int
    item: str
    status: str
    notes: str
    version: int | None = None


@dataclass(frozen=True)
class StoredAnswer:
    audit_id: int
    item: str
    status: str
    notes: str
    version: int


@dataclass(frozen=True)
class StoredChange:
    """One row of an answer's history: what a save wrote."""

    audit_id: int
    item: str
    status: str
    notes: str


def lost_saves(acks: Iterable[Ack], answers: Iterable[StoredAnswer], changes: Iterable[StoredChange]) -> list[str]:
    """Every way an acknowledged save is missing from the database, one sentence each (empty: none lost).

    Each save writes a unique note, so an acknowledged save must (1) have its row in the answer's history,
    (2) if it is the newest acknowledged version of its answer, still be the answer's value unless a later
    version replaced it, and (3) no two acknowledged autosaves of one answer may claim the same version
    (both based on the same version and both accepted: one overwrote the other, a lost update).
    """
    written = {(c.audit_id, c.item, c.status, c.notes) for c in changes}
    current = {(a.audit_id, a.item): a for a in answers}
    problems: list[str] = []
    newest: dict[tuple[int, str], Ack] = {}
    claimed: dict[tuple[int, str, int], list[Ack]] = defaultdict(list)
    for ack in acks:
        key = (ack.audit_id, ack.item)
        if (ack.audit_id, ack.item, ack.status, ack.notes) not in written:
            problems.append(
                f"audit {ack.audit_id} {ack.item}: the acknowledged save {ack.notes!r} is not in its history"
            )
        if ack.version is None:
            continue
        claimed[(ack.audit_id, ack.item, ack.version)].append(ack)
        if key not in newest or ack.version > (newest[key].version or 0):
            newest[key] = ack
    for (audit_id, item, version), same in claimed.items():
        if len(same) > 1:
            problems.append(f"audit {audit_id} {item}: {len(same)} acknowledged saves claim version {version}")
    for key, ack in newest.items():
        stored = current.get(key)
        if stored is None:
            problems.append(f"audit {key[0]} {key[1]}: the answer is gone")
        elif stored.version < (ack.version or 0):
            problems.append(
                f"audit {key[0]} {key[1]}: version {stored.version} is older than acknowledged {ack.version}"
            )
        elif stored.version == ack.version and (stored.status, stored.notes) != (ack.status, ack.notes):
            problems.append(f"audit {key[0]} {key[1]}: version {ack.version} holds another value than acknowledged")
    return problems


@dataclass
class MemoryGrowth:
    """RSS (kB) of each gunicorn worker after warm-up and at the end, by process id."""

    start: dict[int, int]
    end: dict[int, int]
    growth: dict[int, float] = field(init=False)
    replaced: int = field(init=False)

    def __post_init__(self) -> None:
        self.growth = {pid: self.end[pid] / rss - 1 for pid, rss in self.start.items() if pid in self.end and rss}
        # A worker that died (crash, timeout) or was recycled cannot be compared: that is a failure of its own.
        self.replaced = len(set(self.start) - set(self.end))

    @property
    def worst(self) -> float:
        return max(self.growth.values(), default=0.0)

    @property
    def met(self) -> bool:
        return bool(self.growth) and not self.replaced and self.worst < MEMORY_GROWTH_LIMIT
