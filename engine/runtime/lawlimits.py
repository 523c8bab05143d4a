"""The law's own limits around the case clock (行政许可法), read off the diagram once per version.

The case clock (`engine.runtime.caseclock`) counts the item's committed and statutory limits; three limits
come from the law itself, whatever the item promises, and are kept here so the clock stays one page:

- **Acceptance, art 32**: an application must be accepted, sent back for 补正, or refused within
  `ACCEPTANCE_DAYS` (5) working days of its receipt; failing that it *counts as accepted on the day the
  materials were received*. The answer is the completion of a step marked `receipt=acceptance` (or, when
  the diagram marks none, of the `clock=start` step), whatever the answer.
- **Delivery, art 44**: the decision or certificate is delivered within `DELIVERY_DAYS` (10) working days
  of the decision: a step marked `receipt=delivery` gets that step limit unless its own `stepLimitDays`
  says otherwise.
- **Direct items (即办)**: a committed limit of 0 working days is due at the end of the acceptance day —
  of the next working day when the acceptance falls on a day off (`deadline_day`).

Also the one order of warning levels (`LEVELS`), which the clock, the watch and the pages share.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime

from engine.diagrams.specs import STEP_LIMIT_PROPERTY, ProcessSpecs
from engine.time.clock import end_of_day, local_date
from engine.time.workdays import WorkCalendar

ACCEPTANCE_DAYS = 5  # 行政许可法 第三十二条: 五日内 (working days, art 82)
DELIVERY_DAYS = 10  # 行政许可法 第四十四条: 十日内
RECEIPT_PROPERTY = "receipt"
# reminder (提醒) is not a card; yellow (黄牌) = the committed deadline passed; red (红牌) = still overdue when the
# supervisor's chase deadline passed; statutory = the statutory deadline passed (see docs/operators.md).
LEVELS = ("none", "reminder", "yellow", "red", "statutory")
RANK = {level: number for number, level in enumerate(LEVELS)}
CARDS = ("yellow", "red", "statutory")


@dataclass(frozen=True)
class LawMarks:
    """The elements that answer an application (art 32) and that deliver the decision (art 44)."""

    acceptance: frozenset[str]
    delivery: frozenset[str]
    step_limits: dict[str, int]  # element id → working days, art 44's default merged with the diagram's own


_cache: dict[int, tuple[ProcessSpecs, LawMarks]] = {}
_lock = threading.Lock()


def law_marks(specs: ProcessSpecs) -> LawMarks:
    """The law's marks of a version's specs, read once per specs object (a version's specs never change)."""
    found = _cache.get(id(specs))
    if found is not None and found[0] is specs:
        return found[1]
    acceptance, delivery, delivery_limits = set(), set(), {}
    for spec in (specs.spec, *specs.subprocess_specs.values()):
        for task_spec in spec.task_specs.values():
            properties = getattr(task_spec, "extensions", {}).get("properties", {})
            element = getattr(task_spec, "bpmn_id", None)
            if not properties or element is None:
                continue
            marked = str(properties.get(RECEIPT_PROPERTY, "")).partition(":")[0].strip()
            if marked == "acceptance":
                acceptance.add(element)
            elif marked == "delivery":
                delivery.add(element)
                if STEP_LIMIT_PROPERTY not in properties:
                    delivery_limits[element] = DELIVERY_DAYS
    marks = LawMarks(frozenset(acceptance or specs.clock.start_elements), frozenset(delivery),
                     {**delivery_limits, **specs.clock.step_limits})
    with _lock:
        if len(_cache) > 512:  # the spec cache is bounded; so is this one
            _cache.clear()
        _cache[id(specs)] = (specs, marks)
    return marks


def acceptance_due(calendar: WorkCalendar, received_at: datetime) -> datetime:
    """The end of the 5th working day after the day of receipt (the receipt day itself is not counted)."""
    return end_of_day(calendar.add_working_days(local_date(received_at), ACCEPTANCE_DAYS))


def deadline_day(calendar: WorkCalendar, start: date, days: int) -> date:
    """The last day of a limit of `days` working days counted from `start` (not itself counted).

    0 days (即办) is the start day when it is a working day; accepted on a day off (an online self-service
    acceptance on a Sunday, a holiday), it is the next working day: a working-day limit cannot end on a
    day nobody works, and the next working day is the "same working day" the applicant can expect.
    """
    if days == 0 and not calendar.is_working_day(start):
        return calendar.add_working_days(start, 1)
    return calendar.add_working_days(start, days)
