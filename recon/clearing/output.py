"""The clearing files of a day, and reading earlier days' detail back for month-to-date volume.

`clearing/<D>/settlements.csv` is a contract (DESIGN.md) read by other programs (the report): its
header is exactly `merchant_id,currency,gross,refunds,fees,splits,held,net_payable`, with no comment
line, one row per merchant and currency, sorted. Each `clearing/<D>/merchant-<id>.csv` (the id
percent-encoded so any id is a safe file name) lists every transaction of that merchant with its
original business date, and opens with `#` lines stating the sign convention. Amounts are written
at their currency's minor unit (JPY 0 decimals, KWD 3). Every file is written atomically, and a
re-run replaces the day's files whole: a merchant file no longer produced is removed. Text fields
(ids, notes, rule names) that a spreadsheet would read as a formula get a leading `'`
(recon.formula, the OWASP rule the workbooks follow); amounts are numbers and are never touched.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote, unquote

from recon.clearing.compute import DayClearing, Line
from recon.clearing.holdback import State
from recon.errors import InvariantBroken
from recon.files import write_text
from recon.formula import csv_text
from recon.money import Rounding, parse_amount, quantize

SETTLEMENT_COLUMNS = ("merchant_id", "currency", "gross", "refunds", "fees", "splits", "held", "net_payable")
DETAIL_COLUMNS = ("txn_id", "channel", "record_type", "currency", "amount", "original_date", "state", "gross",
                  "fee", "fee_rule", "splits", "split_detail", "net_payable", "held", "note")
DETAIL_HEADER = """\
# Clearing detail of merchant {merchant} for {day}: one row per transaction (recon clear).
# Signs: amount/gross > 0 money to the merchant, < 0 refunds; fee > 0 charged, < 0 returned;
# splits = other parties' shares of (amount - fee); held > 0 held back today, < 0 released today.
# Every row: gross = net_payable + fee + splits + held. A RELEASED row's gross was counted on its
# original_date; a HELD row is booked nothing until it is released.
"""


def text(value: Decimal, currency: str) -> str:
    # Values are whole minor units already; DOWN only fixes the scale and can never change a digit.
    shown = quantize(value, currency, Rounding.DOWN)
    if shown != value:
        raise InvariantBroken(f"clearing produced {value} {currency}, finer than its minor unit")
    return format(shown, "f")


def detail_name(merchant_id: str) -> str:
    return f"merchant-{quote(merchant_id, safe='')}.csv"


def _detail_row(line: Line) -> list[str]:
    t, c = line.txn, line.txn.currency
    q = csv_text
    return [q(t.txn_id), q(t.channel), q(t.record_type), q(c), text(t.amount, c), t.original_date.isoformat(),
            q(t.state), text(line.gross, c), text(line.fee, c), q(line.fee_rule), text(line.splits, c),
            q(";".join(f"{p}={text(a, c)}" for p, a in line.shares)), text(line.net_payable, c),
            text(line.held, c), q(t.note)]


def write_day(directory: Path, clearing: DayClearing) -> list[Path]:
    """Write settlements.csv and one detail file per merchant; returns the paths written."""
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(SETTLEMENT_COLUMNS)
    for s in clearing.settlements:
        out.writerow([csv_text(s.merchant_id), csv_text(s.currency), *(text(v, s.currency) for v in (
            s.gross, s.refunds, s.fees, s.splits, s.held, s.net_payable))])
    written = [directory / "settlements.csv"]
    write_text(written[0], buf.getvalue())
    by_merchant: dict[str, list[Line]] = defaultdict(list)
    for line in clearing.lines:
        by_merchant[line.txn.merchant_id].append(line)
    for merchant, lines in sorted(by_merchant.items()):
        buf = io.StringIO(DETAIL_HEADER.format(merchant=merchant, day=clearing.date))
        buf.seek(0, io.SEEK_END)
        out = csv.writer(buf, lineterminator="\n")
        out.writerow(DETAIL_COLUMNS)
        out.writerows(_detail_row(line) for line in lines)
        path = directory / detail_name(merchant)
        write_text(path, buf.getvalue())
        written.append(path)
    for stale in directory.glob("merchant-*.csv"):
        if stale not in written:
            stale.unlink()
    return written


def month_volume(clearing_dir, day: dt.date) -> dict[tuple[str, str], Decimal]:
    """Cleared PAYMENT volume per (merchant, currency) from the 1st of `day`'s month to the day before,
    as the earlier days' detail files recorded it (a day not cleared yet counts nothing)."""
    volume: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for n in range(1, day.day):
        for path in sorted(clearing_dir(day.replace(day=n)).glob("merchant-*.csv")):
            lines = (ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.startswith("#"))
            for row in csv.DictReader(lines):
                if row["record_type"] == "PAYMENT" and row["state"] in (State.CLEARED, State.RELEASED):
                    key = (unquote(path.stem.removeprefix("merchant-")), row["currency"])
                    volume[key] += abs(parse_amount(row["amount"]))
    return dict(volume)
