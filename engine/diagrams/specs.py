"""From a version's BPMN files to SpiffWorkflow specs, parsed once per version and kept in memory.

A deployed version never changes, so its specs are cached by version id for the life of the
process; the serialized case state then leaves the spec out (see `engine.runtime.state`), which is both
smaller on disk and cheaper on every load.

Two things are kept per version. The *wired* form (`Wired`) is what parsing the files gives, passed
through SpiffWorkflow's own converter: plain data, never handed to a workflow. Spec objects are restored
from it (`as_loaded`): one restore costs about a tenth of a parse. The live `ProcessSpecs` are shared
by the cases of a worker; when they are dropped (the LRU's capacity, or the tests' `cold` fixture, which
keeps none between steps) the next step restores fresh objects from the wired form — objects no earlier
workflow has touched, exactly as a worker that has just started builds them.
"""

from __future__ import annotations

import pickle
import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from engine.diagrams.safexml import parse_xml
from engine.errors import PackageError

FORMS_PREFIX = "forms/"
WIRED_CAPACITY = 512  # parsed versions kept as data (tens of KB each): what the live LRU drops is restored from here

# SpiffWorkflow's parser follows the flows recursively, two Python frames per element: Python's default
# limit of 1,000 frames refused a plain chain of ~490 steps. Python 3.11 keeps Python-to-Python calls off
# the C stack, so a higher limit is safe; it is raised, never lowered, once for the process.
PARSER_DEPTH = 20_000


CLOCK_PROPERTY = "clock"  # "start": the clock starts when this step completes; "pause": stopped while open
STEP_LIMIT_PROPERTY = "stepLimitDays"  # the step's own limit, in working days


@dataclass(frozen=True)
class TimeLimits:
    """An item's limits in working days (from its guide): what the applicant is promised and what the law allows."""

    committed_days: int | None = None
    statutory_days: int | None = None
    warning_days: int = 1

    @classmethod
    def from_metadata(cls, metadata: dict) -> TimeLimits:
        guide = metadata.get("guide") or {}
        committed = guide.get("committed_limit_days", guide.get("time_limit_days"))
        statutory = guide.get("statutory_limit_days", committed)
        warning = _days(guide.get("warning_days"))
        return cls(_days(committed), _days(statutory), 1 if warning is None else warning)


def _days(value) -> int | None:
    return int(value) if isinstance(value, int | float | str) and str(value).strip().isdigit() else None


@dataclass(frozen=True)
class ClockMarks:
    """What the diagram says about time, read once per version from `spiffworkflow:property` marks."""

    start_elements: frozenset[str] = frozenset()
    pause_elements: dict[str, str] = field(default_factory=dict)  # element id → its name (the pause reason)
    step_limits: dict[str, int] = field(default_factory=dict)  # element id → working days

    @classmethod
    def from_specs(cls, specs: list[BpmnProcessSpec]) -> ClockMarks:
        start, pause, limits = set(), {}, {}
        for spec in specs:
            for task_spec in spec.task_specs.values():
                properties = getattr(task_spec, "extensions", {}).get("properties", {})
                element = getattr(task_spec, "bpmn_id", None)
                if not properties or element is None:
                    continue
                mark = properties.get(CLOCK_PROPERTY, "").strip()
                if mark == "start":
                    start.add(element)
                elif mark == "pause":
                    pause[element] = task_spec.bpmn_name or element
                if _days(properties.get(STEP_LIMIT_PROPERTY)) is not None:
                    limits[element] = _days(properties[STEP_LIMIT_PROPERTY])
        return cls(frozenset(start), pause, limits)


@dataclass(frozen=True)
class ProcessSpecs:
    """What `BpmnWorkflow(spec, subprocess_specs)` needs for one version, plus what it says about time."""

    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]
    forms: dict[str, str]
    has_timers: bool = True  # False: no timer event anywhere, so its cases never need the timer index
    clock: ClockMarks = field(default_factory=ClockMarks)
    limits: TimeLimits = field(default_factory=TimeLimits)
    department: str | None = None  # the item's department and level: what 【relative】 lanes resolve against
    level: str = "district"
    accept_levels: tuple[str, ...] = ()
    application_form: str | None = None  # item.json `application_form`: what an application may hold


def _has_timers(specs: list[BpmnProcessSpec]) -> bool:
    for spec in specs:
        for task_spec in spec.task_specs.values():
            definition = getattr(task_spec, "event_definition", None)
            if isinstance(definition, TimerEventDefinition):
                return True
            if isinstance(definition, MultipleEventDefinition) and any(
                    isinstance(d, TimerEventDefinition) for d in definition.event_definitions):
                return True
    return False


_SPEC_REGISTRY = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)


@dataclass(frozen=True)
class Wired:
    """A version's specs as SpiffWorkflow's converter writes them (plain data), with its forms and item.json:
    everything `restore` needs to build the version's `ProcessSpecs` without parsing a file again."""

    spec: dict[str, Any]
    subprocess_specs: dict[str, dict[str, Any]]
    forms: dict[str, str]
    metadata: dict[str, Any]


