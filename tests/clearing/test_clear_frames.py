"""The column-wise day (`compute.compute_frame`, by merchant batches; `output.DayFiles`) equals the per-row
definition it replaced.

The oracle below is the former row-by-row implementation, kept here and only here: one `Line` per
transaction with its fee from `compute.fees_per_row` and its shares from `splits.split_net` (the
per-row definitions), settlements and bookings summed line by line in Decimal, and every detail
row written by `csv.writer` with `csv_text` and `text` per cell. Generated days hold held, cleared
and released transactions in three currencies, refunds, zero amounts, missing trade times, split
rules with fixed and percentage shares, and text a CSV must quote or a spreadsheet would run; some
days are refused (an amount finer than its currency's unit, no fee rule, a code that is no
currency), and both must refuse them alike.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from collections import defaultdict
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recon.clearing.compute import (Booking, Line, Settlement, bookings, check_day, compute_frame, fees_per_row,
                                   merchant_batches)
from recon.clearing.fee_rules import ClearingRules
from recon.clearing.holdback import Presented, State, presented_frame, records
from recon.clearing.output import DETAIL_COLUMNS, DETAIL_HEADER, SETTLEMENT_COLUMNS, DayFiles, detail_name, text
from recon.clearing.splits import split_net
from recon.errors import StageFailed
from recon.formula import csv_text
from recon.money import MoneyError, Rounding, currency_code, from_minor, quantize

ZERO = Decimal(0)
DAY = dt.date(2026, 3, 14)
_runs = itertools.count()


# --- the oracle: the per-row implementation this module replaced --------------------------------
def _whole(p: Presented) -> Decimal:
    currency_code(p.currency)
    if p.amount != quantize(p.amount, p.currency, Rounding.DOWN):
        raise StageFailed(f"transaction {p.txn_id}: amount {p.amount} is finer than the minor unit of {p.currency}")
    return p.amount


def oracle_lines(presented: list[Presented], rules: ClearingRules, prior: dict) -> list[Line]:
    taken = sorted((p for p in presented if p.state != State.HELD),
                   key=lambda p: (p.trade_time is None, p.trade_time or dt.datetime.min.replace(tzinfo=dt.UTC),
                                  p.txn_id))
    for p in taken:
        rules.fee_rule(p.merchant_id, p.channel, p.currency, p.record_type)
        _whole(p)
    fees = fees_per_row(taken, rules, prior)
    lines = []
    for p in presented:
        if p.state == State.HELD:
            amount = _whole(p)
            lines.append(Line(p, amount, ZERO, "", (), ZERO, amount))
            continue
        name, fee = fees[p.txn_id]
        found = rules.split_rule(p.merchant_id, p.channel, p.currency, p.record_type)
        shares = None if found is None else split_net(found[1], p.amount - fee, p.currency)
        merchant, others = (p.amount - fee, ()) if shares is None else (shares[0][1], shares[1:])
        gross, held = (p.amount, ZERO) if p.state == State.CLEARED else (ZERO, -p.amount)
        lines.append(Line(p, gross, fee, name, others, merchant, held))
    for line in lines:
        assert line.gross == line.net_payable + line.fee + line.splits + line.held
    return lines


def oracle_settle(lines: list[Line]) -> tuple[Settlement, ...]:
    sums: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [ZERO] * 6)
    for line in lines:
        s = sums[(line.txn.merchant_id, line.txn.currency)]
        refund = line.gross if line.txn.record_type == "REFUND" else ZERO
        for i, v in enumerate((line.gross, refund, line.fee, line.splits, line.held, line.net_payable)):
            s[i] += v
    return tuple(Settlement(m, c, *v) for (m, c), v in sorted(sums.items()))


def oracle_bookings(lines: list[Line]) -> tuple[Booking, ...]:
    acc: dict[tuple[str, str, str], list] = {}
    for line in lines:
        if line.txn.state == State.HELD:
            continue
        key = (line.txn.merchant_id, line.txn.currency, line.txn.channel)
        a = acc.setdefault(key, [ZERO, ZERO, defaultdict(Decimal)])
        a[0] += line.net_payable
        a[1] += line.fee
        for party, amount in line.shares:
            a[2][party] += amount
    return tuple(Booking(m, c, ch, n, f, tuple(sorted(s.items()))) for (m, c, ch), (n, f, s) in sorted(acc.items()))


class _Rows:
    """csv rows ending in "\n" in which a cell holding a CR is quoted like one holding a LF (a bare
    CR in a cell would break the row for every reader)."""

    def __init__(self, buf):
        self.buf = buf

    def writerow(self, cells):
        row = io.StringIO()
        csv.writer(row, lineterminator="\r\n").writerow(cells)
        self.buf.write(row.getvalue()[:-2] + "\n")


def oracle_files(day: dt.date, lines: list[Line], settlements: tuple[Settlement, ...]) -> dict[str, str]:
    buf = io.StringIO()
    out = _Rows(buf)
    out.writerow(SETTLEMENT_COLUMNS)
    for s in settlements:
        out.writerow([csv_text(s.merchant_id), csv_text(s.currency), *(text(v, s.currency) for v in (
            s.gross, s.refunds, s.fees, s.splits, s.held, s.net_payable))])
    files = {"settlements.csv": buf.getvalue()}
    by_merchant: dict[str, list[Line]] = defaultdict(list)
    for line in lines:
        by_merchant[line.txn.merchant_id].append(line)
    q = csv_text
    for merchant, group in sorted(by_merchant.items()):
        buf = io.StringIO(DETAIL_HEADER.format(merchant=merchant, day=day))
        buf.seek(0, io.SEEK_END)
        out = _Rows(buf)
        out.writerow(DETAIL_COLUMNS)
        for line in group:
            t, c = line.txn, line.txn.currency
            out.writerow([q(t.txn_id), q(t.channel), q(t.record_type), q(c), text(t.amount, c),
                          t.original_date.isoformat(), q(t.state), text(line.gross, c), text(line.fee, c),
                          q(line.fee_rule), text(line.splits, c),
                          q(";".join(f"{p}={text(a, c)}" for p, a in line.shares)), text(line.net_payable, c),
                          text(line.held, c), q(t.note)])
        files[detail_name(merchant)] = buf.getvalue()
    return files


# --- generated days -----------------------------------------------------------------------------
HOSTILE = st.text(st.sampled_from(list("aZ09 ,\"'\r\n\t=+-@;#%/\uff1d\uff0b\u2028\x00")), max_size=5)
RULES = ClearingRules.model_validate({
    "fees": {
        "cny": {"currency": "CNY", "record_types": ["PAYMENT"], "kind": "tiered",
                "tiers": [{"from": "0", "percent": "1.3"}, {"from": "500.00", "percent": "0.7"}],
                "min": "0.05", "max": "3.00", "rounding": "half_even", "round_at": "total"},
        "=jpy, \"up\"": {"currency": "JPY", "record_types": ["PAYMENT"], "kind": "percent", "percent": "0.6",
                         "fixed": "1", "rounding": "up", "round_at": "transaction"},
        "kwd": {"currency": "KWD", "record_types": ["PAYMENT"], "kind": "fixed", "fixed": "0.125",
                "rounding": "down", "round_at": "transaction"},
        "refunds": {"record_types": ["REFUND"], "kind": "percent", "percent": "0.6", "direction": "return",
                    "rounding": "half_up", "round_at": "total"},
    },
    "splits": {
        "m1": {"record_types": ["PAYMENT", "REFUND"], "merchant": "M1", "rounding": "down", "remainder_to": "partner",
               "shares": [{"party": "=platform", "percent": "33.3"}, {"party": "partner", "percent": "12.5"}]},
        "m2": {"record_types": ["PAYMENT"], "merchant": "M,2", "currency": "CNY", "rounding": "half_even",
               "remainder_to": "merchant", "shares": [{"party": "agent", "fixed": "0.10"},
                                                      {"party": "a,\"b\"", "percent": "7.77"}]},
    },
})


@st.composite
def presented(draw, n: int) -> Presented:
    currency = draw(st.sampled_from(["CNY", "CNY", "JPY", "KWD"]))
    refund = draw(st.booleans())
    amount = from_minor(draw(st.integers(0, 10 ** 7)) * (-1 if refund else 1), currency)
    state = draw(st.sampled_from(list(State)))
    when = draw(st.one_of(st.none(), st.integers(0, 3).map(lambda h: dt.datetime(2026, 3, 14, h, tzinfo=dt.UTC))))
    return Presented(f"{draw(HOSTILE)}#{n}", draw(st.sampled_from(["M1", "M,2", "=M3", "M\"4\n"])),
                     draw(st.sampled_from(["wechat", "=ali,pay"])), "REFUND" if refund else "PAYMENT", currency,
                     amount, when, DAY if state != State.RELEASED else DAY - dt.timedelta(days=2), state,
                     draw(HOSTILE))


@st.composite
def days(draw) -> list[Presented]:
    lines = [draw(presented(n)) for n in range(draw(st.integers(0, 30)))]
    if lines and draw(st.integers(0, 9)) == 0:  # a day the definition refuses
        i = draw(st.integers(0, len(lines) - 1))
        p = lines[i]
        odd = draw(st.sampled_from([("amount", p.amount + Decimal("0.0001")), ("currency", "cny"),
                                    ("record_type", "FEE")]))
        lines[i] = Presented(**{f: getattr(p, f) for f in Presented.__slots__} | dict([odd]))
    # holdback's order (merchant, currency, original date, txn id), and its amounts as the results
    # file's MONEY column gives them (6 decimals), which the refusals quote
    return records(presented_frame(sorted(lines, key=lambda p: (p.merchant_id, p.currency, p.original_date,
                                                                 p.txn_id))))


def _oracle(presented: list[Presented]):
    try:
        lines = oracle_lines(presented, RULES, PRIOR)
    except (StageFailed, MoneyError) as exc:
        return "raises", type(exc), str(exc)
    settlements = oracle_settle(lines)
    return tuple(lines), settlements, oracle_bookings(lines), oracle_files(DAY, lines, settlements)


def _frames(presented: list[Presented], root, rows: int | None = None):
    """The whole day at once (`rows` None), or as `clear_day` does it: refusals checked on the whole
    day, then batches of whole merchants of about `rows` transactions, their files written together."""
    frame = presented_frame(presented)
    try:
        if rows is None:
            days = [compute_frame(DAY, frame, RULES, PRIOR)]
        else:
            check_day(frame, RULES)
            days = [compute_frame(DAY, batch, RULES, PRIOR) for batch in merchant_batches(frame, rows)]
    except (StageFailed, MoneyError) as exc:
        return "raises", type(exc), str(exc)
    with DayFiles(root, DAY) as files:
        for day in days:
            files.add(day)
    return (tuple(line for day in days for line in day.lines), tuple(files.settlements),
            tuple(b for day in days for b in bookings(day)),
            {p.name: p.read_bytes().decode("utf-8") for p in files.paths})


PRIOR = {("M1", "CNY"): Decimal("480.00")}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(day=days(), rows=st.sampled_from([None, 1, 3]))
def test_the_columnwise_day_equals_the_per_row_definition(tmp_path_factory, day, rows):
    root = tmp_path_factory.getbasetemp() / f"frames-{next(_runs)}"
    root.mkdir()
    assert _frames(day, root, rows) == _oracle(day)


def test_a_day_of_only_held_and_nothing_at_all(tmp_path):
    held = Presented("T1", "M1", "wechat", "PAYMENT", "CNY", Decimal("12.50"), None, DAY, State.HELD, "open: X")
    for day in ([held], []):
        root = tmp_path / str(len(day))
        root.mkdir()
        assert _frames(day, root) == _oracle(day)
