"""docs/modeling.md §16 followed literally (issue 17, item 9), so the worked example cannot rot: the
item.json the doc shows, written into a temporary folder with the diagram of the shape it names renamed
as it says, passes `onewindow lint`, deploys with `onewindow deploy` as version 1, and a case of it is
walked to 批准 and 办结."""

from __future__ import annotations

import json
import re

import catalogue_walk
from conftest import PROCESSES, make_actor

from engine.org import orgtree
from onewindow.cli import main

DOC = (PROCESSES.parent / "docs" / "modeling.md").read_text(encoding="utf-8")


def section_16() -> str:
    return DOC.split("## 16. ")[1].split("\n## ")[0]


def test_the_folder_way_of_section_16_lints_deploys_and_walks(env_db, tmp_path, capsys):
    section = section_16()
    item = json.loads(re.search(r"```json\n(.*?)```", section, re.S).group(1))
    exemplar = re.search(r"`(processes/catalogue/[^`]+\.bpmn)`", section).group(1)
    folder = tmp_path / "zhujian" / item["code"]
    folder.mkdir(parents=True)
    (folder / "item.json").write_text(json.dumps(item, ensure_ascii=False), encoding="utf-8")
    old = re.search(r'<bpmn:process id="([^"]+)"', (PROCESSES.parent / exemplar).read_text(encoding="utf-8")).group(1)
    diagram = (PROCESSES.parent / exemplar).read_text(encoding="utf-8")
    diagram = re.sub(rf'(?<=["_]){old}(?=")', item["process_id"], diagram)  # the process id and ids built on it
    (folder / f"{item['process_id']}.bpmn").write_text(diagram, encoding="utf-8")

    units = orgtree.install(env_db)
    assert f"onewindow lint processes/catalogue/zhujian/{item['code']}" in section
    assert main(["lint", str(folder)]) == 0, capsys.readouterr()
    assert main(["deploy", str(folder)]) == 0, capsys.readouterr()
    front = catalogue_walk.fronts_for(item, units)["区级窗口"]
    done = catalogue_walk.walk(env_db, item["code"], make_actor(env_db, "walker", [], ["admin"]),
                               catalogue_walk.Path("批准", front))
    assert done.status == "approved"


def test_section_16_names_the_chief_and_how_a_department_gets_one():
    section = section_16()
    assert "`chief`" in section and "chief_group" in section and "onewindow user add" in section
    command = re.search(r"onewindow user add .*", section).group(0)
    assert "--role chief" in command and "·批准" in command
