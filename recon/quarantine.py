"""Quarantine: where a rejected statement goes, with the reason beside it.

The raw bytes are kept exactly (content-addressed by sha256, so quarantining the same file twice
changes nothing) with `reason.json` (machine-readable: code, file, line, message, channel, date)
and `reason.txt` (the one line a person reads). Nothing from a quarantined file is used downstream.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

from recon.errors import Problem
from recon.files import atomic_path, sha256_file, write_text


def quarantine(root: Path, source: Path, problem: Problem, *, channel: str | None = None,
               date: dt.date | None = None, problems: tuple[Problem, ...] = (), count: int | None = None) -> Path:
    """Copy `source` into `root/<sha256>/` with its reason; returns that folder.

    `problems` (every failing line, capped by the caller) and `count` (how many in all) go into both
    reason files: `reason.txt` starts with the headline line, then one line per problem."""
    digest = sha256_file(source)
    folder = root / digest
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.name
    if not target.exists():
        with atomic_path(target) as tmp:
            shutil.copyfile(source, tmp)
    listed = problems or (problem,)
    total = max(count or 0, len(listed))
    reason = {**problem.as_dict(), "sha256": digest, "channel": channel,
              "date": date.isoformat() if date else None, "original_path": str(source),
              "problem_count": total, "problems": [p.as_dict() for p in listed]}
    write_text(folder / "reason.json", json.dumps(reason, ensure_ascii=False, indent=2) + "\n")
    lines = [str(problem)]
    if total > 1:
        lines += [f"  {p}" for p in listed]
        if total > len(listed):
            lines.append(f"  ... and {total - len(listed)} more ({total} problems in all)")
    write_text(folder / "reason.txt", "\n".join(lines) + "\n")
    return folder


def list_quarantined(root: Path) -> list[dict]:
    if not root.exists():
        return []
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(root.glob("*/reason.json"))]
