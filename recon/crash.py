"""Named crash points for crash-consistency tests (FAULTS.md R-CRASH).

When `RECON_CRASHPOINT=<name>` is set, reaching the point named `<name>` kills the process with
SIGKILL: no cleanup, no finally blocks, exactly like a power cut or an OOM kill. Tests run the real
CLI as a subprocess with a crash point, re-run it without, and compare the outputs with an
uninterrupted run. Unset (always, in production) the check is one dictionary lookup.

`RECON_PAUSEPOINT=<name>` with `RECON_PAUSEFILE=<path>` pauses there instead: the process creates
the file and waits until the test removes it, so a test can act at that exact point (take a lease
over) without guessing at timings.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

ENV = "RECON_CRASHPOINT"
PAUSE_ENV, PAUSE_FILE_ENV = "RECON_PAUSEPOINT", "RECON_PAUSEFILE"


def crashpoint(name: str) -> None:
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get(PAUSE_ENV) == name:
        marker = Path(os.environ[PAUSE_FILE_ENV])
        marker.write_text(str(os.getpid()))
        while marker.exists():
            time.sleep(0.05)
