"""camt entries and reports: one `Ntry` -> bill rows, one `Stmt`/`Rpt`/`Ntfctn` -> its checks.

The pitfalls this module exists for (FORMATS §8.2):

* A batch entry (`NtryDtls/Btch` + several `TxDtls`) is split into one row per transaction, each with
  its own amount (`TxDtls/Amt` in v3+, `AmtDtls/TxAmt/Amt` in v2), but only when those amounts add
  up to the entry's: copying the entry amount onto every line made OCA#157's two 429.56 lines out of
  329.56 + 100. When they do not add up the entry stays one row and a warning says why.
* `RvslInd=true`: the entry's `CdtDbtInd` already gives the booking direction (ISO usage rule), so
  the sign comes from it; the row is classified ADJUSTMENT (a correction, not new business).
* Charges: only a charge record with `ChrgInclInd=true` is inside the booked amount; then the row's
  amount is booked + fee, its fee the charge and its net the booked amount (which the balance check
  uses). Charges booked separately arrive as their own entries.
* Status `BOOK` is SUCCESS through the rule set; `PDNG`/`INFO` entries are UNKNOWN and do not move
  the booked balance.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

from parsers.balances import Balance, BalanceType, BillColumns, Entry, check_balance, classify
from parsers.camt_paths import Paths, local
from recon.config.ruleset import RuleSet
from recon.errors import Problem, StatementRejected
from recon.money import AmountGrammar, MoneyError, context, normalize_zero, parse_amount, parse_count

AMOUNT = AmountGrammar(decimal_sep=".", allow_sign=False, max_scale=5)
_NO_REF = {"", "NOTPROVIDED", "NONREF"}
# Every reference a transaction may state (ISO 20022 TransactionReferences); all are kept.
_TX_REFS = ("MsgId", "AcctSvcrRef", "PmtInfId", "InstrId", "EndToEndId", "UETR", "TxId", "MndtId", "ChqNb", "ClrSysRef")
_TX_REF_PATHS = tuple((f"TxDtls/Refs/{p}", f"Refs/{p}") for p in _TX_REFS)  # (label in `references`, path)


@lru_cache(maxsize=512)
def _qualify(ns: str, path: str) -> str:
    return "/".join(f"{{{ns}}}{part}" for part in path.split("/"))


def xml_date(elem, q) -> dt.date | None:
    """`Dt` or `DtTm` inside elem (genkgo's only-Dt-with-DtTm nests a DtTm inside a Dt)."""
    if elem is None:
        return None
    stamp = xml_datetime(elem, q)
    if stamp is not None:
        return stamp.date()
    text = (elem.findtext(q("Dt")) or elem.text or "").strip()
    return _iso_date(text) if text else None


def xml_datetime(elem, q) -> dt.datetime | None:
    text = (elem.findtext(q("DtTm")) or elem.findtext(q("Dt/DtTm")) or "").strip()
    if not text:
        return None
    return _iso_datetime(text)  # naive when the bank gives no offset: the caller decides what zone that is


# A statement's dates and booking times repeat from entry to entry: each distinct text is read once.
@lru_cache(maxsize=4096)
def _iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO date") from None


@lru_cache(maxsize=4096)
def _iso_datetime(text: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO date-time") from None


@dataclass(slots=True)
class Report:
    file: str
    ns: str
    elem: object
    line: int
    rules: RuleSet
    columns: BillColumns = field(default_factory=BillColumns)  # the rows, column-wise
    balances: list[Balance] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    ntry_amounts: list[tuple[str, Decimal, bool]] = field(default_factory=list)  # (ccy, signed, booked) per Ntry
    header_created: dt.date | None = None
    undated: dict[str, int] = field(default_factory=dict)  # entries dated by the statement, per source
    _head: tuple[str, str, str | None, str | None] | None = None

    def q(self, path: str) -> str:
        return _qualify(self.ns, path)

    def head(self) -> tuple[str, str, str | None, str | None]:
        """(report id, account, account currency, CpyDplctInd), read once the head has streamed in."""
        if self._head is None:
            e, q = self.elem, self.q
            account = (e.findtext(q("Acct/Id/IBAN")) or e.findtext(q("Acct/Id/Othr/Id"))
                       or e.findtext(q("Acct/Id/PrtryAcct/Id")) or "")
            self._head = ((e.findtext(q("Id")) or "").strip(), account.strip(),
                          e.findtext(q("Acct/Ccy")), e.findtext(q("CpyDplctInd")))
            if not self._head[1]:
                raise StatementRejected(self.file, self.line, f"report {self._head[0]} has no account id", code="structure")
        return self._head

    @property
    def report_id(self) -> str:
        return self.head()[0]

    @property
    def account(self) -> str:
        return self.head()[1]

    @property
    def copy_duplicate(self) -> str | None:
        return self.head()[3]

    def add_entries(self, rows: list[Entry]) -> None:
        for row in rows:
            self.columns.add(row)

    def add_balance(self, balance: Balance) -> None:
        self.balances.append(balance)

    def finish(self) -> None:
        self.head()

    def report_date(self) -> dt.date:
        closing = [b.balance_date for b in self.balances if b.balance_type is BalanceType.CLOSING]
        if closing:
            return closing[-1]
        dates = [*self.columns.booking_date, *(b.balance_date for b in self.balances)]
        stamp = xml_date(self.elem.find(self.q("FrToDt")), lambda p: self.q(p.replace("DtTm", "ToDtTm")))
        return max(dates) if dates else stamp or dt.date.min

    def check(self, file: str, message: str) -> list[str]:
        done = self._check_summary(file)
        done += [f"report {self.report_id}: {n} entries without BookgDt/ValDt dated by {src}" for src, n in self.undated.items()]
        currencies = sorted({b.currency for b in self.balances} | {c for c, _, _ in self.ntry_amounts})
        for ccy in currencies:
            bals = [b for b in self.balances if b.currency == ccy]
            opening = next((b for b in bals if b.balance_type is BalanceType.OPENING), None)
            closing = next((b for b in reversed(bals) if b.balance_type is BalanceType.CLOSING), None)
            if closing is None and message == "052":
                closing = next((b for b in reversed(bals) if b.balance_type is BalanceType.INTERIM), None)
            if opening is None or closing is None:
                done.append(f"report {self.report_id} {ccy}: no opening/closing pair, balance not checked")
                continue
            moved = sum((a for c, a, booked in self.ntry_amounts if c == ccy and booked), Decimal(0))
            done.append(check_balance(file, closing.source_line, self.report_id, ccy, opening.amount, moved,
                                      closing.amount, "closing" if closing.balance_type is BalanceType.CLOSING else "interim"))
        return done

    def _check_summary(self, file: str) -> list[str]:
        q, done = self.q, []
        for path, sign in (("TxsSummry/TtlNtries", None), ("TxsSummry/TtlCdtNtries", True), ("TxsSummry/TtlDbtNtries", False)):
            node = self.elem.find(q(path))
            if node is None:
                continue
            picked = [a for _, a, _ in self.ntry_amounts if sign is None or (a >= 0) == sign]
            count, total = node.findtext(q("NbOfNtries")), node.findtext(q("Sum"))
            got = sum((abs(a) for a in picked), Decimal(0))
            try:
                stated = parse_count(count) if count is not None else None
                stated_sum = parse_amount(total, AMOUNT) if total is not None else None
            except MoneyError as exc:
                raise StatementRejected(file, self.line, f"report {self.report_id}: {path}: {exc}", code="control_total") from None
            if stated is not None and stated != len(picked) or stated_sum is not None and stated_sum != got:
                raise StatementRejected(file, self.line, f"report {self.report_id}: {path.split('/')[1]} says {count} entries "
                                        f"summing {total}, the document has {len(picked)} summing {got}", code="control_total")
            done.append(f"report {self.report_id}: {path.split('/')[1]} {count} entries = {total}")
        return done


_AMOUNT_PATTERN = AMOUNT.pattern()


def _decimal(text: str) -> Decimal:
    """`parse_amount(text, AMOUNT)` with the grammar's pattern compiled once, not per entry; anything
    outside the plain case goes through `parse_amount` itself, so a refusal is in its words."""
    raw = text.strip()
    if raw and _AMOUNT_PATTERN.match(raw):
        value = Decimal(raw[:-1] if raw.endswith(".") else raw)
        if -value.as_tuple().exponent <= AMOUNT.max_scale:  # type: ignore[operator]
            return normalize_zero(value)
    return parse_amount(text, AMOUNT)


def amount_of(text: str, rep: Report, line: int) -> Decimal:
    try:
        return _decimal(text)
    except MoneyError as exc:
        raise StatementRejected(rep.file, line, f"report {rep.report_id}: {exc}", code="amount") from None


def _amount(node, rep: Report, line: int) -> tuple[Decimal, str]:
    return amount_of(node.text or "", rep, line), node.get("Ccy") or ""


def created_date(elem, q, file: str, line: int) -> dt.date | None:
    """The day of a `CreDtTm` (report or group header), as written."""
    text = (elem.findtext(q("CreDtTm")) or "").strip()
    try:
        return dt.date.fromisoformat(text[:10]) if text else None
    except ValueError:
        raise StatementRejected(file, line, f"CreDtTm {text!r} is not an ISO date-time", code="syntax") from None


def statement_day(rep: Report, line: int) -> tuple[dt.date, str] | None:
    """The day an undated entry belongs to, and where that day was read.

    Some banks leave `BookgDt` and `ValDt` out of every entry (the statement is one day, so the day is
    said once). The report's creation time says it first (a camt.054 notification is booked when
    made); without one, the statement's closing balance date, its period end (`FrToDt`), then the
    group header's creation time. Balances precede entries in every camt version, so they are known.
    """
    created = created_date(rep.elem, rep.q, rep.file, line)
    if created is not None:
        return created, "the report's CreDtTm"
    closing = [b.balance_date for b in rep.balances if b.balance_type is BalanceType.CLOSING]
    if closing:
        return closing[-1], "the closing balance date"
    period = xml_date(rep.elem.find(rep.q("FrToDt")), lambda p: rep.q(p.replace("DtTm", "ToDtTm")))
    if period is not None:
        return period, "FrToDt/ToDtTm"
    if rep.header_created is not None:
        return rep.header_created, "GrpHdr/CreDtTm"
    days = {b.balance_date for b in rep.balances}
    if len(days) == 1:
        return days.pop(), "the balances' date"
    return None


def _ptext(elem: Paths, *paths: str) -> str | None:
    """The first of `paths` that states a value (blank and NOTPROVIDED/NONREF state none), its
    whitespace collapsed; answered straight from the entry's `Paths` index."""
    get, prefix = elem.paths.get, elem.prefix
    for path in paths:
        found = get(prefix + path)
        value = found[0].text if found else None
        if value and (stripped := value.strip()) and stripped.upper() not in _NO_REF:
            return " ".join(value.split())
    return None


def entry_rows(ntry, rep: Report, line: int) -> list[Entry]:
    """The bill rows of one `Ntry` (one, or one per batch transaction), its subtree indexed by one
    walk (parsers/camt_paths.py). Plain entries take parsers/camt_fast.py instead."""
    rq = rep.q
    e = Paths.of(ntry, rep.ns)
    q = local
    amount_node = e.find("Amt")
    if amount_node is None:  # an empty <Ntry/>, or one in another namespace: nothing to book, not a crash
        raise StatementRejected(rep.file, line, f"report {rep.report_id}: entry has no Amt", code="structure")
    amount, ccy = _amount(amount_node, rep, line)
    credit = e.findtext("CdtDbtInd") == "CRDT"
    booked_amount = amount if credit else -amount
    reversal = (e.findtext("RvslInd") or "").strip().lower() in ("true", "1")
    status_code = (e.findtext("Sts/Cd") or e.findtext("Sts") or "").strip()
    booked = status_code == "BOOK"
    rep.ntry_amounts.append((ccy, booked_amount, booked))
    booking_node, value_node = e.sub("BookgDt"), e.sub("ValDt")
    # A camt.054 notification may carry neither date: it is then booked when the report was made.
    booking = xml_date(booking_node, q) or xml_date(value_node, q)
    if booking is None:
        found = statement_day(rep, line)
        if found is None:
            raise StatementRejected(rep.file, line, f"report {rep.report_id}: entry has no BookgDt or ValDt, and neither the "
                                    "report, its balances nor the group header give a day", code="structure")
        booking, source = found
        rep.undated[source] = rep.undated.get(source, 0) + 1
    stamp = xml_datetime(booking_node, q) if booking_node is not None else None
    codes = (e.findtext("BkTxCd/Domn/Fmly/SubFmlyCd"), e.findtext("BkTxCd/Domn/Fmly/Cd"), e.findtext("BkTxCd/Prtry/Cd"))
    bank_code = "/".join(c for c in (e.findtext("BkTxCd/Domn/Cd"), codes[1], codes[0]) if c) or codes[2]
    fee = sum((_amount(r.find(rq("Amt")), rep, line)[0] for r in e.findall("Chrgs/Rcrd") + e.findall("Chrgs")
               if (r.findtext(rq("ChrgInclInd")) or "").strip() == "true" and r.find(rq("Amt")) is not None), Decimal(0))
    entry_ref = _ptext(e, "AcctSvcrRef", "NtryRef")
    entry_refs = [(path, _ptext(e, path)) for path in ("NtryRef", "AcctSvcrRef")]
    details = e.findall("NtryDtls/TxDtls")
    views = [e.sub("NtryDtls/TxDtls")] if len(details) == 1 else [Paths.of(tx, rep.ns) for tx in details]
    parts: list[tuple[Paths | None, Decimal]] = [(views[0] if views else None, booked_amount)]
    if len(details) > 1:
        amounts = []
        for tx in views:
            node = tx.find("Amt") if tx.find("Amt") is not None else tx.find("AmtDtls/TxAmt/Amt")
            if node is None:
                break
            value, _ = _amount(node, rep, line)
            tx_credit = (tx.findtext("CdtDbtInd") or ("CRDT" if credit else "DBIT")) == "CRDT"
            amounts.append(value if tx_credit else -value)
        if len(amounts) == len(details) and sum(amounts, Decimal(0)) == booked_amount:
            parts = list(zip(views, amounts))
        else:
            rep.warnings.append(Problem(rep.file, line, f"report {rep.report_id}: batch entry {entry_ref} has {len(details)} "
                                        "transactions whose amounts do not add up to the entry; kept as one row", code="batch"))
    rows = []
    raw = status_code or "BOOK"
    status = rep.rules.status_of("entry_status", raw)
    value_date = xml_date(value_node, q)
    trade_time = stamp.astimezone(dt.timezone.utc) if stamp is not None and stamp.tzinfo else None
    memo_of_entry = _ptext(e, "AddtlNtryInf")
    money = context()
    for i, (tx, value) in enumerate(parts, start=1):
        tx_ref = _ptext(tx, "Refs/AcctSvcrRef") if tx is not None else None
        ref = tx_ref or (f"{entry_ref}/{i}" if entry_ref and len(parts) > 1 else entry_ref)
        side = "Dbtr" if value >= 0 else "Cdtr"
        memo = None
        if tx is not None:
            ustrd = [" ".join(u.text.split()) for u in tx.findall("RmtInf/Ustrd") if u.text and u.text.strip()]
            memo = " ".join(ustrd) or _ptext(tx, "RmtInf/Strd/CdtrRefInf/Ref", "AddtlTxInf")
        row_fee = fee if len(parts) == 1 else Decimal(0)
        refs = [(f"Ntry/{p}", v) for p, v in entry_refs] + [
            (label, _ptext(tx, path)) for label, path in _TX_REF_PATHS if tx is not None]
        rows.append(Entry(
            statement_id=rep.report_id, account=rep.account, currency=ccy, booking_date=booking,
            amount=money.add(value, row_fee), fee=row_fee, record_type=classify(value, codes, reversal=reversal),
            channel_txn_id=ref or f"{rep.report_id}#{len(rep.ntry_amounts)}.{i}",
            merchant_txn_id=_ptext(tx, "Refs/EndToEndId", "Refs/InstrId", "Refs/MsgId") if tx is not None else None,
            booked=booked, status=status, raw_status=raw,
            value_date=value_date, trade_time=trade_time,
            counterparty=_ptext(tx, f"RltdPties/{side}/Nm", f"RltdPties/{side}/Pty/Nm") if tx is not None else None,
            memo=memo or memo_of_entry, bank_code=bank_code, source_line=line,
            entry_ref=entry_ref, references="; ".join(f"{p}={v}" for p, v in refs if v) or None,
        ))
    return rows
