"""ISO 20022 camt.052 (intraday report), camt.053 (statement), camt.054 (notification).

The three messages share one body: a report (`Rpt`, `Stmt` or `Ntfctn`) with an account, balances
(`Bal`) and entries (`Ntry`); only the root element and the namespace
`urn:iso:std:iso:20022:tech:xsd:camt.05N.001.VV` differ, and the version (.02 to .08 and later) only
moves a few leaves (`Sts` -> `Sts/Cd`, `Dbtr/Nm` -> `Dbtr/Pty/Nm`). Paths are written without a
namespace and resolved against the document's own, so every version goes through the same code.

The file is fed in 1 MiB chunks to lxml (parsers/camt_stream.py: no DTD, no entity, no network,
FAULTS D7; a refusal in expat's words), which hands over each `Ntry` and `Bal` once read and then
detaches it, so a 200,000-entry statement needs memory for its rows, not for its tree. For speed
(#24) a plain entry is read by one regular expression (parsers/camt_fast.py) straight into the
report's columns; any other goes through `entry_rows`. Amounts are Decimal (up to 5 decimals),
signed by `CdtDbtInd`.

Checks: per report and currency, opening (OPBD, else PRCD) + booked entries = closing (CLBD, else
the last ITBD of an intraday report); `TxsSummry` counts and sums when present. A copy or duplicate
(`CpyDplctInd`) is parsed but named in the checks and a warning, so the caller can skip it.

Dialects accepted, and why (issue #19; each has a hand-written test in tests/parsers_bank/test_dialects.py):
* Entries whose transaction details carry their own reference keep the bank's entry reference
  (`Ntry/AcctSvcrRef`, `NtryRef`) in `entry_ref` and every stated reference in `references`: a
  reference the file states is never dropped.
* Entries with no `BookgDt`/`ValDt` take the day the statement states once (report creation time,
  closing balance date, period end, group header), and the checks say which.
* Encodings by the bytes (parsers/xml_encoding.py): undeclared non-UTF-8 bytes are read as
  ISO-8859-1, the stated fallback; a Latin-1/1252 declaration over UTF-8 bytes is read as UTF-8;
  each with a note in the checks and warnings.
"""

from __future__ import annotations

import contextlib
import re
import zipfile
from functools import partial
from pathlib import Path
from typing import IO, Callable, ClassVar, Iterator

from parsers.balances import Balance, BalanceType, BillColumns, balances_frame, concat_bills
from parsers.base import ParseContext, ParsedStatement, Sample
from parsers.camt_entries import AMOUNT as _AMOUNT
from parsers.camt_entries import Report, xml_date
from parsers.camt_stream import CamtReader
from parsers.gc_pause import gc_paused
from parsers.payload import member_file
from parsers.xml_encoding import decided_stream
from recon.errors import Problem, StatementRejected
from recon.money import MoneyError, parse_amount

_NS = re.compile(r"^\{(urn:iso:std:iso:20022:tech:xsd:camt\.(05[234])\.001\.(\d{2}))\}(\w+)$")
_BALANCE_CODES = {
    "OPBD": BalanceType.OPENING, "PRCD": BalanceType.OPENING, "CLBD": BalanceType.CLOSING,
    "CLAV": BalanceType.AVAILABLE, "OPAV": BalanceType.OPENING_AVAILABLE, "FWAV": BalanceType.FORWARD_AVAILABLE,
    "ITBD": BalanceType.INTERIM, "ITAV": BalanceType.INTERIM_AVAILABLE,
}
_MEMBER_LIMIT = 512 << 20


def _again(raw: IO[bytes]) -> IO[bytes]:
    """The document from its first byte once more, decided as before (to word a refusal)."""
    raw.seek(0)
    return decided_stream(raw)[0]


