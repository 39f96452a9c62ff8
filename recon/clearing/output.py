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

import contextlib
import datetime as dt
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote, unquote

import polars as pl

from recon.clearing.compute import DayClearing, Settlement
from recon.clearing.holdback import State
from recon.errors import InvariantBroken
from recon.files import atomic_path, write_text
from recon.formula import csv_frame, csv_line, csv_text
from recon.money import Rounding, quantize
from recon.schema import MONEY

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


def money_text(units: pl.Expr) -> pl.Expr:
    """`text` column-wise: whole minor units (Int128) at the row's exponent (`exp`, `pow10`)."""
    digits = units.abs()
    whole = (digits // pl.col("pow10")).cast(pl.String)
    return (pl.when(units < 0).then(pl.lit("-")).otherwise(pl.lit(""))
            + pl.when(pl.col("exp") == 0).then(whole)
            .otherwise(whole + "." + (digits % pl.col("pow10")).cast(pl.String).str.zfill(pl.col("exp"))))


# Text a CSV writer would quote (or could refuse): such rows are written by the csv module itself.
_NEEDS_CSV = r"[,\"\r\n\x00]"
_TEXT = ("txn_id", "channel", "record_type", "currency", "state", "fee_rule", "split_detail", "note")


def detail_lines(clearing: DayClearing) -> pl.DataFrame:
    """`merchant_id` and `line`: each transaction's row of its detail file (DETAIL_COLUMNS), in order."""
    frame = clearing.frame
    detail = (clearing.shares.sort("row", "pos")
              .group_by("row", maintain_order=True)
              .agg(split_detail=(pl.col("party") + "=" + money_text(pl.col("units"))).str.join(";")))
    frame = frame.join(detail, on="row", how="left", maintain_order="left").with_columns(
        pl.col("split_detail").fill_null(""))
    texts = csv_frame(frame.select(_TEXT))
    cells = frame.select(
        original_date=pl.col("original_date").cast(pl.String),
        **{name: money_text(pl.col(source)) for name, source in (
            ("amount", "units"), ("gross", "gross"), ("fee", "fee"), ("splits", "splits"),
            ("net_payable", "net_payable"), ("held", "held"))})
    cells = pl.concat([texts, cells], how="horizontal").select(
        pl.col(c).fill_null("") for c in DETAIL_COLUMNS)
    odd = pl.any_horizontal(pl.col(c).str.contains(_NEEDS_CSV) for c in _TEXT)
    lines = cells.select(merchant_id=frame["merchant_id"], odd=odd,
                         line=pl.concat_str(DETAIL_COLUMNS, separator=","))
    if lines["odd"].any():  # quoting exactly as csv.writer does it, for the few rows that need it
        index = lines.with_row_index("i").filter("odd")["i"]
        quoted = [csv_line(row) for row in cells[index].iter_rows()]
        lines = lines.with_columns(line=lines["line"].scatter(index, quoted))
    return lines.select("merchant_id", "line")


class DayFiles:
    """A day's files, written merchant batch by merchant batch (`add`) and put in place when the
    `with` block ends without an error, so the ledger can be posted between computing the day and
    replacing its files. Until then the old files stand and each new detail file waits beside its
    target (`atomic_path`), removed if the block fails; then settlements.csv is written and merchant
    files no longer produced are removed. `paths`: settlements.csv, then each merchant's file."""

    def __init__(self, directory: Path, day: dt.date) -> None:
        self.directory, self.day = directory, day
        self.settlements: list[Settlement] = []
        self.details: list[Path] = []
        self._staged = contextlib.ExitStack()

    @property
    def paths(self) -> list[Path]:
        return [self.directory / "settlements.csv", *self.details]

    def __enter__(self) -> DayFiles:
        self._staged.__enter__()
        return self

    def add(self, clearing: DayClearing) -> None:
        """Stage the detail files of the merchants of `clearing` (none of them added before)."""
        self.settlements += clearing.settlements
        files = (detail_lines(clearing).group_by("merchant_id", maintain_order=True)
                 .agg(pl.col("line").str.join("\n")).sort("merchant_id"))
        for merchant, body in files.iter_rows():
            path = self.directory / detail_name(merchant)
            text = DETAIL_HEADER.format(merchant=merchant, day=self.day) + ",".join(DETAIL_COLUMNS) + "\n" + body + "\n"
            self._staged.enter_context(atomic_path(path)).write_bytes(text.encode("utf-8"))
            self.details.append(path)

    def __exit__(self, kind, error, trace) -> None:
        self._staged.__exit__(kind, error, trace)  # every staged file replaced, or all removed on an error
        if kind is None:
            lines = [csv_line(SETTLEMENT_COLUMNS)] + [
                csv_line([csv_text(s.merchant_id), csv_text(s.currency), *(text(v, s.currency) for v in (
                    s.gross, s.refunds, s.fees, s.splits, s.held, s.net_payable))]) for s in self.settlements]
            write_text(self.paths[0], "".join(line + "\n" for line in lines))
            for stale in self.directory.glob("merchant-*.csv"):
                if stale not in self.details:
                    stale.unlink()


def _comment_lines(path: Path) -> int:
    """How many lines open a detail file before its header row (DETAIL_HEADER's `#` lines): a data
    row whose first cell starts with `#` is data, and a merchant id in the comment may hold anything."""
    header = ",".join(DETAIL_COLUMNS).encode()
    with open(path, "rb") as fh:
        return next((n for n, line in enumerate(fh) if line.rstrip(b"\r\n") == header), 0)


def month_volume(clearing_dir, day: dt.date) -> dict[tuple[str, str], Decimal]:
    """Cleared PAYMENT volume per (merchant, currency) from the 1st of `day`'s month to the day before,
    as the earlier days' detail files recorded it (a day not cleared yet counts nothing).

    Read column-wise (late in a month that is every earlier day's transactions) by a CSV reader that
    keeps a quoted cell whole, whatever line separators it holds."""
    parts = []
    for n in range(1, day.day):
        for path in sorted(clearing_dir(day.replace(day=n)).glob("merchant-*.csv")):
            rows = pl.read_csv(path, skip_lines=_comment_lines(path), infer_schema=False,
                               columns=["record_type", "currency", "amount", "state"])
            # summed per file at once: a month of a large merchant is never held row by row
            parts.append(rows.filter(pl.col("record_type") == "PAYMENT",
                                     pl.col("state").is_in([State.CLEARED.value, State.RELEASED.value]))
                         .group_by("currency").agg(pl.col("amount").cast(MONEY).abs().sum())
                         .select(pl.lit(unquote(path.stem.removeprefix("merchant-"))).alias("merchant"),
                                 "currency", "amount"))
    if not parts:
        return {}
    totals = pl.concat(parts).group_by("merchant", "currency").agg(pl.col("amount").sum())
    return {(m, c): v for m, c, v in totals.iter_rows()}
