"""One plain camt `Ntry` -> its bill row with one regular expression, no tree walk (#24).

Most entries of a bank's statement have one shape: amount, direction, status, dates, the bank's
reference, a domain code, and at most one `TxDtls` with references, one party's name and
unstructured remittance lines. `entry_rows` answers some forty path questions per entry through
a Python index of the subtree; for an entry of that shape the same answers are the groups of one
match over the entry as libxml2 serializes it (`etree.tostring`: no comments, `&amp;`/`&lt;`/`&gt;`/
`&#13;` escapes, `<X/>` for an empty element, elements of another namespace prefixed). The pattern
admits only that shape: every element named, in schema order, with a non-empty text, nothing else
but whitespace between them. Any other entry (charges, a batch, an empty or foreign element, a
prefixed document) does not match and goes through `entry_rows` as before.

`tests/parsers_bank/test_camt_fast.py` proves the rows equal to `entry_rows`' for generated entries.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from parsers.balances import BillColumns, classify
from parsers.camt_entries import _NO_REF, _TX_REFS, Report, _iso_date, _iso_datetime, amount_of, statement_day
from recon.errors import StatementRejected
from recon.money import context

_T = r"[^<]++"  # a non-empty text (escaped as libxml2 writes it); possessive: no backtracking
_W = r"\s*+"
_TX_REF_TAGS = "|".join(_TX_REFS)
_ENTRY = re.compile(
    rf"""<Ntry\ xmlns="(?P<ns>[^"]*)"(?:\ xmlns:\w+="[^"]*")*>{_W}
    (?:<NtryRef>(?P<ntry_ref>{_T})</NtryRef>{_W})?
    <Amt\ Ccy="(?P<ccy>[A-Z]{{3}})">(?P<amt>{_T})</Amt>{_W}
    <CdtDbtInd>(?P<cdi>{_T})</CdtDbtInd>{_W}
    (?:<RvslInd>(?P<rvsl>{_T})</RvslInd>{_W})?
    <Sts>(?:(?P<sts>{_T})|(?P<sts_pad>{_W})<Cd>(?P<sts_cd>{_T})</Cd>{_W})</Sts>{_W}
    (?:<BookgDt>{_W}<(?P<bk_kind>Dt|DtTm)>(?P<bk>{_T})</(?P=bk_kind)>{_W}</BookgDt>{_W})?
    (?:<ValDt>{_W}<(?P<val_kind>Dt|DtTm)>(?P<val>{_T})</(?P=val_kind)>{_W}</ValDt>{_W})?
    (?:<AcctSvcrRef>(?P<svcr_ref>{_T})</AcctSvcrRef>{_W})?
    (?:<BkTxCd>{_W}
        (?:<Domn>{_W}<Cd>(?P<domain>{_T})</Cd>{_W}<Fmly>{_W}<Cd>(?P<family>{_T})</Cd>{_W}
            <SubFmlyCd>(?P<sub_family>{_T})</SubFmlyCd>{_W}</Fmly>{_W}</Domn>{_W})?
        (?:<Prtry>{_W}<Cd>(?P<proprietary>{_T})</Cd>{_W}(?:<Issr>{_T}</Issr>{_W})?</Prtry>{_W})?
    </BkTxCd>{_W})?
    (?:<NtryDtls>{_W}<TxDtls>(?P<tx>{_W}
        (?:<Refs>{_W}(?P<refs>(?:<(?:{_TX_REF_TAGS})>{_T}</(?:{_TX_REF_TAGS})>{_W})+)</Refs>{_W}|<Refs/>{_W})?
        (?:<RltdPties>{_W}<(?P<party>Dbtr|Cdtr)>{_W}<Nm>(?P<party_name>{_T})</Nm>{_W}</(?P=party)>{_W}</RltdPties>{_W})?
        (?:<RmtInf>{_W}(?P<ustrd>(?:<Ustrd>{_T}</Ustrd>{_W})+)</RmtInf>{_W})?
        (?:<AddtlTxInf>(?P<tx_info>{_T})</AddtlTxInf>{_W})?
    )</TxDtls>{_W}</NtryDtls>{_W})?
    (?:<AddtlNtryInf>(?P<entry_info>{_T})</AddtlNtryInf>{_W})?
    </Ntry>""",
    re.X,
)
# An amount `Decimal` reads exactly as `_decimal` does (within 18 integer digits, at most 5 decimals,
# no sign, no trailing point); anything else goes through `amount_of` for its checks and words.
_PLAIN_AMOUNT = re.compile(r"[0-9]{1,18}(?:\.[0-9]{1,5})?")
_REF = re.compile(rf"<({_TX_REF_TAGS})>({_T})</\1>")
_USTRD = re.compile(rf"<Ustrd>({_T})</Ustrd>")


def _text(raw: str | None) -> str | None:
    """An element's text from libxml2's escaped serialization."""
    if raw is None or "&" not in raw:
        return raw
    return raw.replace("&lt;", "<").replace("&gt;", ">").replace("&#13;", "\r").replace("&amp;", "&")


def _stated(raw: str | None) -> str | None:
    """`_ptext` of one path: the text, whitespace collapsed, unless blank or NOTPROVIDED/NONREF."""
    value = _text(raw)
    if value and (stripped := value.strip()) and stripped.upper() not in _NO_REF:
        return " ".join(value.split())
    return None


def _day(kind: str | None, raw: str | None) -> tuple[dt.date | None, dt.datetime | None]:
    """`xml_date` and `xml_datetime` of a `BookgDt`/`ValDt` holding one `Dt` or `DtTm`."""
    if kind is None:
        return None, None
    text = _text(raw).strip()  # type: ignore[union-attr]
    if not text:
        return None, None
    if kind == "DtTm":
        stamp = _iso_datetime(text)
        return stamp.date(), stamp
    return _iso_date(text), None


class FastEntries:
    """Appends the rows of plain entries to a report's columns; `add` says False for any other entry.
    What repeats from entry to entry (dates, codes, statuses) is worked out once per distinct text."""

    def __init__(self, columns: BillColumns) -> None:
        self.cols = columns
        self.statuses: dict[str, str] = {}
        self.days: dict[tuple[str | None, str | None], tuple[dt.date | None, dt.datetime | None]] = {}
        self.kinds: dict[tuple, tuple[str | None, str]] = {}
        self.money = context()
        self.zero = Decimal(0)
        self.head: tuple[str, str] | None = None

    def _day(self, kind: str | None, raw: str | None) -> tuple[dt.date | None, dt.datetime | None]:
        found = self.days.get((kind, raw))
        if found is None:
            found = self.days[(kind, raw)] = _day(kind, raw)
        return found

    def _kind(self, g: dict, reversal: bool, inflow: bool) -> tuple[str | None, str]:
        """(bank code, record type) of an entry's codes, direction and reversal mark."""
        key = (g["domain"], g["family"], g["sub_family"], g["proprietary"], reversal, inflow)
        found = self.kinds.get(key)
        if found is None:
            codes = (_text(g["sub_family"]), _text(g["family"]), _text(g["proprietary"]))
            bank_code = "/".join(c for c in (_text(g["domain"]), codes[1], codes[0]) if c) or codes[2]
            found = self.kinds[key] = (bank_code, classify(self.zero if inflow else -Decimal(1), codes, reversal=reversal))
        return found

    def add(self, serialized: str, ns: str, rep: Report, line: int) -> bool:
        m = _ENTRY.fullmatch(serialized)
        if m is None or m["ns"] != ns:
            return False
        g = m.groupdict()
        raw_amount = g["amt"]
        amount = Decimal(raw_amount) if _PLAIN_AMOUNT.fullmatch(raw_amount) else amount_of(_text(raw_amount), rep, line)  # type: ignore[arg-type]
        credit = _text(g["cdi"]) == "CRDT"
        booked_amount = amount if credit else -amount
        reversal = (_text(g["rvsl"]) or "").strip().lower() in ("true", "1")
        status_code = (_text(g["sts_cd"]) or _text(g["sts"]) or "").strip()
        booked = status_code == "BOOK"
        rep.ntry_amounts.append((g["ccy"], booked_amount, booked))
        booking, stamp = self._day(g["bk_kind"], g["bk"])
        value_date, _ = self._day(g["val_kind"], g["val"])
        if booking is None:
            booking = value_date
        if booking is None:
            found = statement_day(rep, line)
            if found is None:
                raise StatementRejected(rep.file, line, f"report {rep.report_id}: entry has no BookgDt or ValDt, and neither the "
                                        "report, its balances nor the group header give a day", code="structure")
            booking, source = found
            rep.undated[source] = rep.undated.get(source, 0) + 1
        inflow = booked_amount >= 0
        bank_code, record_type = self._kind(g, reversal, inflow)
        ntry_ref, svcr_ref = _stated(g["ntry_ref"]), _stated(g["svcr_ref"])
        entry_ref = svcr_ref or ntry_ref
        refs = [f"Ntry/NtryRef={ntry_ref}"] if ntry_ref else []
        if svcr_ref:
            refs.append(f"Ntry/AcctSvcrRef={svcr_ref}")
        merchant = counterparty = memo = tx_ref = None
        if g["tx"] is not None:
            stated = {}
            for tag, raw in _REF.findall(g["refs"] or ""):
                if tag not in stated:  # the first of a repeated reference answers, as in a path lookup
                    stated[tag] = _stated(raw)
            if stated:
                tx_ref = stated.get("AcctSvcrRef")
                merchant = stated.get("EndToEndId") or stated.get("InstrId") or stated.get("MsgId")
                refs.extend(f"TxDtls/Refs/{tag}={stated[tag]}" for tag in sorted(stated, key=_TX_REFS.index) if stated[tag])
            if g["party"] == ("Dbtr" if inflow else "Cdtr"):
                counterparty = _stated(g["party_name"])
            if g["ustrd"] is not None:
                memo = " ".join([" ".join(u.split()) for u in map(_text, _USTRD.findall(g["ustrd"])) if u.strip()])
            memo = memo or _stated(g["tx_info"])
        if self.head is None:
            self.head = (rep.report_id, rep.account)
        cols = self.cols
        cols.statement_id.append(self.head[0])
        cols.account.append(self.head[1])
        cols.currency.append(g["ccy"])
        cols.booking_date.append(booking)
        cols.amount.append(self.money.add(booked_amount, self.zero))
        cols.fee.append(self.zero)
        cols.record_type.append(record_type)
        cols.channel_txn_id.append(tx_ref or entry_ref or f"{self.head[0]}#{len(rep.ntry_amounts)}.1")
        cols.merchant_txn_id.append(merchant)
        raw_status = status_code or "BOOK"
        status = self.statuses.get(raw_status)
        if status is None:
            status = self.statuses[raw_status] = rep.rules.status_of("entry_status", raw_status)
        cols.status.append(status)
        cols.raw_status.append(raw_status)
        cols.value_date.append(value_date)
        cols.trade_time.append(stamp.astimezone(dt.timezone.utc) if stamp is not None and stamp.tzinfo else None)
        cols.counterparty.append(counterparty)
        cols.memo.append(memo or _stated(g["entry_info"]))
        cols.bank_code.append(bank_code)
        cols.source_line.append(line)
        cols.entry_ref.append(entry_ref)
        cols.references.append("; ".join(refs) or None)
        return True
