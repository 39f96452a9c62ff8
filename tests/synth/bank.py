"""Synthetic bank statements whose balances add up: MT940 and camt.053 from one set of records.

The public samples are mostly hand-edited test fixtures whose balances do not chain, and a bank's
real statements cannot be published. This generator writes realistic statements (SEPA-style
references, Dutch-structured :86:, a fee line now and then, a reversal now and then) where
opening + entries = closing holds by construction, for `sample_statements/bank/`, the round-trip
property tests and the benchmark. Writers stream to a file object, so 200,000 entries need no more
memory than one statement's lines.

    python -m tests.synth.bank sample_statements/bank            # the shipped samples
    python -m tests.synth.bank /tmp/bench --entries 200000       # benchmark inputs
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Iterator
from xml.sax.saxutils import escape

NAMES = ("Acme Trading BV", "Müller & Söhne GmbH", "Zhang Wei", "Café Łódź", "Nordic Supplies AB", "J. Doe")


@dataclass(frozen=True, slots=True)
class SynthLine:
    value_date: dt.date
    entry_date: dt.date
    amount: Decimal  # credit > 0, debit < 0
    type_code: str  # SWIFT :61: type without N (TRF, CHG, DDT...)
    reversal: bool
    customer_ref: str | None  # our end-to-end id
    bank_ref: str
    counterparty: str
    remittance: str


@dataclass(frozen=True, slots=True)
class SynthStatement:
    reference: str
    number: int
    account: str
    currency: str
    opening_date: dt.date
    opening: Decimal
    lines: tuple[SynthLine, ...]

    @property
    def closing(self) -> Decimal:
        return self.opening + sum((ln.amount for ln in self.lines), Decimal(0))

    @property
    def closing_date(self) -> dt.date:
        return max([self.opening_date, *(ln.entry_date for ln in self.lines)])


def make_statements(*, seed: int, days: int, per_day: int, account: str = "NL91ABNA0417164300",
                    currency: str = "EUR", start: dt.date = dt.date(2025, 12, 29)) -> Iterator[SynthStatement]:
    """`days` consecutive daily statements (crossing New Year by default), chained balances."""
    rng = random.Random(seed)
    balance = Decimal(rng.randint(100_000, 10_000_000)).scaleb(-2)
    serial = 0
    for d in range(days):
        day = start + dt.timedelta(days=d)
        lines = []
        for _ in range(per_day):
            serial += 1
            kind = rng.random()
            cents = Decimal(rng.randint(1, 2_500_000)).scaleb(-2)
            type_code, reversal, amount = "TRF", False, cents
            if kind < 0.45:
                amount = -cents
            elif kind < 0.50:
                type_code, amount = "CHG", -Decimal(rng.randint(1, 2500)).scaleb(-2)
            elif kind < 0.52:
                reversal, amount = True, -cents  # RC: a credit taken back
            value = day - dt.timedelta(days=rng.choice((0, 0, 0, 1, 2)))  # value may precede entry
            lines.append(SynthLine(
                value_date=value, entry_date=day, amount=amount, type_code=type_code, reversal=reversal,
                customer_ref=f"E2E{serial:010d}" if type_code == "TRF" else None,
                bank_ref=f"B{day:%y%m%d}{serial:09d}", counterparty=rng.choice(NAMES),
                remittance=f"Invoice {rng.randint(1000, 99999)} order {serial}",
            ))
        st = SynthStatement(f"STMT{day:%Y%m%d}", d + 1, account, currency, day - dt.timedelta(days=1), balance, tuple(lines))
        balance = st.closing
        yield st


def _mt_amount(value: Decimal) -> str:
    return f"{abs(value):.2f}".replace(".", ",")


def _mt_balance(tag: str, day: dt.date, currency: str, value: Decimal) -> str:
    return f":{tag}:{'D' if value < 0 else 'C'}{day:%y%m%d}{currency}{_mt_amount(value)}"


def write_mt940(statements: Iterator[SynthStatement], out: IO[str], *, envelope: bool = True) -> None:
    for st in statements:
        chunk = []
        if envelope:
            chunk.append("{1:F01ABNANL2AXXXX0000000000}{2:O940ABNANL2AXXXXN}{3:}{4:")
        chunk += [f":20:{st.reference}", f":25:{st.account}", f":28C:{st.number:05d}/1",
                  _mt_balance("60F", st.opening_date, st.currency, st.opening)]
        for ln in st.lines:
            mark = ("RC" if ln.amount < 0 else "RD") if ln.reversal else ("D" if ln.amount < 0 else "C")
            chunk.append(f":61:{ln.value_date:%y%m%d}{ln.entry_date:%m%d}{mark}{_mt_amount(ln.amount)}"
                         f"N{ln.type_code}{ln.customer_ref or 'NONREF'}//{ln.bank_ref}")
            info = f"/TRTP/SEPA OVERBOEKING/NAME/{ln.counterparty}/REMI/{ln.remittance}/EREF/{ln.customer_ref or 'NOTPROVIDED'}"
            chunk.append(":86:" + "\n".join(info[i:i + 65] for i in range(0, len(info), 65)))
        chunk.append(_mt_balance("62F", st.closing_date, st.currency, st.closing))
        chunk.append("-}" if envelope else "-")
        out.write("\r\n".join(chunk) + "\r\n")


def _camt_bal(code: str, day: dt.date, ccy: str, value: Decimal) -> str:
    return (f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy=\"{ccy}\">{abs(value):.2f}</Amt>"
            f"<CdtDbtInd>{'DBIT' if value < 0 else 'CRDT'}</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal>\n")


def write_camt053(statements: Iterator[SynthStatement], out: IO[str], *, version: str = "08") -> None:
    ns = f"urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}"
    out.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{ns}">\n<BkToCstmrStmt>\n'
              "<GrpHdr><MsgId>SYNTH-MSG-1</MsgId><CreDtTm>2026-01-05T06:00:00+01:00</CreDtTm></GrpHdr>\n")
    status = "<Sts><Cd>BOOK</Cd></Sts>" if version >= "06" else "<Sts>BOOK</Sts>"
    for st in statements:
        out.write(f"<Stmt><Id>{st.reference}</Id><ElctrncSeqNb>{st.number}</ElctrncSeqNb>"
                  f"<CreDtTm>{st.closing_date}T06:00:00+01:00</CreDtTm>"
                  f"<Acct><Id><IBAN>{st.account}</IBAN></Id><Ccy>{st.currency}</Ccy></Acct>\n")
        out.write(_camt_bal("OPBD", st.opening_date, st.currency, st.opening))
        out.write(_camt_bal("CLBD", st.closing_date, st.currency, st.closing))
        for ln in st.lines:
            credit = ln.amount >= 0
            fam = ("ACCB", "CHRG") if ln.type_code == "CHG" else ("RCDT" if credit else "ICDT", "ESCT")
            party = "Dbtr" if credit else "Cdtr"
            e2e = f"<EndToEndId>{ln.customer_ref}</EndToEndId>" if ln.customer_ref else ""
            out.write(
                f"<Ntry><Amt Ccy=\"{st.currency}\">{abs(ln.amount):.2f}</Amt><CdtDbtInd>{'CRDT' if credit else 'DBIT'}</CdtDbtInd>"
                f"{'<RvslInd>true</RvslInd>' if ln.reversal else ''}{status}"
                f"<BookgDt><Dt>{ln.entry_date}</Dt></BookgDt><ValDt><Dt>{ln.value_date}</Dt></ValDt>"
                f"<AcctSvcrRef>{ln.bank_ref}</AcctSvcrRef>"
                f"<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>{fam[0]}</Cd><SubFmlyCd>{fam[1]}</SubFmlyCd></Fmly></Domn></BkTxCd>"
                f"<NtryDtls><TxDtls><Refs>{e2e}</Refs><RltdPties><{party}><Nm>{escape(ln.counterparty)}</Nm></{party}></RltdPties>"
                f"<RmtInf><Ustrd>{escape(ln.remittance)}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>\n")
        out.write("</Stmt>\n")
    out.write("</BkToCstmrStmt>\n</Document>\n")


def write_samples(folder: Path) -> list[Path]:
    """The shipped samples: a week across New Year in MT940 (SWIFT envelope) and camt.053 v08."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, writer in (("abn_eur_2025-12-29_2026-01-04.mt940", write_mt940), ("abn_eur_2025-12-29_2026-01-04.camt053.xml", write_camt053)):
        path = folder / name
        with open(path, "w", encoding="utf-8", newline="") as fh:
            writer(make_statements(seed=940, days=7, per_day=6), fh)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--entries", type=int, default=0, help="write benchmark files with this many entries")
    args = ap.parse_args(argv)
    if not args.entries:
        for path in write_samples(args.folder):
            print(path)
        return
    args.folder.mkdir(parents=True, exist_ok=True)
    per_day = 2000
    days = max(1, args.entries // per_day)
    for name, writer in (("bench.mt940", write_mt940), ("bench.camt053.xml", write_camt053)):
        with open(args.folder / name, "w", encoding="utf-8", newline="") as fh:
            writer(make_statements(seed=7, days=days, per_day=per_day, start=dt.date(2025, 1, 1)), fh)
        print(args.folder / name)


if __name__ == "__main__":
    main()
