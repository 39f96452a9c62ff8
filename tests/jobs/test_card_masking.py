"""Card numbers masked in every copy of free text recon writes; identifiers never (issue 18, defect 3).

A real `recon run` (subprocess) over two days of the WeChat sample: on the first, a memo carries a
card number (the bill Parquet and the workbook must hold it masked, and the order numbers as they
are, Luhn-valid ones included); on the second, a rejected line quotes the card (stderr, the logs,
the store and the quarantine reason files must not). The statement files themselves (raw/, drop/,
the quarantined copy) are the channel's evidence and are kept byte for byte.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
from openpyxl import load_workbook

from recon.redact import luhn_ok, mask_pans
from tests.jobs.conftest import DAYS, make_workspace, recon

PAN = "4111 1111 1111 1111"
DIGITS = PAN.replace(" ", "")
LUHN_ORDER = "S2026112000008"  # a merchant order number whose digits pass the Luhn check


def _drop(ws: Path, day: str, edit) -> None:
    path = ws / "drop" / f"wechat_{day.replace('-', '')}.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    path.write_text("\n".join(edit(lines)), encoding="utf-8")


def _with_card_memo(lines: list[str]) -> list[str]:
    return [ln.replace("`商品", f"`paid by card {PAN}") if LUHN_ORDER in ln else ln for ln in lines]


def _with_broken_card_line(lines: list[str]) -> list[str]:
    broken = lines[1].replace("`商品", f"`card {PAN}")
    return [lines[0], ",".join(broken.split(",")[:-4]), *lines[2:]]  # too few fields: quoted whole


def _amount_off(line: str) -> str:
    """Our record of the order one unit off, so the order is a discrepancy in the workbook."""
    cells = line.split(",")
    cells[11] = f"{float(cells[11]) + 1:.2f}"  # test data only: a whole unit off, exact in binary too
    return ",".join(cells)


def _written_by_recon(ws: Path):
    for dirpath, _, files in os.walk(ws):
        rel = Path(dirpath).relative_to(ws)
        if rel.parts[:1] in (("raw",), ("drop",), ("internal",)):
            continue
        for name in files:
            if rel.parts[:1] == ("quarantine",) and not name.startswith("reason"):
                continue  # the quarantined statement itself: evidence, kept exactly
            yield Path(dirpath) / name


def test_order_ids_are_never_masked_and_free_text_always_is():
    assert luhn_ok(LUHN_ORDER[1:])
    assert mask_pans(f"order {LUHN_ORDER} paid by {PAN}") == f"order {LUHN_ORDER} paid by 411111******1111"
    assert mask_pans("ORD4111111111111111") == "ORD4111111111111111"


def test_card_numbers_masked_everywhere_ids_kept(tmp_path):
    ws = make_workspace(tmp_path / "ws", days=DAYS[:2])
    _drop(ws, DAYS[0], _with_card_memo)
    _drop(ws, DAYS[1], _with_broken_card_line)
    internal = ws / "internal" / f"wechat_{DAYS[0]}.csv"
    rows = internal.read_text(encoding="utf-8").split("\n")
    internal.write_text("\n".join(_amount_off(r) if f",{LUHN_ORDER}," in r else r for r in rows), encoding="utf-8")

    first = recon(ws, "run", "--date", DAYS[0], "--quiet")
    assert first.returncode == 0, first.stderr
    bill = pl.read_parquet(next((ws / "bills").rglob("*.parquet")) if (ws / "bills").exists()
                           else next(p for p in ws.rglob("*.parquet") if "wechat" in str(p) and "bill" in str(p)))
    row = bill.filter(pl.col("merchant_txn_id") == LUHN_ORDER).row(0, named=True)
    assert row["memo"] == "paid by card 411111******1111"
    cells = [str(c) for xlsx in ws.rglob("*.xlsx") for sheet in load_workbook(xlsx).worksheets
             for r in sheet.iter_rows(values_only=True) for c in r if c is not None]
    assert cells and LUHN_ORDER in cells and not any(DIGITS in c.replace(" ", "") for c in cells)

    second = recon(ws, "run", "--date", DAYS[1])
    said = (second.stdout + second.stderr).replace("\n", "")
    assert second.returncode == 4 and "does not have" in said and "411111******1111" in said
    assert DIGITS not in said.replace(" ", "")
    assert any((ws / "quarantine").rglob("reason.txt"))
    for path in _written_by_recon(ws):
        data = path.read_bytes()
        assert DIGITS.encode() not in data and PAN.encode() not in data, path
