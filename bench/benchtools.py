"""What every benchmark script shares: progress on stderr, figures on stdout (a table or JSON).

Not a benchmark itself (no `main`), so `onewindow bench` does not list it; the scripts import it
from their own folder, which both `python bench/X.py` and `onewindow bench` put on the path.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def rounded(value: Any) -> Any:
    """Floats to 4 decimals, all the way down: JSON figures without float noise."""
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v) for v in value]
    return value


def emit(result: dict[str, Any], render: Callable[[dict[str, Any]], str], as_json: bool) -> None:
    print(json.dumps(rounded(result), ensure_ascii=False, indent=2) if as_json else render(result))
