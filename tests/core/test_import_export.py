"""Bulk import is idempotent (also when run concurrently); export gives exactly the internal columns."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from recon.core.export import internal_frame
from recon.core.importer import import_file
from recon.core.ledger import balances, trial_balance
from recon.store.tables.core import entries, txns
from recon.internal import INTERNAL_COLUMNS, read_file

HEADER = ("txn_id,merchant_id,merchant_order_no,channel,merchant_txn_id,channel_txn_id,record_type,"
          "merchant_refund_id,original_txn_id,trade_time,currency,amount,fee,status\n")
ROWS = [
    "P1,m1,o1,wechat,S1,W1,PAYMENT,,,2024-03-01T10:00:00+08:00,CNY,100.00,0.60,SUCCESS",
    "P2,m1,o2,wechat,S2,W2,PAYMENT,,,2024-03-01T23:59:59+08:00,CNY,0.01,0,FAILED",
    "P3,m2,o3,wechat,S3,,PAYMENT,,,2024-03-02T00:00:00+08:00,CNY,5.00,0,UNKNOWN",
    "R1,m1,o1,wechat,S1,W1,REFUND,RF1,P1,2024-03-01T12:00:00+08:00,CNY,-30.00,0,SUCCESS",
]


def _csv(tmp_path: Path, rows=ROWS, name="internal.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_import_twice_stores_each_transaction_once(core, engine, tmp_path):
    path = _csv(tmp_path)
    first = import_file(core, path)
    assert (first.inserted, first.duplicates, first.problems) == (4, 0, ())
    again = import_file(core, path)
    assert (again.inserted, again.duplicates, again.problems) == (0, 4, ())
    assert core.get("P1").refunded == Decimal("30")
    assert trial_balance(engine).balanced
    assert {b.account: b.balance for b in balances(engine, "liabilities")} == {"liabilities:merchant:m1": Decimal("-70")}


def test_same_key_with_a_different_payload_is_a_reported_conflict(core, tmp_path):
    import_file(core, _csv(tmp_path))
    changed = [ROWS[0].replace("100.00", "100.01"), ROWS[3].replace("-30.00", "-80.00").replace("R1,", "R2,")
               .replace("RF1", "RF2"), ROWS[1].replace("P2,", "P9,")]
    result = import_file(core, _csv(tmp_path, changed, "changed.csv"))
    messages = sorted(str(p) for p in result.problems)
    assert result.inserted == 0 and len(messages) == 3
    where = f"{tmp_path / 'changed.csv'}"
    assert messages == [
        f"{where}:2: payment P1 has different values than when first imported",
        f"{where}:3: refund R2: 80.000000 exceeds the 70.000000 still refundable on P1",
        f"{where}:4: payment P9 uses a merchant order, serial or refund id already held by another transaction",
    ]


def test_concurrent_duplicate_imports_produce_each_transaction_once(core, engine, tmp_path):
    rows = [f"T{i},m{i % 3},o{i},alipay,S{i},A{i},PAYMENT,,,2024-03-01T0{i % 10}:00:00+00:00,CNY,{i}.25,0.01,SUCCESS"
            for i in range(1, 301)]
    path = _csv(tmp_path, rows)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: import_file(core, path, batch=50), range(4)))
    assert sum(r.inserted for r in results) == 300
    assert all(not r.problems for r in results)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(txns)).scalar() == 300
        assert conn.execute(sa.select(sa.func.count()).select_from(entries)).scalar() == 600  # PAY + FEE
    assert trial_balance(engine).balanced


def test_export_is_the_internal_frame_of_one_business_day(core, tmp_path):
    import_file(core, _csv(tmp_path))
    frame = internal_frame(core.engine, "wechat", dt.date(2024, 3, 1), "Asia/Shanghai")
    assert frame.schema == INTERNAL_COLUMNS
    assert frame["txn_id"].to_list() == ["P1", "R1", "P2"]  # P3 is at midnight: the next day
    assert frame["status"].to_list() == ["SUCCESS", "SUCCESS", "FAILED"]
    assert frame["amount"].to_list() == [Decimal("100"), Decimal("-30"), Decimal("0.01")]
    # What we export, the file source reads back unchanged (same columns, same meanings).
    out = tmp_path / "export.csv"
    frame.write_csv(out)
    back = read_file(out)
    assert back.drop("source_file", "source_line").equals(frame.drop("source_file", "source_line"))
    assert internal_frame(core.engine, "wechat", dt.date(2024, 3, 2), "Asia/Shanghai")["txn_id"].to_list() == ["P3"]
