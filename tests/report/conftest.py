"""Report tests share the results-file helpers of the queue tests (tests/queue/layers.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_path = Path(__file__).resolve().parent.parent / "queue" / "layers.py"
if "layers" not in sys.modules:  # the same module object when both test folders run together
    _spec = importlib.util.spec_from_file_location("layers", _path)
    _module = importlib.util.module_from_spec(_spec)
    sys.modules["layers"] = _module
    _spec.loader.exec_module(_module)
