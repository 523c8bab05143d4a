"""好差评 (S-12): the applicant rates a visit or a completed case; a bad rating or a complaint starts 整改.

Only the applicant who started the case (its `applicant_id`, role applicant) rates it, and only by
submitting the form — nothing here is ever called by the platform on its own, so a rating is never filled
in automatically. The occasions are the case's visits (each dated receipt — 受理, 补正, 不予受理 — is a
visit at the window, numbered 1, 2, … in issue order) and its completion (visit 0, once closed); at most
one rating and one complaint per occasion (a unique constraint).

A rating of 1 or 2, or a complaint (投诉) about the window, starts a case of the BPMN item `SUP-RECTIFY`
(processes/supervision/rectification/) at the window concerned, with the rating in its data and the
rectification limit in working days (`rectify_days`, an administrator's setting, default 5) that its
boundary timer counts. The rating row names that case. Ratings are not events of the rated case's audit
chain — they are the applicant's judgement of it, kept beside it; the rectification case's own chain
records what was done about one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from engine.desk import casework
from engine.errors import ConflictError, NotFound, OnewindowError, PermissionDenied
from engine.messages import ENUMERATION_COMMA, listed, said
from engine.org.assignment import Actor
from engine.org.orgtree import department_unit
from engine.runtime.change import TERMINAL
from engine.runtime.receipts import AT_THE_WINDOW
from engine.store.db import Database
from engine.store.tables import cases, items, org_units, ratings, receipts, users
from engine.time import clock
from engine.watch.watchsettings import get_setting, put_setting

LABELS = {1: said("非常不满意"), 2: said("不满意"), 3: said("基本满意"), 4: said("满意"), 5: said("非常满意")}
ASPECTS = (said("服务态度"), said("办事效率"), said("窗口环境"))  # also the keys a rating's sub-scores are kept by
_ASPECT_OF = {str(aspect): aspect for aspect in ASPECTS}  # a stored key → the aspect as said, to be translated
RATING, COMPLAINT = "rating", "complaint"
BAD = 2  # a score at or below this starts a rectification
RECTIFY_ITEM = "SUP-RECTIFY"
RECTIFY_DAYS_KEY = "rectify_days"
DEFAULT_RECTIFY_DAYS = 5
COMMENT_MAX = 1000
COMPLETION = 0


class RatingRefused(OnewindowError):
    status = 422
    code = "rating_refused"


@dataclass(frozen=True)
class Occasion:
    visit: int  # 0: the completed case; 1…: the n-th receipt (a visit at the window)
    label: str
    rated: bool
    complained: bool


@dataclass(frozen=True)
class Rated:
    id: int
    rectification_case_no: str | None


def occasions(db: Database, case_no: str, actor: Actor) -> list[Occasion]:
    """What the applicant may rate on this case, each with whether it is rated (or complained of) already."""
    with db.reading() as conn:
        case = _own_case(conn, case_no, actor)
        return _occasions(conn, case)


DAY = "%Y-%m-%d"


def _occasions(conn: Connection, case: Any) -> list[Occasion]:
    done = {(r.visit, r.kind) for r in conn.execute(select(ratings.c.visit, ratings.c.kind)
                                                     .where(ratings.c.case_id == case.id))}
    found = [Occasion(n, said("第 %(n)s 次到窗口：%(kind)s（%(day)s）", n=n, kind=r.kind,
                              day=clock.local_text(r.issued_at, DAY)),
                      (n, RATING) in done, (n, COMPLAINT) in done)
             for n, r in enumerate(conn.execute(select(receipts.c.title.label("kind"), receipts.c.issued_at).where(
                 receipts.c.case_id == case.id, receipts.c.kind.in_(AT_THE_WINDOW)).order_by(receipts.c.id)), 1)]
    if case.status in TERMINAL:
        found.append(Occasion(COMPLETION, said("办结"), (COMPLETION, RATING) in done,
                              (COMPLETION, COMPLAINT) in done))
    return found


def _own_case(conn: Connection, case_no: str, actor: Actor) -> Any:
    row = conn.execute(select(cases.c.id, cases.c.case_no, cases.c.status, cases.c.unit_code, cases.c.applicant_id,
                              items.c.department, items.c.code.label("item_code"), items.c.name.label("item_name"))
                       .join(items, items.c.id == cases.c.item_id).where(cases.c.case_no == case_no)).one_or_none()
    if row is None:
        raise NotFound(said("办件 %(case_no)s 不存在；请核对办件编号。", case_no=case_no))
    user_id = conn.execute(select(users.c.id).where(users.c.username == actor.username)).scalar_one_or_none()
    if "applicant" not in actor.roles or user_id is None or row.applicant_id != user_id:
        raise PermissionDenied(said("只有提出申请的申请人本人可以评价或投诉此办件。"))
    return row


def rate(db: Database, case_no: str, actor: Actor, visit: int, score: int | None, kind: str = RATING,
         sub_ratings: dict[str, Any] | None = None, comment: str = "") -> Rated:
    """Record the applicant's rating (score 1–5) or complaint (comment required) of one occasion."""
    if kind not in (RATING, COMPLAINT):
        raise RatingRefused(said("评价类型应为评价或投诉。"))
    text = (comment or "").strip()
    errors = _check(kind, score, sub_ratings or {}, text)
    if errors:
        raise RatingRefused(said("评价内容有误，请按提示修改。"), field_errors=errors)
    stored_score = score if kind == RATING else 0  # a complaint has no score (and no part in the averages)
    try:  # one unit: a rating and the rectification it starts are written together or not at all
        with db.transaction() as conn:
            case = _own_case(conn, case_no, actor)
            occasion = next((o for o in _occasions(conn, case) if o.visit == visit), None)
            if occasion is None:
                raise RatingRefused(said("此次办理尚不能评价：可评价每次到窗口办理（以回执为准）和办结后的办件。"))
            if occasion.rated if kind == RATING else occasion.complained:
                raise ConflictError(said("您已就此次办理提交过评价，不能重复提交。") if kind == RATING
                                    else said("您已就此次办理提交过投诉，不能重复提交。"))
            window = case.unit_code or department_unit(case.department)
            routable = conn.execute(select(org_units.c.code).where(org_units.c.code == window)).scalar_one_or_none()
            rectification = None
            if (kind == COMPLAINT or stored_score <= BAD) and routable:
                days = int(get_setting(conn, RECTIFY_DAYS_KEY, DEFAULT_RECTIFY_DAYS))
                rectification = _start_rectification(conn, case, actor, window, kind, stored_score, text, days)
            rating_id = conn.execute(insert(ratings).values(
                case_id=case.id, visit=visit, score=stored_score, sub_ratings=_clean(sub_ratings or {}),
                comment=text, kind=kind, unit_code=window, rated_by=actor.username, rated_at=clock.now(),
                rectification_case_no=rectification).returning(ratings.c.id)).scalar_one()
    except IntegrityError as exc:
        raise ConflictError(said("您已就此次办理提交过评价，不能重复提交。")) from exc
    return Rated(rating_id, rectification)


