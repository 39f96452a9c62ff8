"""Run logs in three files, after seeds/002 section 4: a digest, the detail, and the errors.

- `logs/digest.log`: one line per stage in a fixed format (time, stage, channel, date, result, exit
  code, duration, rows, peak memory in MiB), so ops can grep a day's story and see where it went;
- `logs/detail.log`: everything at INFO and above;
- `logs/error.log`: failures with their stack traces.
`--log-format json` writes one JSON object per line instead, for log shippers. Nothing here logs a
setting's value: secrets are only ever held in `recon.config.Secret`, whose repr is redacted. Card
numbers are masked in every line written (message and traceback alike: an exception may quote a
statement line), by the formatters below.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

from recon.redact import mask_pans

DIGEST = logging.getLogger("recon.digest")
DETAIL = logging.getLogger("recon")
DIGEST_FIELDS = ("stage", "channel", "date", "result", "code", "duration", "rows", "peak_mib")


class _TextDigest(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        d = getattr(record, "digest", {})
        stamp = dt.datetime.fromtimestamp(record.created, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return (f"{stamp}|{d.get('stage', '-'):<6}|{d.get('channel', '-'):<12}|{d.get('date', '-')}|"
                f"{d.get('result', '-'):<9}|{d.get('code', 0)}|{d.get('duration', 0.0):.3f}s|{d.get('rows', '-')}|"
                f"{d.get('peak_mib', '-')}MiB")


class _Json(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        body = {"time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(),
                "level": record.levelname, "logger": record.name, "message": mask_pans(record.getMessage())}
        body.update(getattr(record, "digest", {}))
        if record.exc_info:
            body["traceback"] = mask_pans(self.formatException(record.exc_info))
        return json.dumps(body, ensure_ascii=False, default=str)


class _Masked(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask_pans(super().format(record))


def configure(root: Path, fmt: str = "text") -> None:
    """Attach the three file handlers under `root/logs/` (idempotent within a process)."""
    for logger in (DIGEST, DETAIL):
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
            handler.close()
        # never Python's last-resort handler: it would print a second copy of a failure on stderr
        logger.addHandler(logging.NullHandler())
        logger.propagate = False
    folder = root / "logs"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("digest.log", "detail.log", "error.log"):
            open(folder / name, "a", encoding="utf-8").close()
    except OSError:  # a read-only workspace: `recon status` must still answer; the run refuses later
        return
    plain = _Masked("%(asctime)s %(levelname)s %(name)s: %(message)s")
    digest = logging.FileHandler(folder / "digest.log", encoding="utf-8")
    digest.setFormatter(_Json() if fmt == "json" else _TextDigest())
    DIGEST.addHandler(digest)
    DIGEST.setLevel(logging.INFO)
    DIGEST.propagate = False
    detail = logging.FileHandler(folder / "detail.log", encoding="utf-8")
    detail.setLevel(logging.INFO)
    errors = logging.FileHandler(folder / "error.log", encoding="utf-8")
    errors.setLevel(logging.ERROR)
    for handler in (detail, errors):
        handler.setFormatter(_Json() if fmt == "json" else plain)
        DETAIL.addHandler(handler)
    DETAIL.setLevel(logging.INFO)


def digest(stage: str, channel: str, date: dt.date, result: str, code: int, duration: float, rows: int | str = "-",
           *, peak_mib: int | str = "-") -> None:
    """One stage's line; `peak_mib` is its resident memory peak (jobs.meter)."""
    DIGEST.info("%s %s %s %s", stage, channel, date, result, extra={"digest": {
        "stage": stage, "channel": channel, "date": date.isoformat(), "result": result, "code": code,
        "duration": round(duration, 3), "rows": rows, "peak_mib": peak_mib}})
