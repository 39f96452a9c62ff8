"""Proof of equality for the bank parsers (#24): a reference checkout's MT940/MT942/camt.05x parsers
and this tree's, run on the same inputs, must give the same bills, balances, checks, warnings and
refusals, byte for byte.

Inputs: every file under the shared samples' `camt05x/` and `mt940/` folders and `sample_statements/bank/`,
each through every bank format (so a wrong-format refusal is compared too); mutants of each camt and
MT940 file (truncated at several offsets, a DOCTYPE or an entity, a comment, CDATA, a character
reference or an `&` inside a text, a changed amount, a start tag broken over two lines, CRLF line
ends); and, with `--extra DIR`, every file in DIR (the benchmark's inputs: `bench_bank_parsers.py --keep DIR`).
Each side runs in its own process with its tree first on `sys.path`; a result is the md5 of the bill
and balances written as Parquet plus the checks and warnings, or the refusal's every problem.

    .venv/bin/python benchmarks/bank_parser_parity.py --reference ../recon-main [--extra /tmp/bench]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent
FORMATS = ("mt940", "mt942", "camt.052", "camt.053", "camt.054")


def _mutants(path: Path, out: Path) -> list[Path]:
    """Damaged and re-dressed copies of one statement, each a case of its own."""
    data = path.read_bytes()
    made: dict[str, bytes] = {}
    for frac in (0.1, 0.37, 0.5, 0.81, 0.97):
        made[f"cut{int(frac * 100)}"] = data[: int(len(data) * frac)]
    made["crlf"] = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if b"<Ntry>" in data or b"<Bal>" in data or b"?>" in data:
        made["doctype"] = data.replace(b"?>", b'?>\n<!DOCTYPE Document [<!ENTITY x "boom">]>', 1)
        made["entity"] = data.replace(b"<Ntry>", b"<Ntry><!-- c -->", 1).replace(b"</Amt>", b"&x;</Amt>", 1)
        made["comment"] = data.replace(b"</Ntry>", b"<!-- note --></Ntry>").replace(b"<Amt ", b"<!--a--><Amt ")
        made["cdata"] = data.replace(b"<Nm>", b"<Nm><![CDATA[A & B <c>]]>")
        made["charref"] = data.replace(b"<Ustrd>", b"<Ustrd>&#x41;&amp;&lt; \t").replace(b"<Nm>", b"<Nm>  x&gt;\n ")
        made["amount"] = data.replace(b"</Amt>", b"1</Amt>", 1)
        made["badamount"] = data.replace(b"</Amt>", b"x</Amt>", 3)
        made["splittag"] = data.replace(b"<Ntry>", b"<Ntry\n>", 1)
        made["blankref"] = data.replace(b"<AcctSvcrRef>", b"<AcctSvcrRef> NOTPROVIDED", 2).replace(
            b"<EndToEndId>", b"<EndToEndId> ", 3
        )
        made["nobook"] = data.replace(b"<BookgDt>", b"<BookgDtX>").replace(b"</BookgDt>", b"</BookgDtX>")
        made["pdng"] = data.replace(b"<Cd>BOOK</Cd>", b"<Cd>PDNG</Cd>", 2)
    if b":61:" in data:
        made["amount61"] = data.replace(b",", b"1,", 1)
        made["dropline"] = b"\n".join(ln for i, ln in enumerate(data.split(b"\n")) if i != 7)
        made["latin1"] = data.replace(b"/NAME/", "/NAME/Müller ".encode("latin-1"))
    paths = []
    for label, body in made.items():
        p = out / f"{path.name}.{label}"
        p.write_bytes(body)
        paths.append(p)
    return paths


def inputs(extra: Path | None, scratch: Path) -> list[Path]:
    shared = REPO.parent / "shared" / "samples"
    files = sorted(
        p for folder in ("camt052", "camt053", "camt054", "mt940") for p in (shared / folder).rglob("*") if p.is_file()
    )
    files += sorted((REPO / "sample_statements" / "bank").glob("*"))
    mutants = [m for f in files if f.suffix != ".json" for m in _mutants(f, scratch)]
    return files + mutants + (sorted(p for p in extra.iterdir() if p.is_file()) if extra else [])


# The one known difference: libxml2 numbers an element by the line its start tag ends on, expat by the
# line it begins on, so a start tag broken over lines (`<Ntry\n>`) moves its rows' source_line.
_LINES_MOVE = ".splittag"


def _digest(frame, path: str) -> str:
    if path.endswith(_LINES_MOVE):
        frame = frame.drop("source_line")
    buf = io.BytesIO()
    frame.write_parquet(buf)
    return hashlib.md5(buf.getvalue()).hexdigest() + f" rows={frame.height} schema={frame.schema}"


def run_side(tree: Path, paths: list[str], formats: list[str]) -> list[dict]:
    sys.path.insert(0, str(tree))
    from parsers.base import ParseContext
    from parsers.registry import get_parser
    from recon.errors import ReconError
    from rules.loader import load_rules

    assert Path(sys.modules["parsers.base"].__file__).is_relative_to(tree), "wrong tree imported"
    ctx = ParseContext(channel="bank", rules=load_rules("bank"), zone=ZoneInfo("Asia/Shanghai"))
    results = []
    for path in paths:
        for fmt in formats:
            try:
                parsed = get_parser(fmt).parse(Path(path), ctx)
                got = {
                    "bill": _digest(parsed.bill, path),
                    "balances": _digest(parsed.balances, path),
                    "checks": list(parsed.checks),
                    "warnings": [w.message if path.endswith(_LINES_MOVE) else repr(w) for w in parsed.warnings],
                }
            except ReconError as exc:
                problems = getattr(exc, "problems", ())
                if path.endswith(_LINES_MOVE):
                    problems = [p.message for p in problems]
                got = {
                    "refused": [repr(p) for p in problems],
                    "count": getattr(exc, "problem_count", None),
                    "text": str(exc) if not path.endswith(_LINES_MOVE) else "",
                    "type": type(exc).__name__,
                }
            except Exception as exc:  # a crash is a result too: both sides must crash alike
                got = {"crash": f"{type(exc).__name__}: {exc}"}
            results.append({"path": path, "format": fmt, **got})
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description="bank parser parity: reference tree vs this tree")
    ap.add_argument("--reference", type=Path, help="a checkout of the code to compare with (e.g. origin/main)")
    ap.add_argument("--extra", type=Path, help="a folder of more inputs (the benchmark's)")
    ap.add_argument("--side", help=argparse.SUPPRESS)
    ap.add_argument("--list", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.side:
        paths = json.loads(args.list.read_text())
        print(json.dumps(run_side(Path(args.side), paths, list(FORMATS))))
        return
    with tempfile.TemporaryDirectory(prefix="recon-parity-") as tmp:
        scratch = Path(tmp)
        listing = scratch / "inputs.json"
        paths = [str(p) for p in inputs(args.extra, scratch)]
        listing.write_text(json.dumps(paths))
        sides = []
        for tree in (args.reference.resolve(), REPO):
            done = subprocess.run(
                [sys.executable, __file__, "--side", str(tree), "--list", str(listing)],
                cwd=tree,
                check=True,
                capture_output=True,
                text=True,
            )
            sides.append(json.loads(done.stdout))
    old, new = sides
    differ = [(a, b) for a, b in zip(old, new) if a != b]
    refused = sum("refused" in r for r in new)
    print(
        f"{len(paths)} inputs x {len(FORMATS)} formats = {len(new)} parses: {len(new) - refused} parsed, "
        f"{refused} refused; {len(differ)} differ"
    )
    for a, b in differ:
        keys = sorted(k for k in {*a, *b} if a.get(k) != b.get(k))
        print(a["path"], a["format"], "differ in", keys)
        for k in keys:
            print(f"  old {k}: {str(a.get(k))[:400]}\n  new {k}: {str(b.get(k))[:400]}")
    sys.exit(1 if differ or len(old) != len(new) else 0)


if __name__ == "__main__":
    main()
