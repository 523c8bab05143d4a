"""Performance evaluation (绩效评估, S-11, S-15): per window and per person, for a chosen period.

Read from the read model and the audit trail only — `cases` (closed in the period, with their clock
columns), `audit_events` (who completed which step, returns, supplement decisions), `case_warnings`
and `ratings` — never from a workflow. What each figure means (docs/operators.md repeats it):

- a **window** is where a case came in (`cases.unit_code`, else its department's district window);
  a **person** is a member of staff (`staff_names`) who completed a step (`task_completed`) — never an
  applicant answering a 补正;
- **handled**: cases closed in the period (a person: those of them in which they completed a step);
- **on time**: closed (clock stopped) no later than the committed deadline; **early**: closed at least
  one working day before the deadline's day (`engine.time.workdays`); both over the cases with a deadline;
- **average working days**: the case clock's working days, pauses excluded (`caseclock.working_days_used`);
- **returns**: `task_returned` and `task_withdrawn` events in the period; **supplements**: decisions in
  the period whose answer asks for 补正 (a person: those they made);
- **warnings / cards** (issue 15, item 10): `case_warnings` raised in the period by level — reminder (临期提醒,
  not a card), yellow = 黄牌 (overdue: the committed limit, a step's own limit, art 32's acceptance limit),
  red = 红牌 (still overdue when the supervisor's chase deadline passed), statutory (超过法定时限); a person
  carries the step overruns of the tasks they completed;
- **ratings**: the applicants' 好差评 in the period (a person: on cases in which they completed a step).

The supervisors' own cases (exception handling, rectification: `SUP-…` items) are not evaluated:
a window's rectification is the consequence of its rating, not one more case it handled.

The **score** (0–100) is the weighted mean of the rates (on time, early, satisfaction = (average − 1)/4)
that have data, minus the points of each reminder, card, return and supplement, plus a bonus per case
closed early; an administrator sets the weights and points (`watch_settings`, key `performance_weights`;
defaults in `DEFAULT_WEIGHTS`, the card points and bonus from `watchsettings.CARD_POINTS`: reminder 0,
yellow 5, red 10, statutory 10, early completion +2).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, or_, select

from engine.errors import OnewindowError, PermissionDenied
from engine.messages import said
from engine.org.orgtree import unit_names
from engine.runtime.caseclock import working_days_used
from engine.store.db import Database
from engine.store.tables import audit_events, case_warnings, cases, items, memberships, ratings, users
from engine.time import clock
from engine.time.clock import as_utc, end_of_day, start_of_day
from engine.time.workdays import WorkCalendar, load_calendar
from engine.watch.dashboard import SUPERVISION_CASE, window_of
from engine.watch.watchsettings import CARD_LABELS, CARD_POINTS, get_setting, put_setting

WEIGHTS_KEY = "performance_weights"
DEFAULT_WEIGHTS: dict[str, float] = {
    "on_time": 50, "early": 20, "satisfaction": 30,  # shares of the 0–100 base (relative)
    **CARD_POINTS,  # points off per reminder and card, points on per early completion (watchsettings)
    "return": 1, "supplement": 0,  # points off per occurrence
}
WEIGHT_LABELS = {"on_time": said("按时办结率（权重）"), "early": said("提前办结率（权重）"),
                 "satisfaction": said("满意度（权重）"), **CARD_LABELS, "return": said("每次退回扣分"),
                 "supplement": said("每次补正扣分")}
RATE_WEIGHTS = ("on_time", "early", "satisfaction")
RETURN_EVENTS = ("task_returned", "task_withdrawn")
DECISION_FIELDS = ("decision", "acceptance", "approval", "result")
SUPPLEMENT_WORD = "补正"
LEVEL_COUNTERS = {"reminder": "reminders", "yellow": "yellow_cards", "red": "red_cards",
                  "statutory": "statutory_cards"}  # a `case_warnings` level → the figure it counts in


@dataclass
class Metrics:
    """One row of the table: a window or a person."""

    key: str
    label: str
    handled: int = 0
    with_deadline: int = 0
    on_time: int = 0
    early: int = 0
    working_days: int = 0
    timed: int = 0  # closed cases with a clock (the denominator of the average)
    steps: int = 0  # steps completed in the period (persons)
    returns: int = 0
    supplements: int = 0
    reminders: int = 0  # 临期提醒: counted, not a card
    yellow_cards: int = 0
    red_cards: int = 0
    statutory_cards: int = 0
    rating_count: int = 0
    rating_sum: int = 0
    score: float | None = None

    @property
    def warnings(self) -> int:
        return self.yellow_cards + self.red_cards + self.statutory_cards

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.with_deadline if self.with_deadline else None

    @property
    def early_rate(self) -> float | None:
        return self.early / self.with_deadline if self.with_deadline else None

    @property
    def average_working_days(self) -> float | None:
        return round(self.working_days / self.timed, 1) if self.timed else None

    @property
    def rating_average(self) -> float | None:
        return round(self.rating_sum / self.rating_count, 2) if self.rating_count else None

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "handled": self.handled, "with_deadline": self.with_deadline,
                "on_time": self.on_time, "on_time_rate": self.on_time_rate, "early": self.early,
                "early_rate": self.early_rate, "average_working_days": self.average_working_days,
                "steps": self.steps, "returns": self.returns, "supplements": self.supplements,
                "reminders": self.reminders, "warnings": self.warnings, "yellow_cards": self.yellow_cards,
                "red_cards": self.red_cards, "statutory_cards": self.statutory_cards,
                "rating_count": self.rating_count, "rating_average": self.rating_average, "score": self.score}


@dataclass
class Performance:
    date_from: date
    date_to: date
    weights: dict[str, float]
    windows: list[Metrics] = field(default_factory=list)
    people: list[Metrics] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat(), "weights": self.weights,
                "windows": [m.to_dict() for m in self.windows], "people": [m.to_dict() for m in self.people]}


def month_period(day: date) -> tuple[date, date]:
    """The calendar month `day` is in: (first day, last day)."""
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def evaluate(db: Database, date_from: date, date_to: date) -> Performance:
    """Every window's and person's figures for the local dates `date_from`–`date_to` (both included)."""
    if date_to < date_from:
        raise OnewindowError(said("结束日期不能早于开始日期。"))
    since, until = start_of_day(date_from), end_of_day(date_to)
    with db.reading() as conn:
        weights = _weights(conn)
        calendar = load_calendar(conn)
        names = unit_names(conn)
        tally = _Tally(names, staff_names(conn))
        windows_of = _case_windows(conn)
        steps = _steps(conn)  # case id → people who completed a step of it; task id → person
        _closed_cases(conn, since, until, calendar, windows_of, steps, tally)
        _events(conn, since, until, windows_of, tally)
        _warnings(conn, since, until, windows_of, steps, tally)
        _ratings(conn, since, until, windows_of, steps, tally)
    for metrics in (*tally.windows.values(), *tally.people.values()):
        metrics.score = score(metrics, weights)
    order = lambda m: (-(m.score if m.score is not None else -1), m.key)  # noqa: E731 - the sort key, named
    return Performance(date_from, date_to, weights, sorted(tally.windows.values(), key=order),
                       sorted(tally.people.values(), key=order))


class _Tally:
    """The rows being counted: every window met, and the staff among the people met (`staff_names`)."""

    def __init__(self, unit_labels: dict[str, str], staff_labels: dict[str, str]) -> None:
        self.windows: dict[str, Metrics] = {}
        self.people: dict[str, Metrics] = {}
        self._units, self._staff = unit_labels, staff_labels

    def window(self, code: str) -> Metrics:
        if code not in self.windows:
            self.windows[code] = Metrics(code, self._units.get(code, code))
        return self.windows[code]

    def persons(self, *usernames: str | None) -> list[Metrics]:
        """The rows of those of `usernames` who are staff; an applicant (who answers a 补正 or withdraws) or
        the system is no person of the evaluation."""
        out = []
        for username in usernames:
            if username in self._staff:
                if username not in self.people:
                    self.people[username] = Metrics(username, self._staff[username])
                out.append(self.people[username])
        return out


def staff_names(conn: Connection) -> dict[str, str]:
    """Username → display name of the staff: users who work in a unit or belong to a group, and are not
    applicants. Whoever else completes a step — an applicant answering a 补正 online (`applicant:<case>` with
    the follow-up code, or a registered applicant's account) — is left out of the people's table."""
    in_group = select(memberships.c.user_id).distinct()
    rows = conn.execute(select(users.c.username, users.c.display_name, users.c.roles)
                        .where(or_(users.c.unit_code.is_not(None), users.c.id.in_(in_group)))).all()
    return {r.username: r.display_name for r in rows if "applicant" not in (r.roles or [])}


@dataclass
class _Steps:
    by_case: dict[int, set[str]]
    by_task: dict[str, str]


def _case_windows(conn: Connection) -> dict[int, str]:
    """Each evaluated case's window; the supervisors' own cases (exception, rectification) are not evaluated."""
    return {r.id: window_of(r.unit_code, r.department) for r in conn.execute(
        select(cases.c.id, cases.c.unit_code, items.c.department).join(items, items.c.id == cases.c.item_id)
        .where(~SUPERVISION_CASE))}


def _steps(conn: Connection) -> _Steps:
    found = _Steps(defaultdict(set), {})
    for case_id, actor, data in conn.execute(select(audit_events.c.case_id, audit_events.c.actor, audit_events.c.data)
                                             .where(audit_events.c.type == "task_completed")):
        found.by_case[case_id].add(actor)
        if isinstance(data, dict) and data.get("task_id"):
            found.by_task[data["task_id"]] = actor
    return found


def _closed_cases(conn: Connection, since: datetime, until: datetime, calendar: WorkCalendar,
                  windows_of: dict[int, str], steps: _Steps, tally: _Tally) -> None:
    rows = conn.execute(select(cases.c.id, cases.c.clock_started_at, cases.c.clock_stopped_at, cases.c.paused_days,
                               cases.c.paused_since, cases.c.committed_deadline)
                        .where(cases.c.closed_at >= since, cases.c.closed_at < until))
    for row in rows:
        if row.id not in windows_of:
            continue
        for metrics in (tally.window(windows_of[row.id]), *tally.persons(*sorted(steps.by_case[row.id]))):
            _count_closed(metrics, row, calendar)


def _count_closed(metrics: Metrics, row: Any, calendar: WorkCalendar) -> None:
    metrics.handled += 1
    started, stopped, deadline = as_utc(row.clock_started_at), as_utc(row.clock_stopped_at), \
        as_utc(row.committed_deadline)
    if started is not None and stopped is not None:
        metrics.timed += 1
        metrics.working_days += working_days_used(calendar, {
            "clock_started_at": started, "clock_stopped_at": stopped, "paused_days": row.paused_days,
            "paused_since": as_utc(row.paused_since)}, stopped) or 0
    if deadline is not None and stopped is not None:
        metrics.with_deadline += 1
        metrics.on_time += stopped <= deadline
        metrics.early += calendar.working_days_between(clock.local_date(stopped), clock.deadline_day(deadline)) >= 1


def _events(conn: Connection, since: datetime, until: datetime, windows_of: dict[int, str], tally: _Tally) -> None:
    rows = conn.execute(select(audit_events.c.case_id, audit_events.c.actor, audit_events.c.type, audit_events.c.data)
                        .where(audit_events.c.at >= since, audit_events.c.at < until,
                               audit_events.c.type.in_(("task_completed", *RETURN_EVENTS))))
    for case_id, actor, kind, data in rows:
        if case_id not in windows_of:
            continue
        window, people = tally.window(windows_of[case_id]), tally.persons(actor)
        if kind in RETURN_EVENTS:
            for metrics in (window, *people):
                metrics.returns += 1
            continue
        for person in people:
            person.steps += 1
        if is_supplement_decision((data or {}).get("data") or {}):
            for metrics in (window, *people):
                metrics.supplements += 1


def is_supplement_decision(form: dict[str, Any]) -> bool:
    """A decision that asks the applicant for 补正 (需补正, 补正材料 …)."""
    return any(isinstance(form.get(k), str) and SUPPLEMENT_WORD in form[k] for k in DECISION_FIELDS)


def _warnings(conn: Connection, since: datetime, until: datetime, windows_of: dict[int, str], steps: _Steps,
              tally: _Tally) -> None:
    rows = conn.execute(select(case_warnings.c.case_id, case_warnings.c.level, case_warnings.c.kind,
                               case_warnings.c.task_id)
                        .where(case_warnings.c.raised_at >= since, case_warnings.c.raised_at < until))
    for case_id, level, kind, task_id in rows:
        if case_id not in windows_of:
            continue
        targets = [tally.window(windows_of[case_id])]
        holder = steps.by_task.get(task_id) if kind == "step" and task_id else None
        targets += tally.persons(holder)
        counter = LEVEL_COUNTERS.get(level)
        for metrics in targets if counter else ():
            setattr(metrics, counter, getattr(metrics, counter) + 1)


def _ratings(conn: Connection, since: datetime, until: datetime, windows_of: dict[int, str], steps: _Steps,
             tally: _Tally) -> None:
    rows = conn.execute(select(ratings.c.case_id, ratings.c.unit_code, ratings.c.score)
                        .where(ratings.c.rated_at >= since, ratings.c.rated_at < until, ratings.c.kind == "rating"))
    for case_id, unit_code, value in rows:
        for metrics in (tally.window(unit_code or windows_of[case_id]),
                        *tally.persons(*sorted(steps.by_case[case_id]))):
            metrics.rating_count += 1
            metrics.rating_sum += value


def score(metrics: Metrics, weights: dict[str, float]) -> float | None:
    """The 0–100 score: weighted mean of the rates with data, minus penalties; None without any rate."""
    satisfaction = None if metrics.rating_average is None else (metrics.rating_average - 1) / 4
    rates = {"on_time": metrics.on_time_rate, "early": metrics.early_rate, "satisfaction": satisfaction}
    present = {k: v for k, v in rates.items() if v is not None and weights.get(k, 0) > 0}
    if not present:
        return None
    base = 100 * sum(weights[k] * v for k, v in present.items()) / sum(weights[k] for k in present)
    penalty = (weights["reminder"] * metrics.reminders + weights["yellow_card"] * metrics.yellow_cards
               + weights["red_card"] * metrics.red_cards + weights["statutory_card"] * metrics.statutory_cards
               + weights["return"] * metrics.returns + weights["supplement"] * metrics.supplements)
    bonus = weights["early_bonus"] * metrics.early
    return round(min(100.0, max(0.0, base - penalty + bonus)), 1)


# --- the weights, set by an administrator ---------------------------------------------------------


def _weights(conn: Connection) -> dict[str, float]:
    return {**DEFAULT_WEIGHTS, **get_setting(conn, WEIGHTS_KEY, {})}


def weights(db: Database) -> dict[str, float]:
    with db.reading() as conn:
        return _weights(conn)


def set_weights(db: Database, values: dict[str, Any], actor: Any) -> dict[str, float]:
    """An administrator's weights; every one a number from 0 to 100, the three rate weights not all 0."""
    if not actor.is_admin:
        raise PermissionDenied(said("只有系统管理员可以设置绩效考核权重。"))
    parsed: dict[str, float] = {}
    errors: dict[str, list[str]] = {}
    for key in DEFAULT_WEIGHTS:
        try:
            number = float(values.get(key, DEFAULT_WEIGHTS[key]))
        except (TypeError, ValueError):
            errors[key] = ["请填写数字"]
            continue
        if not 0 <= number <= 100:
            errors[key] = ["须在 0 到 100 之间"]
        parsed[key] = int(number) if number.is_integer() else number
    if not errors and not any(parsed[k] > 0 for k in RATE_WEIGHTS):
        errors["on_time"] = ["按时、提前、满意度三项权重不能全为 0"]
    if errors:
        raise OnewindowError(said("权重设置有误，请按提示修改。"), field_errors=errors)
    put_setting(db, WEIGHTS_KEY, parsed, actor.username)
    return parsed
