"""The engine's sentences, said in Chinese and kept translatable (docs/architecture.md §11a).

The engine has no request and so no language: it says every refusal in Chinese, the district's
language, which the command line, the logs and the audit trail keep. A page in English needs the same
sentence in English, so what the engine says is a `Said`: the Chinese text itself (a `str`, usable
wherever a message was), carrying its message id — the Chinese template with `%(name)s` where a value
goes — and the values. The web layer installs a translator once (`translate_with`) and reads
messages through `speak`, which looks the template up in the listener's catalogue and puts the values
back, each value that is itself a `Said` (转办, 延期 …) translated the same way. Values that are data —
a case number, an item's name, what a clerk typed — stay as they are.

`said` is the keyword babel extracts from engine/ (`make translations`, `-k said`), so a message is
written `said("办件 %(case_no)s 不存在；请核对办件编号。", case_no=case_no)`, never as an f-string: an
f-string makes one sentence per value and none of them can be looked up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

Translator = Callable[[str, str | None], str]


class Said(str):
    """A sentence in Chinese that remembers how it was made, so it can be said again in another language."""

    template: str
    values: dict[str, Any]
    context: str | None

    def __new__(cls, template: str, values: dict[str, Any], context: str | None = None) -> Said:
        sentence = super().__new__(cls, template % values if values else template)
        sentence.template = template
        sentence.values = values
        sentence.context = context
        return sentence

    def __reduce__(self) -> tuple[Any, ...]:  # pickles (the scheduler's job store) keep the template too
        return (Said, (self.template, self.values, self.context))


def said(template: str, **values: Any) -> Said:
    """A message id with its values: `said("不能%(action)s给本人。", action=said_in("action", "转办"))`."""
    return Said(template, values)


def said_in(context: str, template: str, **values: Any) -> Said:
    """A message whose Chinese is the same as another's but whose English is not: the verb 转办 inside a sentence
    (context "action": "cannot transfer") and the button 转办 ("Transfer"). Extracted with its context
    (`-k said_in:1c,2`), so the context is a literal too."""
    return Said(template, values, context)


def to_say(template: str) -> str:
    """A template whose values come later (`Said(template, values)`), such as a table of the parser's messages:
    marked here so that babel extracts it (`-k to_say`), returned as it is."""
    return template


class Listed(str):
    """Sentences joined into one (the reasons a case cannot move, the problems of a notice), each said again
    in the listener's language and joined by the separator of that language."""

    items: tuple[Any, ...]
    separator: Said

    def __new__(cls, items: tuple[Any, ...], separator: Said) -> Listed:
        joined = super().__new__(cls, str(separator).join(str(item) for item in items))
        joined.items = items
        joined.separator = separator
        return joined

    def __reduce__(self) -> tuple[Any, ...]:
        return (Listed, (self.items, self.separator))


SEMICOLON = said("；")
COMMA = said("，")
ENUMERATION_COMMA = said("、")


def listed(items: Iterable[Any], separator: Said = SEMICOLON) -> Listed:
    """`items` joined by `separator` (；or 、), which `speak` translates item by item."""
    return Listed(tuple(items), separator)


def kept(message: Any) -> Any:
    """`message` as JSON that `unkept` turns back into the same `Said`: for a sentence stored now and read later
    by someone whose language is not known yet (a personal message, `notifications.said`). Data stays data."""
    if isinstance(message, Said):
        return {"said": message.template, "values": {name: kept(value) for name, value in message.values.items()},
                **({"context": message.context} if message.context else {})}
    if isinstance(message, Listed):
        return {"listed": [kept(item) for item in message.items], "separator": kept(message.separator)}
    if isinstance(message, dict):
        return {"data": message}
    if isinstance(message, list | tuple):
        return [kept(item) for item in message]
    return message


def unkept(record: Any) -> Any:
    """The sentence `kept` stored; a record it did not write (a plain text) comes back as it is."""
    if isinstance(record, dict):
        if "said" in record:
            return Said(str(record["said"]), {name: unkept(value) for name, value in record["values"].items()},
                        record.get("context"))
        if "listed" in record:
            return Listed(tuple(unkept(item) for item in record["listed"]), unkept(record["separator"]))
        return record.get("data", record)
    if isinstance(record, list):
        return [unkept(item) for item in record]
    return record


def unkept_or(record: Any, as_sent: str) -> Any:
    """`unkept(record)` when it says what was sent, else the text as it was sent: no record (a message from before
    records were kept), or a record `kept` did not write — edited by hand or damaged (a template whose values are
    gone or of the wrong kind) — is shown as the Chinese sentence it was sent as, never as a half-filled template
    or a page that fails for every message in it."""
    try:
        restored = unkept(record)
    except (KeyError, TypeError, ValueError, AttributeError):
        return as_sent
    return restored if isinstance(restored, str) and str(restored) == as_sent else as_sent


_translator: Translator | None = None


def translate_with(translator: Translator | None) -> None:
    """Install how a template (and its context, or None) becomes the listener's language (the web app's gettext and
    pgettext); None: Chinese only."""
    global _translator
    _translator = translator


def speak(message: Any) -> Any:
    """`message` in the listener's language: a `Said` translated with its values, lists and dicts item by
    item, anything else (data, numbers, a plain `str` nobody marked) as it is."""
    if isinstance(message, Said):
        if _translator is None:
            return str(message)
        template = _translator(message.template, message.context)
        if not message.values:
            return template
        return template % {name: speak(value) for name, value in message.values.items()}
    if isinstance(message, Listed):
        return speak(message.separator).join(str(speak(item)) for item in message.items)
    if isinstance(message, dict):
        return {key: speak(value) for key, value in message.items()}
    if isinstance(message, list | tuple):
        return [speak(item) for item in message]
    return message
