"""The scheduler keeps the audit checkpoints going (the audit issue's "periodic checkpoint")."""

from __future__ import annotations

from conftest import ACCEPT_DATA
from sqlalchemy import func, select

from engine.desk.casework import complete_task, start_case
from engine.reads import queries
from engine.store.tables import audit_checkpoint_heads, audit_checkpoints
from onewindow.serving import run_scheduler


def test_the_standalone_scheduler_makes_a_checkpoint_when_it_starts(db, joint, clerk):
    case = start_case(db, "DEMO-001", {}, clerk)
    task = queries.open_tasks(db, case_no=case.case_no)[0]
    complete_task(db, task.task_id, ACCEPT_DATA, clerk)
    totals = run_scheduler(db, interval=0, count=1, on_tick=lambda report: None, on_failure=lambda line: None)
    assert totals.ticks == 1 and totals.failed_ticks == 0
    with db.reading() as conn:
        assert conn.execute(select(func.count()).select_from(audit_checkpoints)).scalar_one() == 1
        heads = conn.execute(select(audit_checkpoint_heads.c.case_no, audit_checkpoint_heads.c.seq)).all()
    history = queries.case_history(db, case.case_no)
    assert [(h.case_no, h.seq) for h in heads] == [(case.case_no, history[-1]["seq"])]
