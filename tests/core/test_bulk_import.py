"""The bulk import's set-based checks, on both backends: refunds never pass what was paid (within a
batch, across batches, across runs), duplicates within a batch and against stored rows, idempotent
re-import, all-or-nothing batches; and the frame-wide fingerprints and journal entries equal the
one-at-a-time functions they replace."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from recon.core import importer
from recon.core.accounting import Event, postings_for
from recon.core.check import check_day
from recon.core.idempotency import PAYLOAD_FIELDS, fingerprint
from recon.core.import_checks import fingerprints
from recon.core.importer import import_file
from recon.core.journal_frames import journal_frames
from recon.core.ledger import trial_balance
from recon.schema import MONEY, UTC_TIME
from recon.store.tables.core import entries, postings, transitions, txns
from tests.builtin_rules import builtin_accounting

HEADER = ("txn_id,merchant_id,merchant_order_no,channel,merchant_txn_id,channel_txn_id,record_type,"
          "merchant_refund_id,original_txn_id,trade_time,currency,amount,fee,status\n")
PAY = "P1,m1,o1,wechat,S1,W1,PAYMENT,,,2024-03-01T10:00:00+08:00,CNY,100.00,0.60,SUCCESS"


def refund(n: int, amount: str, status: str = "SUCCESS", payment: str = "P1") -> str:
    return f"R{n},m1,o1,wechat,S1,W1,REFUND,RF{n},{payment},2024-03-01T1{n}:00:00+08:00,CNY,-{amount},0,{status}"


def _csv(tmp_path: Path, rows: list[str], name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _counts(engine) -> tuple[int, ...]:
    with engine.connect() as conn:
        return tuple(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                     for t in (txns, transitions, entries, postings))


@pytest.mark.parametrize("batch", [1, 2, 50_000])
def test_refunds_past_the_payment_are_refused_in_file_order_within_and_across_batches(core, tmp_path, batch):
    # 60 fits, 50 would pass the 40 left, 30 still fits after it, 20 would pass the 10 left;
    # a failed refund reserves nothing, so its 500 is no problem
    path = _csv(tmp_path, [PAY, refund(1, "60.00"), refund(2, "50.00"), refund(3, "30.00"), refund(4, "20.00"),
                           refund(5, "500.00", "FAILED")])
    result = importer.import_file(core, path, batch=batch)
    assert [str(p) for p in result.problems] == [
        f"{path}:4: refund R2: 50.000000 exceeds the 40.000000 still refundable on P1",
        f"{path}:6: refund R4: 20.000000 exceeds the 10.000000 still refundable on P1",
    ]
    assert result.inserted == 4 and core.get("P1").refunded == Decimal("90")
    assert core.get("R5").state == "FAILED"


def test_refunds_already_stored_count_against_the_payment(core, engine, tmp_path):
    import_file(core, _csv(tmp_path, [PAY, refund(1, "70.00")]))
    later = _csv(tmp_path, [refund(2, "30.00"), refund(3, "0.01")], "later.csv")
    result = import_file(core, later)
    assert [str(p) for p in result.problems] == [
        f"{later}:3: refund R3: 0.010000 exceeds the 0.000000 still refundable on P1"]
    assert core.get("P1").refunded == Decimal("100") and trial_balance(engine).balanced


def test_a_refund_of_a_payment_that_is_not_paid_or_missing_is_refused(core, tmp_path):
    failed = PAY.replace("SUCCESS", "FAILED")
    path = _csv(tmp_path, [failed, refund(1, "1.00"), refund(2, "1.00", payment="P9")])
    result = import_file(core, path)
    assert [str(p) for p in result.problems] == [
        f"{path}:3: refund R1: payment P1 is FAILED; only a PAID payment can be refunded",
        f"{path}:4: refund R2: payment P9 is missing; only a PAID payment can be refunded",
    ]
    assert result.inserted == 1


def test_duplicates_within_one_batch_equal_pass_different_conflict(core, engine, tmp_path):
    same, changed = PAY, PAY.replace("100.00", "100.01")
    other_txn_same_order = PAY.replace("P1,", "P2,").replace("S1,", "S2,")
    path = _csv(tmp_path, [PAY, same, changed, other_txn_same_order])
    result = import_file(core, path)
    assert (result.inserted, result.duplicates) == (1, 1)
    assert sorted(str(p) for p in result.problems) == [
        f"{path}:4: payment P1 has different values than when first imported",
        f"{path}:5: payment P2 uses a merchant order, serial or refund id already held by another transaction",
    ]
    assert core.get("P1").amount == Decimal("100") and _counts(engine) == (1, 1, 2, 2)


def test_a_refund_listed_twice_reserves_once(core, tmp_path):
    result = import_file(core, _csv(tmp_path, [PAY, refund(1, "60.00"), refund(1, "60.00")]))
    assert (result.inserted, result.duplicates, result.problems) == (2, 1, ())
    assert core.get("P1").refunded == Decimal("60")


def test_reimport_books_nothing_twice_and_conflicts_against_stored_rows_name_the_line(core, engine, tmp_path):
    rows = [PAY, PAY.replace("P1,", "P2,").replace("o1", "o2").replace("S1", "S2"), refund(1, "10.00")]
    path = _csv(tmp_path, rows)
    first = import_file(core, path)
    counts = _counts(engine)
    assert first.inserted == 3 and counts == (3, 3, 5, 5)  # PAY+FEE twice, one REFUND
    again = import_file(core, path, batch=1)
    assert (again.inserted, again.duplicates, again.problems) == (0, 3, ())
    assert _counts(engine) == counts and core.get("P1").refunded == Decimal("10")
    changed = _csv(tmp_path, [rows[0], refund(1, "11.00")], "changed.csv")
    result = import_file(core, changed)
    assert [str(p) for p in result.problems] == [f"{changed}:3: refund R1 has different values than when first imported"]
    assert _counts(engine) == counts and core.get("P1").refunded == Decimal("10")


def test_a_batch_that_fails_leaves_nothing_half_booked_and_a_rerun_completes(core, engine, tmp_path, monkeypatch):
    rows = [f"P{i},m1,o{i},wechat,S{i},W{i},PAYMENT,,,2024-03-01T10:00:0{i}+08:00,CNY,{i}.00,0.01,SUCCESS"
            for i in range(1, 5)]
    path = _csv(tmp_path, rows)
    real, calls = importer.journal_frames, []

    def crash_on_second_batch(*args):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("power cut")
        return real(*args)

    monkeypatch.setattr(importer, "journal_frames", crash_on_second_batch)
    with pytest.raises(RuntimeError):
        import_file(core, path, batch=2)
    assert _counts(engine) == (2, 2, 4, 4)  # the first batch whole, nothing of the second
    monkeypatch.setattr(importer, "journal_frames", real)
    result = import_file(core, path, batch=2)
    assert (result.inserted, result.duplicates, result.problems) == (2, 2, ())
    assert check_day(engine, dt.date(2024, 3, 1), "Asia/Shanghai", core.accounting).ok


money = st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=6, allow_nan=False)
text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=8)


@given(st.lists(st.tuples(st.sampled_from(["PAYMENT", "REFUND"]), text, text, text, st.sampled_from(["CNY", "JPY"]),
                          money, money, st.none() | text), min_size=1, max_size=20))
def test_frame_fingerprints_equal_the_one_row_fingerprint(rows):
    frame = pl.DataFrame(rows, schema={"record_type": pl.String, "merchant_id": pl.String, "request_no": pl.String,
                                       "channel": pl.String, "currency": pl.String, "amount": MONEY, "fee": MONEY,
                                       "original_txn_id": pl.String}, orient="row")
    assert fingerprints(frame) == [fingerprint(dict(zip(PAYLOAD_FIELDS, r))) for r in frame.iter_rows()]


@given(st.lists(st.tuples(st.sampled_from(["PAYMENT", "REFUND"]), st.sampled_from(["m1", "m2"]),
                          st.sampled_from(["wechat", "alipay"]), money, money), min_size=1, max_size=20))
def test_frame_journal_entries_equal_postings_for_each_transaction(rows):
    rules = builtin_accounting()
    when = dt.datetime(2024, 3, 1, 23, 30, tzinfo=dt.timezone.utc)
    booked = pl.DataFrame([(f"T{i}", kind, merchant, channel, "CNY", amount, fee, when)
                           for i, (kind, merchant, channel, amount, fee) in enumerate(rows)],
                          schema={"txn_id": pl.String, "record_type": pl.String, "merchant_id": pl.String,
                                  "channel": pl.String, "currency": pl.String, "amount": MONEY, "fee": MONEY,
                                  "trade_time": UTC_TIME}, orient="row")
    entry_rows, posting_rows = journal_frames(rules, booked, when)
    expected, keys = set(), set()
    for i, (kind, merchant, channel, amount, fee) in enumerate(rows):
        for event in rules.demanded(kind):
            legs = postings_for(rules, Event(event, channel, merchant, "CNY", abs(amount), fee))
            keys |= {f"{event}:T{i}"} if legs else set()
            expected |= {(f"{event}:T{i}", seq, p.debit, p.credit, p.currency, p.amount)
                         for seq, p in enumerate(legs, start=1)}
    assert set(posting_rows.iter_rows()) == expected if expected else posting_rows.is_empty()
    assert set(entry_rows["entry_key"]) == keys
    assert set(entry_rows["business_date"]) <= {dt.date(2024, 3, 1)}


def test_an_entry_key_posted_by_hand_before_the_import_is_left_as_it_was(core, engine, tmp_path):
    core.post_event(Event("PAY", "wechat", "m1", "CNY", Decimal("1.00")), key="PAY:P1")
    result = import_file(core, _csv(tmp_path, [PAY]))
    assert (result.inserted, result.problems) == (1, ())
    with engine.connect() as conn:
        amounts = dict(conn.execute(sa.select(postings.c.entry_key, postings.c.amount)).all())
    assert amounts == {"PAY:P1": Decimal("1"), "FEE:P1": Decimal("0.6")}


def test_a_batch_mixing_stored_and_new_rows_writes_the_new_ones_in_file_order(core, engine, tmp_path):
    # on PostgreSQL the batch's COPY meets a stored key and is undone; the merge then writes row by row
    def pay(i: int) -> str:
        return PAY.replace("P1,", f"P{i},").replace("o1", f"o{i}").replace("S1", f"S{i}").replace("10:00", f"10:0{i}")

    import_file(core, _csv(tmp_path, [pay(2), pay(4)]))
    mixed = _csv(tmp_path, [pay(i) for i in range(1, 7)], "mixed.csv")
    result = import_file(core, mixed)
    assert (result.inserted, result.duplicates, result.problems) == (4, 2, ())
    with engine.connect() as conn:
        written = conn.execute(sa.select(txns.c.txn_id).order_by(txns.c.id)).scalars().all()
        steps = conn.execute(sa.select(transitions.c.txn_id, transitions.c.event).order_by(transitions.c.id)).all()
    assert written == ["P2", "P4", "P1", "P3", "P5", "P6"]
    assert steps == [(t, "IMPORT_PAID") for t in written]
    assert _counts(engine) == (6, 6, 12, 12)