class _CamtParser:
    kind = "bank"
    rule_family = "bank"
    # ISO 20022 amounts carry up to 5 decimals whatever the currency (genkgo five.decimals)
    max_decimals: ClassVar[dict[str, int]] = {"amount": 5, "fee": 5, "net_amount": 5}
    line_based = False  # XML: any line ending is whitespace, NUL is refused by the XML parser
    format_id: ClassVar[str]
    description: ClassVar[str]
    message: ClassVar[str]  # "052", "053", "054"
    root: ClassVar[str]  # BkToCstmrAcctRpt, BkToCstmrStmt, BkToCstmrDbtCdtNtfctn
    report: ClassVar[str]  # Rpt, Stmt, Ntfctn

    def identify(self, sample: Sample) -> bool:
        if sample.members:
            return all(m.lower().endswith(".xml") and re.search(rf"camt\.?{self.message}", m, re.I) for m in sample.members)
        head = sample.head
        versioned = re.search(rb"urn:iso:std:iso:20022:tech:xsd:camt\.(05\d)\.", head)
        if versioned:
            return versioned.group(1).decode() == self.message
        return re.search(rb"<(?:\w+:)?" + self.root.encode() + rb"[\s>]", head) is not None

    def parse(self, path: Path, ctx: ParseContext) -> ParsedStatement:
        name = ctx.source_name or str(path)
        frames = []
        balances: list[Balance] = []
        checks: list[str] = []
        warnings: list[Problem] = []
        # the documents are closed at once, a member's temp file too
        with gc_paused(), contextlib.closing(self._documents(path, name)) as documents:
            for label, raw in documents:
                stream, note = decided_stream(raw)
                if note:
                    checks.append(f"{label}: {note}")
                    warnings.append(Problem(label, 1, note, code="encoding_decided"))
                for rep in self._reports(stream, label, ctx, partial(_again, raw)):
                    checks.extend(rep.check(label, self.message))
                    if rep.copy_duplicate:
                        text = f"report {rep.report_id} is marked {rep.copy_duplicate} (copy/duplicate of an earlier message)"
                        checks.append(text)
                        warnings.append(Problem(label, rep.line, text, code="copy_duplicate"))
                    warnings.extend(rep.warnings)
                    balances.extend(rep.balances)
                    frames.append(rep.columns.frame(channel=ctx.channel, source_file=name, bill_date=ctx.bill_date,
                                                    statement_dates={rep.report_id: rep.report_date()}))
                    rep.columns = BillColumns()
        bill = concat_bills(frames, channel=ctx.channel, source_file=name)
        return ParsedStatement(bill, balances_frame(balances, channel=ctx.channel, source_file=name), tuple(checks), tuple(warnings))

    def _documents(self, path: Path, name: str) -> Iterator[tuple[str, IO[bytes]]]:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                members = sorted(zf.namelist())
            for member in members:  # inflated to a file under the cap (a zip bomb is refused), then streamed
                with member_file(path, member, limit=_MEMBER_LIMIT) as plain, open(plain, "rb") as fh:
                    yield f"{name}!{member}", fh
        else:
            with open(path, "rb") as fh:
                yield name, fh

    def _reports(self, stream: IO[bytes], file: str, ctx: ParseContext,
                 reread: Callable[[], IO[bytes]]) -> Iterator[Report]:
        return CamtReader(self, file, ctx, reread, self._balance).reports(stream)

    def _namespace(self, tag: str, file: str) -> str:
        m = _NS.match(tag)
        if not m or m.group(4) != "Document":
            raise StatementRejected(file, 1, f"root element {tag!r} is not a camt.{self.message} Document", code="format")
        if m.group(2) != self.message:
            raise StatementRejected(file, 1, f"this is camt.{m.group(2)} (version {m.group(3)}), not camt.{self.message}", code="format")
        return m.group(1)

    def _balance(self, elem, rep: Report, file: str, line: int) -> Balance:
        q = rep.q
        code = elem.findtext(q("Tp/CdOrPrtry/Cd")) or "INFO"
        amt = elem.find(q("Amt"))
        if amt is None or not amt.get("Ccy"):
            raise StatementRejected(file, line, f"report {rep.report_id}: balance {code} has no amount/currency", code="structure")
        try:
            value = parse_amount(amt.text or "", _AMOUNT)
        except MoneyError as exc:
            raise StatementRejected(file, line, f"report {rep.report_id}: balance {code}: {exc}", code="amount") from None
        if elem.findtext(q("CdtDbtInd")) == "DBIT" and value:
            value = -value
        day = xml_date(elem.find(q("Dt")), q)
        if day is None:
            raise StatementRejected(file, line, f"report {rep.report_id}: balance {code} has no date", code="structure")
        return Balance(rep.account, amt.get("Ccy"), rep.report_id, day, _BALANCE_CODES.get(code, BalanceType.INFO), value, line)


class Camt052Parser(_CamtParser):
    format_id = "camt.052"
    description = "ISO 20022 camt.052 bank-to-customer account report (intraday)"
    message, root, report = "052", "BkToCstmrAcctRpt", "Rpt"


class Camt053Parser(_CamtParser):
    format_id = "camt.053"
    description = "ISO 20022 camt.053 bank-to-customer statement"
    message, root, report = "053", "BkToCstmrStmt", "Stmt"


class Camt054Parser(_CamtParser):
    format_id = "camt.054"
    description = "ISO 20022 camt.054 debit/credit notification"
    message, root, report = "054", "BkToCstmrDbtCdtNtfctn", "Ntfctn"
