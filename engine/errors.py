"""Errors the engine raises on purpose.

Every one carries a message a clerk, analyst or operator can act on (what is wrong and how to fix
it), so the web layer and the command line can show it as it is instead of a traceback. The message
and the details are kept as the engine said them (`engine.messages.Said`, Chinese) and read through
`speak`, so a page in English shows them in English and the command line in Chinese.
"""

from __future__ import annotations

from typing import Any

from engine.messages import speak


class OnewindowError(Exception):
    """Base of all expected errors; `status` is the HTTP status the web layer maps it to."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.said = message
        self.said_details = details

    @property
    def message(self) -> str:
        """What went wrong, in the listener's language."""
        return speak(self.said)

    @property
    def details(self) -> dict[str, Any]:
        """The error's particulars (field errors, findings …), their sentences in the listener's language."""
        return speak(self.said_details)

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, **self.details}


class NotFound(OnewindowError):
    status = 404
    code = "not_found"


class PermissionDenied(OnewindowError):
    status = 403
    code = "forbidden"


class ConflictError(OnewindowError):
    """Someone else changed the case first; nothing of this attempt was written."""

    status = 409
    code = "conflict"


class StaleTaskError(ConflictError):
    """The task is no longer open (completed, cancelled, or the page was stale)."""

    code = "stale_task"


class FormValidationError(OnewindowError):
    """Form data failed its JSON Schema; `field_errors` maps a field path to its messages."""

    status = 422
    code = "invalid_form"

    def __init__(self, message: str, field_errors: dict[str, list[str]]) -> None:
        super().__init__(message, field_errors=field_errors)

    @property
    def field_errors(self) -> dict[str, list[str]]:
        return self.details["field_errors"]


class PackageError(OnewindowError):
    """A process package cannot be read or is unsafe (size, XML entities, missing files)."""

    code = "bad_package"


class LintFailed(OnewindowError):
    """Lint found errors; `findings` lists each with its element id and how to fix it."""

    status = 422
    code = "lint_failed"

    def __init__(self, message: str, findings: list[dict[str, Any]]) -> None:
        super().__init__(message, findings=findings)
        self.findings = findings


class ScriptError(OnewindowError):
    """A diagram's condition or script was refused by the restricted evaluator or failed in it."""

    status = 422
    code = "script_error"
