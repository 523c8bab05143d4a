"""From a version's BPMN files to SpiffWorkflow specs, parsed once per version and kept in memory.

A deployed version never changes, so its specs are cached by version id for the life of the
process; the serialized case state then leaves the spec out (see `engine.state`), which is both
smaller on disk and cheaper on every load.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from .errors import PackageError
from .safexml import parse_xml

FORMS_PREFIX = "forms/"


@dataclass(frozen=True)
class ProcessSpecs:
    """What `BpmnWorkflow(spec, subprocess_specs)` needs for one version."""

    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]
    forms: dict[str, str]
    has_timers: bool = True  # False: no timer event anywhere, so its cases never need the timer index


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


def build_specs(files: dict[str, str], process_id: str) -> ProcessSpecs:
    """Parse a package's files with a fresh parser (SpiffWorkflow refuses duplicate process ids in one)."""
    parser = SpiffBpmnParser(validator=VALIDATOR)
    for name, text in files.items():
        if name.endswith(".bpmn"):
            parser.add_bpmn_xml(parse_xml(text, name), filename=name)
    try:
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        raise PackageError(f"{exc.file_name or ''} {exc.id or ''}: {exc}".strip()) from exc
    forms = {name.removeprefix(FORMS_PREFIX): text for name, text in files.items() if name.startswith(FORMS_PREFIX)}
    return ProcessSpecs(spec, subprocess_specs, forms, _has_timers([spec, *subprocess_specs.values()]))


class SpecCache:
    """A bounded LRU of `ProcessSpecs` by version content hash; safe to share between threads (specs are read-only)."""

    def __init__(self, capacity: int = 256) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[str, ProcessSpecs] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, content_hash: str, load) -> ProcessSpecs:
        """Specs of the version with `content_hash`, calling `load()` → (files, process_id) on a miss.

        Keyed by content hash, not row id: equal content parses to equal specs in any database.
        """
        with self._lock:
            if content_hash in self._entries:
                self._entries.move_to_end(content_hash)
                return self._entries[content_hash]
        files, process_id = load()
        specs = build_specs(files, process_id)
        with self._lock:
            self._entries[content_hash] = specs
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)
        return specs


spec_cache = SpecCache()