def as_loaded(converted: dict[str, Any]) -> BpmnProcessSpec:
    """A spec as SpiffWorkflow's own loader gives it back from a serialized workflow, restored from a copy of
    `converted` (the restore must never share or change the data it is given: it is restored again later).

    The loader wires specs in ways the parser leaves to the first workflow that needs them: a
    multi-instance task's child spec gets its merge-back hook (`LoopTask.merge_child`) only when a
    process first creates an instance, or when a spec is restored. A parsed spec therefore worked in
    the process that started the review and stalled the case everywhere else (a fresh worker, a
    restart, the command line): the last opinion was never merged and the collate step never came.
    Every spec a case runs on comes from the loader, so every process has the same, completely wired
    specs, whatever SpiffWorkflow wires on restore now or in a later release.

    The copy is a pickle round trip, not `copy.deepcopy`: the converted form is plain data (dicts, lists,
    strings, numbers; tests/test_cold_restore.py checks), which pickle copies as exactly, shared parts
    included, in a quarter of the time (JG-002's specs: 0.45 against 1.69 ms, a third of a restore). Only
    what this process just pickled is ever unpickled.
    """
    return _SPEC_REGISTRY.restore(pickle.loads(pickle.dumps(converted, pickle.HIGHEST_PROTOCOL)))


def wire(files: dict[str, str], process_id: str, metadata: dict | None = None) -> Wired:
    """Parse a package's files with a fresh parser (SpiffWorkflow refuses duplicate process ids in one)."""
    if sys.getrecursionlimit() < PARSER_DEPTH:
        sys.setrecursionlimit(PARSER_DEPTH)
    parser = SpiffBpmnParser(validator=VALIDATOR)
    for name, text in files.items():
        if name.endswith(".bpmn"):
            parser.add_bpmn_xml(parse_xml(text, name), filename=name)
        elif name.endswith(".dmn"):  # the decision tables a businessRuleTask names by calledDecisionId
            parser.add_dmn_xml(parse_xml(text, name).getroot(), filename=name)
    try:
        spec = _SPEC_REGISTRY.convert(parser.get_spec(process_id))
        subprocess_specs = {name: _SPEC_REGISTRY.convert(sub)
                            for name, sub in parser.get_subprocess_specs(process_id).items()}
    except ValidationException as exc:
        raise PackageError(f"{exc.file_name or ''} {exc.id or ''}: {exc}".strip()) from exc
    forms = {name.removeprefix(FORMS_PREFIX): text for name, text in files.items() if name.startswith(FORMS_PREFIX)}
    return Wired(spec, subprocess_specs, forms, metadata or {})


def restore(wired: Wired) -> ProcessSpecs:
    """Fresh spec objects for a version, from its wired form."""
    spec = as_loaded(wired.spec)
    subprocess_specs = {name: as_loaded(sub) for name, sub in wired.subprocess_specs.items()}
    every = [spec, *subprocess_specs.values()]
    metadata = wired.metadata
    return ProcessSpecs(spec, subprocess_specs, wired.forms, _has_timers(every), ClockMarks.from_specs(every),
                        TimeLimits.from_metadata(metadata), metadata.get("department"),
                        metadata.get("level") or "district", tuple(metadata.get("accept_levels") or ()),
                        metadata.get("application_form"))


def build_specs(files: dict[str, str], process_id: str, metadata: dict | None = None) -> ProcessSpecs:
    """A package's specs, parsed and restored (lint, deployment: files not yet a version)."""
    return restore(wire(files, process_id, metadata))


class SpecCache:
    """A bounded LRU of `ProcessSpecs` by version content hash; safe to share between threads (specs are read-only)."""

    def __init__(self, capacity: int = 256) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[str, ProcessSpecs] = OrderedDict()
        self._wired: OrderedDict[str, Wired] = OrderedDict()  # the parsed form, kept when the objects are not
        self._lock = threading.Lock()

    def get(self, content_hash: str, load) -> ProcessSpecs:
        """Specs of the version with `content_hash`, calling `load()` → (files, process_id, metadata) on a miss.

        Keyed by content hash, not row id: equal content parses to equal specs in any database.
        """
        with self._lock:
            if content_hash in self._entries:
                self._entries.move_to_end(content_hash)
                return self._entries[content_hash]
            wired = self._wired.get(content_hash)
        if wired is None:
            wired = wire(*load())
        specs = restore(wired)
        with self._lock:
            self._wired[content_hash] = wired
            self._wired.move_to_end(content_hash)
            while len(self._wired) > WIRED_CAPACITY:
                self._wired.popitem(last=False)
            if self.capacity:
                self._entries[content_hash] = specs
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)
        return specs


spec_cache = SpecCache()
