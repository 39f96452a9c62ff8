"""ISO 20022 camt.052 (intraday report), camt.053 (statement), camt.054 (notification).

The three messages share one body: a report (`Rpt`, `Stmt` or `Ntfctn`) with an account, balances
(`Bal`) and entries (`Ntry`); only the root element and the namespace
`urn:iso:std:iso:20022:tech:xsd:camt.05N.001.VV` differ, and the version (.02 to .08 and later) only
moves a few leaves (`Sts` -> `Sts/Cd`, `Dbtr/Nm` -> `Dbtr/Pty/Nm`). Paths are written without a
namespace and resolved against the document's own, so every version goes through the same code.

The file is fed in 1 MiB chunks to defusedxml's parser (no DTD, no entity expansion: FAULTS D7)
whose target notes each element's line and detaches each `Ntry` and `Bal` once read, so a 200,000-entry statement needs memory for
its rows, not for its tree. For speed (#24) the target takes expat's element events itself (the
ElementTree parser's per-element Python layer is skipped; defusedxml's DTD/entity handlers stay),
and inside an `Ntry` it only indexes elements by path, which `entry_rows` then reads without ElementPath. Amounts are Decimal (up to 5 decimals), signed by `CdtDbtInd`.

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
import datetime as dt
import re
import zipfile
from pathlib import Path
from typing import IO, ClassVar, Iterator
from xml.etree.ElementTree import TreeBuilder

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser

from parsers.balances import Balance, BalanceType, balances_frame, bill_frame, concat_bills
from parsers.base import ParseContext, ParsedStatement, Sample
from parsers.camt_entries import AMOUNT as _AMOUNT
from parsers.camt_entries import Report, _qualify, created_date, entry_rows, xml_date
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
        with contextlib.closing(self._documents(path, name)) as documents:  # closed at once, a member's temp file too
            for label, stream in documents:
                stream, note = decided_stream(stream)
                if note:
                    checks.append(f"{label}: {note}")
                    warnings.append(Problem(label, 1, note, code="encoding_decided"))
                for rep in self._reports(stream, label, ctx):
                    checks.extend(rep.check(label, self.message))
                    if rep.copy_duplicate:
                        text = f"report {rep.report_id} is marked {rep.copy_duplicate} (copy/duplicate of an earlier message)"
                        checks.append(text)
                        warnings.append(Problem(label, rep.line, text, code="copy_duplicate"))
                    warnings.extend(rep.warnings)
                    balances.extend(rep.balances)
                    frames.append(bill_frame(rep.entries, channel=ctx.channel, source_file=name, bill_date=ctx.bill_date,
                                             statement_dates={rep.report_id: rep.report_date()}))
                    rep.entries.clear()
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

    def _reports(self, stream: IO[bytes], file: str, ctx: ParseContext) -> Iterator[Report]:
        target = _Streamer(self, file, ctx)
        parser = DefusedXMLParser(target=target, forbid_dtd=True)  # no DTD, no entities (FAULTS D7)
        target.attach(parser.parser)
        try:
            while chunk := stream.read(1 << 20):
                parser.feed(chunk)
                yield from target.drain()
            parser.close()
        except SyntaxError as exc:  # ParseError and defusedxml's DTD/entity refusals
            line = getattr(exc, "position", (None,))[0]
            raise StatementRejected(file, line, f"not a well-formed, safe XML document: {exc}", code="xml") from None
        except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden) as exc:
            raise StatementRejected(file, target.expat.CurrentLineNumber, f"unsafe XML refused: {exc}", code="xml") from None
        yield from target.drain()
        if not target.found:
            raise StatementRejected(file, None, f"camt.{self.message} document has no {self.report} (no statement content)", code="empty")

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


class _Streamer:
    """XMLParser target: builds the tree, notes each element's line, hands over each `Ntry`,
    `Bal` and report when it closes and then detaches it, so the tree never grows past one entry."""

    def __init__(self, owner: _CamtParser, file: str, ctx: ParseContext) -> None:
        self.owner, self.file, self.ctx = owner, file, ctx
        self.builder = TreeBuilder()
        self.stack: list[tuple[object, int]] = []
        self.expat = None
        self.ns = ""
        self.report: Report | None = None
        self.ready: list[Report] = []
        self.found = False
        self.header_created: dt.date | None = None  # GrpHdr/CreDtTm: the message's own day
        self.names: dict[str, str] = {}  # expat name -> ElementTree tag, memoised
        self.paths: dict[str, list] | None = None  # the open Ntry's path index, built as it streams
        self.keys: list[str] = []  # path prefixes of the open Ntry's open elements
        self.inner = None  # the (start, end) handlers inside an Ntry, made at the first one
        self.report_suffix = "}" + owner.report

    def attach(self, expat) -> None:
        """Take the element events straight from expat: the ElementTree XMLParser's Python layer
        (`_start`/`_end`/`_fixname` per element) cost more than the parse itself. Only the element
        and text handlers change; defusedxml's DTD, entity and external-reference handlers stay."""
        self.expat = expat
        expat.StartElementHandler = self.start
        expat.EndElementHandler = self.end
        expat.CharacterDataHandler = self.builder.data

    def _name(self, raw: str) -> str:
        """expat's `uri}local` as ElementTree's `{uri}local` (what ElementTree's `_fixname` does)."""
        name = self.names.get(raw)
        if name is None:
            name = self.names[raw] = "{" + raw if "}" in raw else raw
        return name

    def _attrs(self, attr_list: list) -> dict[str, str]:
        attrs = {}
        for i in range(0, len(attr_list), 2):  # expat's ordered attributes: name, value, name, value...
            attrs[self.names.get(attr_list[i]) or self._name(attr_list[i])] = attr_list[i + 1]
        return attrs

    def start(self, raw: str, attr_list: list) -> None:
        tag = self.names.get(raw) or self._name(raw)
        elem = self.builder.start(tag, self._attrs(attr_list) if attr_list else {})
        stack = self.stack
        line = self.expat.CurrentLineNumber
        if not stack:
            self.ns = self.owner._namespace(tag, self.file)
        stack.append((elem, line))
        if len(stack) == 4 and tag.endswith("}Ntry") and tag.startswith("{" + self.ns + "}"):
            self._enter_entry()
        elif len(stack) == 3 and tag.endswith(self.report_suffix):
            self.report = Report(file=self.file, ns=self.ns, elem=elem, line=line, rules=self.ctx.rules,
                                 header_created=self.header_created)

    def _enter_entry(self) -> None:
        """Inside an `Ntry`, lean handlers take over: every element is indexed by its path as it
        arrives (parsers/camt_paths.py) and nothing else happens until the `Ntry` closes."""
        if self.inner is None:
            self.inner = self._entry_handlers()
        self.paths, self.keys = {}, [""]
        self.expat.StartElementHandler, self.expat.EndElementHandler = self.inner

    def _entry_handlers(self):
        names, name, attrs_of, builder = self.names, self._name, self._attrs, self.builder
        qualified = "{" + self.ns + "}"
        cut, expat, outer_end = len(qualified), self.expat, self.end

        def start(raw: str, attr_list: list) -> None:
            tag = names.get(raw) or name(raw)
            elem = builder.start(tag, attrs_of(attr_list) if attr_list else {})
            keys, paths = self.keys, self.paths
            key = keys[-1] + (tag[cut:] if tag.startswith(qualified) else tag)
            found = paths.get(key)
            if found is None:
                paths[key] = [elem]
            else:
                found.append(elem)
            keys.append(key + "/")

        def end(raw: str) -> None:
            keys = self.keys
            if len(keys) == 1:  # the Ntry itself closes: back to the outer handlers
                expat.StartElementHandler, expat.EndElementHandler = self.start, self.end
                outer_end(raw)
                return
            builder.end(names.get(raw) or name(raw))
            keys.pop()

        return start, end

    def end(self, raw: str) -> None:
        tag = self.names.get(raw) or self._name(raw)
        elem = self.builder.end(tag)
        _, line = self.stack.pop()
        rep, depth = self.report, len(self.stack)
        if depth > 3:
            return  # inside a balance: read when it closes
        if depth == 2 and tag.endswith("}GrpHdr"):
            self.header_created = created_date(elem, lambda p: _qualify(self.ns, p), self.file, line)
        paths = None
        if depth == 3:
            paths, self.paths = self.paths, None  # the closing Ntry's index (None for anything else)
        if rep is None or depth < 2:
            return
        local = tag.rsplit("}", 1)[-1]
        try:
            if depth == 3 and local == "Ntry":
                rep.add_entries(entry_rows(elem, rep, line, paths))
            elif depth == 3 and local == "Bal":
                rep.add_balance(self.owner._balance(elem, rep, self.file, line))
        except ValueError as exc:  # a date the calendar does not have (xml_date names the text)
            raise StatementRejected(self.file, line, f"report {rep.report_id}: {local}: {exc}", code="syntax") from None
        if depth == 3 and local in ("Ntry", "Bal"):
            pass  # handled above; detached below
        elif depth == 2 and local == self.owner.report:
            rep.finish()
            self.ready.append(rep)
            self.report, self.found = None, True
        else:
            return
        self.stack[-1][0].remove(elem)  # detach: memory stays flat however long the report

    def data(self, text: str) -> None:
        self.builder.data(text)

    def close(self):
        return self.builder.close()

    def drain(self) -> Iterator[Report]:
        ready, self.ready = self.ready, []
        return iter(ready)


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
