"""Golden files: what each format and bank dialect turns into, in a form a person can review.

One file per (sample, format) under `golden/`: the checks the parser made, the balances, then one
line per bill row with the fields matching depends on. A change in parsing shows up as a readable
diff. Golden files are never rewritten silently: run with RECON_REGEN_GOLDEN=1 to rewrite them,
then read the diff before committing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.parsers_bank.conftest import parse

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
GOLDEN = HERE / "golden"

# (where: "shared" = ../shared/samples, "repo" = this repository; path; format; what it pins)
CASES = [
    ("repo", "sample_statements/bank/abn_eur_2025-12-29_2026-01-04.mt940", "mt940", "SWIFT envelope, Dutch :86:, RC, year end"),
    ("repo", "sample_statements/bank/abn_eur_2025-12-29_2026-01-04.camt053.xml", "camt.053", "same week as camt.053 v08"),
    ("shared", "mt940/fruitl00p-php-mt940__Abn__issue48.sta", "mt940", "ABN 3-line header, Dutch /TRTP/ :86: (php-mt940#48 fixture)"),
    ("shared", "mt940/fruitl00p-php-mt940__Spk__sample.sta", "mt940", "Sparkasse: German ?20 SEPA fields"),
    ("shared", "mt940/fruitl00p-php-mt940__Triodos__sample.sta", "mt940", "Triodos"),
    ("shared", "mt940/WoLpH-mt940__mBank__mt940.sta", "mt940", "mbank dialect (SOH/ETX, cp1250)"),
    ("shared", "mt940/WoLpH-mt940__mBank__mt942.sta", "mt942", "MT942 interim report"),
    ("shared", "mt940/fruitl00p-php-mt940__Zetb__sample.sta", "mt940", "zenith-ng dialect (no :61: type)"),
    ("shared", "mt940/OCA-bank-statement-import__base_test-rabo.swi", "mt940", "rabobank-legacy dialect"),
    ("shared", "camt053/genkgo-camt__camt053.v8.xml", "camt.053", "camt.053 v8"),
    ("shared", "camt053/OCA-bank-statement-import__test-camt053-txdtls.xml", "camt.053", "batch entry split per TxDtls"),
    ("shared", "camt052/genkgo-camt__camt052.v6.xml", "camt.052", "camt.052 v6 intraday"),
    ("shared", "camt054/genkgo-camt__camt054.v8.xml", "camt.054", "camt.054 v8 notification"),
    ("shared", "bai2/ministryofjustice-bai2__nwb_example.bai2", "bai2", "88 continuation, 49/98/99"),
    ("shared", "bai2/moov-io-bai2__sample1.txt", "bai2", "funds type V, two accounts"),
    ("shared", "ofx/ofxtools__stmtrs_euro.ofx", "ofx", "decimal comma"),
    ("shared", "ofx/ofxtools__br_nubank_cc.ofx", "ofx", "credit card, [-3:GMT]"),
    ("shared", "ofx/ofxparse__bank_medium.ofx", "ofx", "SGML 1.x"),
]


def render(path: Path, fmt: str, note: str) -> str:
    parsed = parse(fmt, path)
    out = [f"# {path.name} as {fmt}: {note}", "# checks:"]
    out += [f"#   {c}" for c in parsed.checks]
    out += [f"# warning: {w}" for w in parsed.warnings]
    out.append("BALANCES  statement | type | date | amount | line")
    for b in parsed.balances.iter_rows(named=True):
        out.append(f"  {b['statement_id']} | {b['balance_type']} | {b['balance_date']} | {b['amount'].normalize():f} {b['currency']} | {b['source_line']}")
    out.append("ROWS  line | bill_date | trade_time | type | amount | fee | channel_txn_id | merchant_txn_id | status | counterparty | memo")
    for r in parsed.bill.iter_rows(named=True):
        out.append(" | ".join(str(x) for x in (
            f"  {r['source_line']}", r["bill_date"], r["trade_time"].strftime("%Y-%m-%dT%H:%M:%SZ"), r["record_type"],
            f"{r['amount'].normalize():f} {r['currency']}", f"{r['fee'].normalize():f}", r["channel_txn_id"],
            r["merchant_txn_id"] or "-", r["status"], r["counterparty"] or "-", (r["memo"] or "-")[:80])))
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("where, rel, fmt, note", CASES, ids=[c[1].split("/")[-1] for c in CASES])
def test_golden(shared_samples: Path, where: str, rel: str, fmt: str, note: str) -> None:
    path = (shared_samples if where == "shared" else REPO) / rel
    golden = GOLDEN / f"{path.name}.{fmt}.txt"
    text = render(path, fmt, note)
    if os.environ.get("RECON_REGEN_GOLDEN") == "1":
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
        pytest.skip(f"rewrote {golden.name}: review the diff")
    assert golden.exists(), f"no golden file {golden.name}; run with RECON_REGEN_GOLDEN=1 and review it"
    assert text == golden.read_text(encoding="utf-8")
