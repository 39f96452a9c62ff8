"""Synthetic Stripe, PayPal STL and Adyen settlement files whose own checks balance.

The public samples are excerpts and hand-edited fixtures whose totals often do not add up, so the
demo, the golden tests and the benchmark need statements we can make at any size and trust: every
Stripe row has net = gross - fee, every PayPal section and report footer equals its lines, and every
Adyen batch nets to its MerchantPayout. Output is deterministic for a seed and written in chunks,
so a 1,000,000-line file costs little memory. Amounts are built from integer minor units.

    python -m tests.synth.intl sample_statements            # the small checked-in samples
    python -m tests.synth.intl OUT --rows 1000000           # big files for the benchmark
"""

from __future__ import annotations

import argparse
import random
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from recon.money import exponent, from_minor

_DAY = "2026-01-15"
_CHUNK = 20_000


def _major(minor: int, currency: str) -> str:
    return str(from_minor(minor, currency))


def write_stripe(path: Path, rows: int, seed: int = 1) -> None:
    """balance_change_from_activity.itemized-style CSV: charges, refunds, disputes, fees, one payout per currency."""
    rnd = random.Random(seed)
    header = ("balance_transaction_id,created_utc,available_on_utc,currency,gross,fee,net,reporting_category,"
              "source_id,charge_id,payment_intent_id,description,automatic_payout_id\n")
    currencies = ("usd", "EUR", "JPY", "KWD")
    net_by: dict[str, int] = defaultdict(int)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(header)
        buf = []
        body = rows - len(currencies)
        for i in range(body):
            cur = currencies[i % len(currencies)] if i % 7 else "JPY"
            c = cur.upper()
            unit = 10 ** max(exponent(c) - 2, 0) if exponent(c) > 2 else 1
            gross = rnd.randint(100, 500_000) * unit
            kind = "charge" if i % 10 < 7 else ("refund" if i % 10 < 9 else ("dispute" if i % 20 == 9 else "fee"))
            fee = gross * 29 // 1000 + 30 * unit if kind in ("charge", "dispute") else 0
            if kind in ("refund", "dispute", "fee"):
                gross = -gross
            net = gross - fee
            net_by[c] += net
            src = {"charge": "ch", "refund": "re", "dispute": "du", "fee": "txn"}[kind]
            t = f"{_DAY} {i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}"
            # a refund or dispute points at the charge four rows back (same currency in the cycle)
            ref = i if kind == "charge" else max(i - 4, 0)
            charge = f"ch_{ref:08d}" if kind != "fee" else ""
            buf.append(f"txn_{i:08d},{t},{t},{cur},{_major(gross, c)},{_major(fee, c)},{_major(net, c)},{kind},"
                       f"{src}_{i:08d},{charge},{'pi_%08d' % ref if charge else ''},\"Order {i}, web\",po_{c}\n")
            if len(buf) >= _CHUNK:
                fh.write("".join(buf))
                buf.clear()
        for c in sorted(net_by):
            buf.append(f"txn_po_{c},{_DAY} 23:59:59,{_DAY} 23:59:59,{c},{_major(-net_by[c], c)},{_major(0, c)},"
                       f"{_major(-net_by[c], c)},payout,po_{c},,,Payout,po_{c}\n")
        fh.write("".join(buf))


_STL_COLUMNS = ("Transaction ID", "Invoice ID", "PayPal Reference ID", "PayPal Reference ID Type", "Transaction Event Code",
                "Transaction Initiation Date", "Transaction Completion Date", "Transaction Debit or Credit",
                "Gross Transaction Amount", "Gross Transaction Currency", "Fee Debit or Credit", "Fee Amount", "Fee Currency",
                "Custom Field", "Consumer ID", "Payment Tracking ID", "Store ID", "Bank Reference ID",
                "Credit Transactional Fee", "Credit Promotional Fee", "Credit Term")


def write_paypal(path: Path, rows: int, seed: int = 2) -> None:
    """A one-file, one-section STL: payments, refunds, a withdrawal; x100 amounts for every currency."""
    rnd = random.Random(seed)
    tot: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write('\ufeff"RH",2026/01/16 02:05:05 -0800,"A","EZ782AXEUJUW8",009,\n"FH",01\n')
        fh.write('"SH",2026/01/15 00:00:00 -0800,2026/01/15 23:59:59 -0800,"EZ782AXEUJUW8",""\n')
        fh.write('"CH",' + ",".join(f'"{c}"' for c in _STL_COLUMNS) + "\n")
        buf = []
        for i in range(rows):
            cur = ("USD", "EUR", "JPY")[i % 3]
            gross = rnd.randint(1, 50_000) * (100 if cur == "JPY" else 1)  # JPY is whole yen x100
            fee = gross * 34 // 1000 // (100 if cur == "JPY" else 1) * (100 if cur == "JPY" else 1)
            t = f"2026/01/15 {i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d} -0800"
            if i % 10 == 9:
                code, dc, fdc, ref = "T1107", "DR", "CR", f"{i - 3:017X}"
            elif i % 50 == 48:
                code, dc, fdc, ref, fee = "T0400", "DR", "", "", 0
            else:
                code, dc, fdc, ref = "T0006", "CR", "DR", ""
            t_ = tot[cur]
            t_[0 if dc == "CR" else 1] += gross
            if fdc:
                t_[2 if fdc == "CR" else 3] += fee
            t_[4] += 1
            fee_cells = f'"{fdc}",{fee},"{cur}"' if fdc else '"",,""'
            buf.append(f'"SB","{i:017X}","INV-{i:08d}","{ref}","{"TXN" if ref else ""}","{code}",{t},{t},"{dc}",{gross},'
                       f'"{cur}",{fee_cells},"cart {i}, web","CUST{i % 997}","","","",,,\n')
            if len(buf) >= _CHUNK:
                fh.write("".join(buf))
                buf.clear()
        fh.write("".join(buf))

        def footer(kind: str, cur: str, t: list[int]) -> str:
            end = t[0] - t[1] + t[2] - t[3]
            dc = "CR" if end >= 0 else "DR"
            pairs = f'"CR",0,"{dc}",{abs(end)},"CR",0,"{dc}",{abs(end)},"CR",0,"CR",0'
            return f'"{kind}","{cur}",{t[0]},{t[1]},{t[2]},{t[3]},{pairs},{t[4]}\n'

        fh.write("".join(footer("SF", c, tot[c]) for c in sorted(tot)) + f'"SC",{rows}\n')
        fh.write("".join(footer("RF", c, tot[c]) for c in sorted(tot)) + f'"RC",{rows}\n"FF",{rows}\n')


