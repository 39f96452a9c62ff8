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
    if raw is None:
        return None
    value = _text(raw)
    if (stripped := value.strip()) and stripped.upper() not in _NO_REF:  # type: ignore[union-attr]
        return " ".join(value.split())  # type: ignore[union-attr]
    return None


def _day(kind: str | None, raw: str | None) -> tuple[dt.date | None, dt.datetime | None]:
    """`xml_date` and `xml_datetime` of a `BookgDt`/`ValDt` holding one `Dt` or `DtTm` (its text unescaped)."""
    if kind is None:
        return None, None
    text = raw.strip()  # type: ignore[union-attr]
    if not text:
        return None, None
    if kind == "DtTm":
        stamp = _iso_datetime(text)
        return stamp.date(), stamp
    return _iso_date(text), None


class FastEntries:
    """Reads plain entries into a report's columns (`add` says False for any other entry; `flush`).
    What repeats from entry to entry (dates, codes, statuses) is worked out once per distinct text."""

    def __init__(self, columns: BillColumns) -> None:
        self.cols = columns
        self.statuses: dict[str, str] = {}
        self.days: dict[tuple[str | None, str | None], tuple[dt.date | None, dt.datetime | None]] = {}
        self.kinds: dict[tuple, tuple[str | None, str]] = {}
        self.money = context()
        self.zero = Decimal(0)
        self.head: tuple[str, str] | None = None
        self.rows: list[tuple] = []

    def flush(self) -> None:
        """Hand the rows read so far to the columns (before a row read the long way, and at the end)."""
        if self.rows:
            self.cols.extend_rows(self.rows)
            self.rows = []

    def _day(self, kind: str | None, raw: str | None) -> tuple[dt.date | None, dt.datetime | None]:
        found = self.days.get((kind, raw))
        if found is None:
            found = self.days[(kind, raw)] = _day(kind, raw)
        return found

    def _kind(self, texts: tuple, reversal: bool, inflow: bool) -> tuple[str | None, str]:
        """(bank code, record type) of an entry's domain, family, sub-family and proprietary codes,
        direction and reversal mark."""
        key = (texts, reversal, inflow)
        found = self.kinds.get(key)
        if found is None:
            domain, family, sub_family, proprietary = texts
            codes = (sub_family, family, proprietary)
            bank_code = "/".join(c for c in (domain, family, sub_family) if c) or proprietary
            record_type = classify(self.zero if inflow else -Decimal(1), codes, reversal=reversal)
            found = self.kinds[key] = (bank_code, record_type)
        return found

    def add(self, serialized: str, ns: str, rep: Report, line: int) -> bool:
        m = _ENTRY.fullmatch(serialized)
        if m is None:
            return False
        (entry_ns, ntry_ref, ccy, amt, cdi, rvsl, sts, _, sts_cd, bk_kind, bk, val_kind, val, svcr_ref, domain,
         family, sub_family, proprietary, tx, refs, party, party_name, ustrd, tx_info, entry_info) = m.groups()
        if entry_ns != ns:
            return False
        if "&" in serialized:  # an escaped character somewhere: the texts as the tree holds them
            amt, cdi, rvsl, sts, sts_cd, bk, val, domain, family, sub_family, proprietary = map(
                _text, (amt, cdi, rvsl, sts, sts_cd, bk, val, domain, family, sub_family, proprietary))
        amount = Decimal(amt) if _PLAIN_AMOUNT.fullmatch(amt) else amount_of(amt, rep, line)
        booked_amount = amount if cdi == "CRDT" else -amount
        reversal = rvsl is not None and rvsl.strip().lower() in ("true", "1")
        status_code = (sts_cd or sts or "").strip()
        booked = status_code == "BOOK"
        rep.ntry_amounts.append((ccy, booked_amount, booked))
        booking, stamp = self._day(bk_kind, bk)
        value_date, _ = self._day(val_kind, val)
        if booking is None:
            booking = value_date
        if booking is None:
            found = statement_day(rep, line)
            if found is None:
                raise StatementRejected(rep.file, line, f"report {rep.report_id}: entry has no BookgDt or ValDt, and "
                                        "neither the report, its balances nor the group header give a day",
                                        code="structure")
            booking, source = found
            rep.undated[source] = rep.undated.get(source, 0) + 1
        inflow = booked_amount >= 0
        bank_code, record_type = self._kind((domain, family, sub_family, proprietary), reversal, inflow)
        ntry_ref, svcr_ref = _stated(ntry_ref), _stated(svcr_ref)
        entry_ref = svcr_ref or ntry_ref
        stated_refs = [f"Ntry/NtryRef={ntry_ref}"] if ntry_ref else []
        if svcr_ref:
            stated_refs.append(f"Ntry/AcctSvcrRef={svcr_ref}")
        merchant = counterparty = memo = tx_ref = None
        if tx is not None:
            stated = {}
            for tag, raw in _REF.findall(refs or ""):
                if tag not in stated:  # the first of a repeated reference answers, as in a path lookup
                    stated[tag] = _stated(raw)
            if stated:
                tx_ref = stated.get("AcctSvcrRef")
                merchant = stated.get("EndToEndId") or stated.get("InstrId") or stated.get("MsgId")
                order = sorted(stated, key=_TX_REFS.index) if len(stated) > 1 else stated
                stated_refs.extend(f"TxDtls/Refs/{tag}={stated[tag]}" for tag in order if stated[tag])
            if party == ("Dbtr" if inflow else "Cdtr"):
                counterparty = _stated(party_name)
            if ustrd is not None:
                memo = " ".join([" ".join(u.split()) for u in map(_text, _USTRD.findall(ustrd)) if u.strip()])
            memo = memo or _stated(tx_info)
        if self.head is None:
            self.head = (rep.report_id, rep.account)
        raw_status = status_code or "BOOK"
        status = self.statuses.get(raw_status)
        if status is None:
            status = self.statuses[raw_status] = rep.rules.status_of("entry_status", raw_status)
        report_id, account = self.head
        self.rows.append((  # in ENTRY_FIELDS order; `flush` turns the rows into columns at C speed
            report_id, account, ccy, booking, self.money.add(booked_amount, self.zero), self.zero, record_type,
            tx_ref or entry_ref or f"{report_id}#{len(rep.ntry_amounts)}.1", merchant, status, raw_status, value_date,
            stamp.astimezone(dt.timezone.utc) if stamp is not None and stamp.tzinfo else None, counterparty,
            memo or _stated(entry_info), bank_code, line, entry_ref, "; ".join(stated_refs) or None))
        return True
