"""Internal reconciliation (layer 0): transactions against the entries their rules demand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from recon.core.accounting import Event
from recon.core.check import LAYER0_COLUMNS, check_day, write_layer0
from recon.core.ledger import reverse
from recon.core.orders import PaymentRequest
from recon.core.uow import unit_of_work

DAY = dt.date(2024, 3, 1)
AT = dt.datetime(2024, 3, 1, 9, tzinfo=dt.timezone.utc)


def test_a_consistent_day_has_no_differences(core, rules):
    p = core.create_payment(PaymentRequest("m1", "o1", "wechat", "CNY", Decimal("10"), AT))
    core.start_payment(p.txn_id)
    core.apply_result(p.txn_id, "SUCCESS", rules, fee=Decimal("0.06"))
    result = check_day(core.engine, DAY, "UTC", core.accounting)
    assert result.transactions == 1 and result.ok


def test_missing_mismatched_and_orphan_entries_are_reported(core, rules, tmp_path):
    paid = core.create_payment(PaymentRequest("m1", "o1", "wechat", "CNY", Decimal("10"), AT))
    core.start_payment(paid.txn_id)
    core.apply_result(paid.txn_id, "SUCCESS", rules, fee=Decimal("0.06"))
    failed = core.create_payment(PaymentRequest("m1", "o2", "wechat", "CNY", Decimal("4"), AT))
    core.start_payment(failed.txn_id)
    core.apply_result(failed.txn_id, "PAYERROR", rules)
    with unit_of_work(core.engine) as uow:  # a correction that was never re-posted: PAY now nets to 0
        reverse(uow.conn, f"PAY:{paid.txn_id}", now=uow.now)
    core.post_event(Event("FEE", "wechat", "m1", "CNY", Decimal(0), Decimal("0.07")),
                    key=f"FEE:{paid.txn_id}:extra", txn_id=paid.txn_id)
    core.post_event(Event("PAY", "wechat", "m1", "CNY", Decimal("4")), key=f"PAY:{failed.txn_id}", txn_id=failed.txn_id)
    result = check_day(core.engine, DAY, "UTC", core.accounting)
    got = {(d.kind, d.key): (d.our_amount, d.their_amount, d.diff) for d in result.differences}
    assert got == {
        ("LEDGER_MISSING", f"{paid.txn_id}:PAY"): (Decimal("10"), Decimal("0"), Decimal("-10")),
        ("LEDGER_AMOUNT_MISMATCH", f"{paid.txn_id}:FEE"): (Decimal("0.06"), Decimal("0.13"), Decimal("0.07")),
        ("LEDGER_ORPHAN", f"{failed.txn_id}:PAY"): (Decimal("0"), Decimal("4"), Decimal("4")),
    }
    path = write_layer0(result, tmp_path / "results" / DAY.isoformat())
    frame = pl.read_parquet(path)
    assert frame.schema == LAYER0_COLUMNS and frame.height == 3