_ADYEN_HEADER = ("Company Account,Merchant Account,Psp Reference,Merchant Reference,Payment Method,Creation Date,TimeZone,Type,"
                 "Modification Reference,Gross Currency,Gross Debit (GC),Gross Credit (GC),Exchange Rate,Net Currency,"
                 "Net Debit (NC),Net Credit (NC),Commission (NC),Markup (NC),Scheme Fees (NC),Interchange (NC),"
                 "Payment Method Variant,Modification Merchant Reference,Batch Number,Reserved4,Reserved5,Reserved6,"
                 "Reserved7,Reserved8,Reserved9,Reserved10\n")


def write_adyen(path: Path, rows: int, seed: int = 3, batch: int = 101) -> None:
    """One batch settled in EUR: EUR, USD and JPY payments, refunds, a chargeback, the fee and the payout."""
    rnd = random.Random(seed)
    rates = {"EUR": Decimal(1), "USD": Decimal("0.9213"), "JPY": Decimal("0.0061")}
    cent = Decimal("0.01")
    total = Decimal(0)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(_ADYEN_HEADER)
        buf = []
        for i in range(rows - 2):
            gc = ("EUR", "EUR", "USD", "JPY")[i % 4]
            gross = from_minor(rnd.randint(100, 90_000) * (1 if gc != "JPY" else 3), gc)
            amount = (gross * rates[gc]).quantize(cent, ROUND_HALF_UP)
            commission = (amount * Decimal("0.012")).quantize(cent, ROUND_HALF_UP)
            markup, scheme = Decimal("0.05"), Decimal("0.02")
            kind = "Settled" if i % 10 < 8 else ("Refunded" if i % 10 == 8 else "Chargeback")
            sign = 1 if kind == "Settled" else -1
            net = sign * amount - commission - markup - scheme
            total += net
            g_dr, g_cr = ("", gross) if sign > 0 else (gross, "")
            n_dr, n_cr = ("", net) if net >= 0 else (-net, "")
            zone = "CET" if i % 3 else "PST"  # Adyen states the zone per row; January: CET, not CEST
            t = f"2026-01-{14 + i % 2:02d} {i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}"
            mref = f"ORDER-{i:08d}"
            buf.append(f"Shop,ShopEUR,{8800000000000000 + i},{mref},visa,{t},{zone},{kind},{8900000000000000 + i},{gc},"
                       f"{g_dr},{g_cr},{rates[gc]},EUR,{n_dr},{n_cr},{commission},{markup},{scheme},,visacredit,"
                       f"{'REF-' + mref if kind == 'Refunded' else '<auto>'},{batch},,,,,,,\n")
            if len(buf) >= _CHUNK:
                fh.write("".join(buf))
                buf.clear()
        fee = Decimal("12.50")
        total -= fee
        buf.append(f"Shop,ShopEUR,,,,2026-01-15 23:10:00,CET,Fee,Transaction Fees January 15 2026,,,,,EUR,{fee},,,,,,,,{batch},,,,,,,\n")
        n_dr, n_cr = (total, "") if total >= 0 else ("", -total)
        buf.append(f'Shop,ShopEUR,,,,2026-01-15 23:50:00,CET,MerchantPayout,"TX{batch}XT batch {batch}, ShopEUR",,,,,EUR,'
                   f"{n_dr},{n_cr},,,,,,,{batch},,,,,,,\n")
        fh.write("".join(buf))


def write_samples(root: Path) -> list[Path]:
    """The small statements under sample_statements/ (regenerated, never hand-edited)."""
    out = [root / "stripe" / "stripe_balance_2026-01-15.csv", root / "paypal" / "STL-20260115.01.009.CSV",
           root / "adyen" / "settlement_detail_report_batch_101.csv"]
    for p in out:
        p.parent.mkdir(parents=True, exist_ok=True)
    write_stripe(out[0], 24)
    write_paypal(out[1], 20)
    write_adyen(out[2], 14)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--rows", type=int, default=0, help="lines per file; 0 writes the small samples")
    args = ap.parse_args()
    if not args.rows:
        print("\n".join(str(p) for p in write_samples(args.out)))
        return
    args.out.mkdir(parents=True, exist_ok=True)
    write_stripe(args.out / "stripe.csv", args.rows - 1)
    write_paypal(args.out / "paypal_stl.csv", args.rows - 12)
    write_adyen(args.out / "adyen_sdr.csv", args.rows - 1)


if __name__ == "__main__":
    main()