def _check(kind: str, score: int | None, sub_ratings: dict[str, Any], text: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if kind == RATING and (not isinstance(score, int) or isinstance(score, bool) or score not in LABELS):
        errors["score"] = [said("请选择 1—5 分（非常不满意 … 非常满意）")]
    for aspect, value in sub_ratings.items():
        if aspect not in ASPECTS:
            errors[aspect] = [said("分项应为：%(aspects)s", aspects=listed(ASPECTS, ENUMERATION_COMMA))]
        elif value not in (None, "") and (not isinstance(value, int) or value not in LABELS):
            errors[aspect] = [said("分项评分应为 1—5 分")]
    if kind == COMPLAINT and len(text) < 5:
        errors["comment"] = [said("投诉请写明具体情况（至少 5 个字）")]
    if len(text) > COMMENT_MAX:
        errors["comment"] = [said("不能超过 %(n)s 字", n=COMMENT_MAX)]
    return errors


def _clean(sub_ratings: dict[str, Any]) -> dict[str, int]:
    return {k: v for k, v in sub_ratings.items() if isinstance(v, int) and not isinstance(v, bool)}


def _start_rectification(conn: Connection, case: Any, actor: Actor, window: str, kind: str, score: int, text: str,
                         days: int) -> str:
    what = "投诉" if kind == COMPLAINT else f"评价 {score} 分（{LABELS[score]}）"
    data = {"original_case_no": case.case_no, "original_item": f"{case.item_code} {case.item_name}",
            "window": window, "source": kind, "score": score, "complaint": f"{what}" + (f"：{text}" if text else ""),
            "rectify_days": days, "applicant": actor.username}
    return casework.start_case_in(conn, RECTIFY_ITEM, data, actor, unit=window).case_no


def rectify_days(db: Database) -> int:
    with db.reading() as conn:
        return int(get_setting(conn, RECTIFY_DAYS_KEY, DEFAULT_RECTIFY_DAYS))


def set_rectify_days(db: Database, days: Any, actor: Actor) -> int:
    """整改期限: an administrator's working-day limit for rectifications started from now on."""
    if not actor.is_admin:
        raise PermissionDenied(said("只有系统管理员可以设置整改期限。"))
    try:
        value = int(days)
    except (TypeError, ValueError) as exc:
        raise RatingRefused(said("整改期限应为 1—30 个工作日。"),
                            field_errors={"rectify_days": [said("请填写整数")]}) from exc
    if not 1 <= value <= 30:
        raise RatingRefused(said("整改期限应为 1—30 个工作日。"), field_errors={"rectify_days": ["1—30"]})
    put_setting(db, RECTIFY_DAYS_KEY, value, actor.username)
    return value


def of_case(db: Database, case_no: str) -> list[dict[str, Any]]:
    """The ratings of a case, oldest first (for the applicant's page and the supervisors)."""
    with db.reading() as conn:
        rows = conn.execute(select(ratings).join(cases, cases.c.id == ratings.c.case_id)
                            .where(cases.c.case_no == case_no).order_by(ratings.c.id)).all()
    return [{"visit": r.visit, "kind": r.kind, "score": r.score, "label": LABELS.get(r.score, ""),
             "sub_ratings": {_ASPECT_OF.get(k, k): v for k, v in (r.sub_ratings or {}).items()},
             "comment": r.comment, "rated_at": r.rated_at,
             "rectification_case_no": r.rectification_case_no} for r in rows]

