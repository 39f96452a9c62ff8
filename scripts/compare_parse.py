"""Prove a parser change equal: the same bills and the same refusals from two checkouts.

    .venv/bin/python scripts/compare_parse.py corpus DIR [--damaged 400]
    PYTHONPATH=OLD .venv/bin/python scripts/compare_parse.py collect DIR old.pickle
    PYTHONPATH=NEW .venv/bin/python scripts/compare_parse.py collect DIR new.pickle
    .venv/bin/python scripts/compare_parse.py diff old.pickle new.pickle

`corpus` gathers the statements to read into DIR: every file of ../shared/samples and
sample_statements/, and WeChat Pay trade bills damaged at random (seeded: cells, separators,
backticks, line ends, BOM, U+FFFD, summary edits), so refusals are compared as well as bills.
`collect` reads each file as the registry does (`parse_file`: the parser, the bill schema and the
rules every bill holds), once identified and once as a WeChat Pay trade bill, and keeps the bill,
its checks and warnings, or the refusal's every problem; `diff` names each file whose outcome differs.
"""

from __future__ import annotations

import pickle
import random
import shutil
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent
EDITS = ["", ",", "`", ",`", "\n", "\r", "\r\n", "\n\n", "\ufeff", "\ufffd", " ", "-", "e", "E", "0", ".", "+", "：",
         "3.9", "总交易单数", "0.001", "\x00", "9" * 20, "2026-02-30 10:00:00", "1e5", "é"]


def corpus(out: Path, damaged: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    roots = [REPO.parent / "shared" / "samples", REPO / "sample_statements"]
    for root in roots:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            rel = path.relative_to(root)
            target = out / root.name / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    bills = sorted((REPO / "sample_statements" / "wechat").glob("*.csv")) + sorted(
        p for p in (REPO.parent / "shared" / "samples" / "wechat").glob("*") if p.is_file())
    rng = random.Random(24)
    folder = out / "damaged"
    folder.mkdir(exist_ok=True)
    for n in range(damaged):
        # bytes as they are: a sample that is not UTF-8 stays so, and the parser must say so
        data = rng.choice(bills).read_bytes()
        if rng.random() < 0.3:
            data = data.replace(b"\n", b"\r\n")
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(data) + 1)
            data = data[:at] + rng.choice(EDITS).encode() + data[at + rng.randint(0, 3):]
        (folder / f"bill_{n:04d}_20261120.csv").write_bytes(data)


def _outcome(path: Path, name: str, fid: str | None) -> tuple:
    from jobs.catalog import format_rule_set
    from parsers.base import ParseContext
    from parsers.registry import identify, parse_file
    from recon.errors import StatementRejected

    try:
        fid = fid or identify(path)
        ctx = ParseContext(channel=fid.split(".")[0], rules=format_rule_set(fid, None), zone=ZoneInfo("Asia/Shanghai"),
                           account=None, bill_date=None, source_name=name)
        fid, parsed = parse_file(path, ctx, fid)
    except StatementRejected as exc:
        return ("rejected", str(exc), exc.problem_count,
                tuple((p.file, p.line, p.message, p.code) for p in exc.problems))
    except Exception as exc:  # noqa: BLE001 - an outcome to compare, whatever it is
        return ("error", type(exc).__name__, str(exc)[:500])
    balances = parsed.balances.rows() if parsed.balances is not None else None
    return ("parsed", fid, parsed.bill, balances, parsed.checks, tuple(map(str, parsed.warnings)))


def collect(folder: Path, out: Path) -> None:
    found = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = str(path.relative_to(folder))
        found[(name, "identified")] = _outcome(path, name, None)
        found[(name, "wechatpay.trade")] = _outcome(path, name, "wechatpay.trade")
    out.write_bytes(pickle.dumps(found))
    parsed = sum(1 for o in found.values() if o[0] == "parsed")
    import recon.schema
    print(f"{recon.schema.__file__}: {len(found)} reads of {len(found) // 2} files: {parsed} bills, {len(found) - parsed} refusals or errors")


def _same(a: tuple, b: tuple) -> bool:
    if a[0] != b[0] or len(a) != len(b):
        return False
    if a[0] != "parsed":
        return a == b
    return a[1] == b[1] and a[2].schema == b[2].schema and a[2].equals(b[2]) and a[3:] == b[3:]


def diff(old: Path, new: Path) -> None:
    before, after = pickle.loads(old.read_bytes()), pickle.loads(new.read_bytes())
    differ = [k for k in sorted(before.keys() | after.keys())
              if k not in before or k not in after or not _same(before[k], after[k])]
    for key in differ:
        print("DIFFERS", key, "\n  old:", str(before.get(key))[:400], "\n  new:", str(after.get(key))[:400])
    kinds = {}
    for o in after.values():
        kinds[o[0]] = kinds.get(o[0], 0) + 1
    print(f"{len(after)} reads compared ({kinds}); {len(differ)} differ")
    sys.exit(1 if differ else 0)


def main() -> None:
    sys.path.append(str(REPO))  # after PYTHONPATH: the checkout under test comes first
    command, *args = sys.argv[1:]
    if command == "corpus":
        corpus(Path(args[0]), int(args[2]) if len(args) > 2 and args[1] == "--damaged" else 400)
    elif command == "collect":
        collect(Path(args[0]), Path(args[1]))
    elif command == "diff":
        diff(Path(args[0]), Path(args[1]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
