"""A state written by an earlier run continues today.

`tests/data/state-compat/state-1.5.json` was written by onewindow 0.1.0 on SpiffWorkflow 3.2.0
(serializer 1.5) after the 受理 step of a frozen copy of the joint-review item. A later release must
load it and finish the case; if a SpiffWorkflow upgrade changes the format, this test says so.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import insert, select

from engine.catalogue.deployment import deploy_package
from engine.desk.casework import complete_task
from engine.diagrams.package import load_package
from engine.reads import queries
from engine.runtime.chain import GENESIS
from engine.runtime.change import load_workflow, rebuild_indexes
from engine.runtime.state import SERIALIZER_VERSION
from engine.store.tables import cases, items, process_versions
from engine.time import clock

COMPAT = Path(__file__).resolve().parent / "data" / "state-compat"


def test_a_state_written_earlier_loads_and_runs_to_the_end(db, clerk):
    deploy_package(db, load_package(COMPAT), "analyst")
    stored = json.loads((COMPAT / "state-1.5.json").read_text(encoding="utf-8"))
    assert stored["serializer_version"] == SERIALIZER_VERSION == "1.5"
    now = clock.now()
    with db.transaction() as conn:
        item_id, version_id = conn.execute(
            select(items.c.id, process_versions.c.id).join(process_versions, process_versions.c.item_id == items.c.id)
            .where(items.c.code == "COMPAT-001")).one()
        conn.execute(insert(cases).values(
            case_no="20250101000001", item_id=item_id, version_id=version_id, status=stored["status"],
            state=json.dumps(stored["state"]), serializer_version=stored["serializer_version"], lock_version=1,
            audit_seq=0, audit_head=GENESIS, created_at=now, updated_at=now))
    assert queries.open_tasks(db, case_no="20250101000001") == []  # the read model is not in the state
    rebuild_indexes(db, "20250101000001")
    names = sorted(t.name for t in queries.open_tasks(db, case_no="20250101000001"))
    assert names == ["住建部门审查", "消防部门审查", "环保部门审查"]
    assert load_workflow(db, "20250101000001").last_task.data["applicant_name"] == "李四"
    for task in queries.open_tasks(db, case_no="20250101000001"):
        complete_task(db, task.task_id, {"opinion": "同意"}, clerk)
    issue = queries.open_tasks(db, case_no="20250101000001")[0]
    complete_task(db, issue.task_id, {"certificate_no": "C-2025-1"}, clerk)
    assert queries.case_detail(db, "20250101000001")["status"] == "completed"
