"""What the verifier says about a case and about the whole trail: each problem with where it is and what
is wrong, so an auditor can act on it (S-14)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

MAX_PROBLEMS_PER_CASE = 20


@dataclass(frozen=True)
class Problem:
    """One thing wrong. `seq` is the event concerned (None: the checkpoint chain itself)."""

    seq: int | None
    kind: str  # changed, out_of_order, missing, prev_mismatch, case_row, checkpoint, case_deleted, duplicate
    what: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CaseVerdict:
    case_no: str
    events: int = 0
    problems: list[Problem] = field(default_factory=list)
    checkpoint_problems: list[Problem] = field(default_factory=list)  # verify_case: the chain it relies on
    checkpoints: int = 0  # how many checkpoints recorded this case's head
    more_problems: int = 0  # problems found beyond MAX_PROBLEMS_PER_CASE

    @property
    def ok(self) -> bool:
        return not self.problems and not self.checkpoint_problems

    @property
    def first(self) -> Problem | None:
        """The first broken event: the problem with the lowest seq."""
        found = [p for p in self.problems if p.seq is not None]
        return min(found, key=lambda p: p.seq) if found else (self.problems or self.checkpoint_problems or [None])[0]

    def add(self, problem: Problem) -> None:
        if len(self.problems) < MAX_PROBLEMS_PER_CASE:
            self.problems.append(problem)
        else:
            self.more_problems += 1

    def to_dict(self) -> dict[str, Any]:
        first = self.first
        return {"case_no": self.case_no, "ok": self.ok, "events": self.events, "checkpoints": self.checkpoints,
                "first_broken_event": first.seq if first else None, "first_problem": first.what if first else None,
                "problems": [p.to_dict() for p in self.problems],
                "more_problems": self.more_problems,
                "checkpoint_problems": [p.to_dict() for p in self.checkpoint_problems]}


def problem_order(problem: Problem) -> tuple[int, int]:
    return (0, problem.seq) if problem.seq is not None else (1, 0)


@dataclass
class Report:
    """What `verify_all` found; `broken` lists at most MAX_BROKEN_REPORTED cases (`broken_count` all)."""

    ok: bool = True
    cases: int = 0
    events: int = 0
    checkpoints: int = 0
    heads: int = 0
    seconds: float = 0.0
    broken: list[CaseVerdict] = field(default_factory=list)
    broken_count: int = 0
    checkpoint_problems: list[Problem] = field(default_factory=list)
    latest_checkpoint: dict[str, Any] | None = None

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "cases": self.cases, "events": self.events, "checkpoints": self.checkpoints,
                "checkpoint_heads": self.heads, "seconds": round(self.seconds, 4),
                "events_per_second": round(self.events_per_second),
                "broken_count": self.broken_count, "broken": [v.to_dict() for v in self.broken],
                "checkpoint_problems": [p.to_dict() for p in self.checkpoint_problems],
                "latest_checkpoint": self.latest_checkpoint}
