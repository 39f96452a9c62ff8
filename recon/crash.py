"""Named crash points for crash-consistency tests (FAULTS.md R-CRASH).

When `RECON_CRASHPOINT=<name>` is set, reaching the point named `<name>` kills the process with
SIGKILL: no cleanup, no finally blocks, exactly like a power cut or an OOM kill. Tests run the real
CLI as a subprocess with a crash point, re-run it without, and compare the outputs with an
uninterrupted run. Unset (always, in production) the check is one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

ENV = "RECON_CRASHPOINT"


def crashpoint(name: str) -> None:
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
