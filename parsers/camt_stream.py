"""Streaming a camt document through lxml (#24), safely, in flat memory, refused in expat's words.

libxml2 builds the tree in C and hands Python only the elements that matter (`Ntry`, `Bal`,
`GrpHdr` and the report's end), each detached and cleared once read, so a 200,000-entry statement
needs memory for its rows, not its tree. The parser is configured as defusedxml's was (FAULTS D7):
no DTD loaded, no entity resolved, no network; a document that carries a DOCTYPE at all is refused
before any of its content is read. Comments and processing instructions are dropped while parsing,
as the expat reader ignored them.

Refusals keep the words users and FAULTS.md know. libxml2 words its errors its own way ("Opening
and ending tag mismatch" where expat says "mismatched tag", other columns), so when lxml refuses a
document, or it has a DOCTYPE, the elements read before the fault are handled as before and the
document is then read once more by defusedxml's expat, whose refusal (`DTDForbidden(...)`,
"undefined entity: line 2, column 434", a truncated file's "no element found: line N, ...") is the
one raised. Were expat to accept what libxml2 refused (a text node over libxml2's 10 MB limit), the
refusal is libxml2's, in the same form.

Lines are libxml2's: the line where an element's start tag ends, expat's where it begins, the same
for the single-line start tags of every bank's file seen; `Ntry`/`Bal` have no attributes to wrap.
"""

from __future__ import annotations

import datetime as dt
from typing import IO, Callable, Iterator

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser
from lxml import etree

from parsers.balances import Balance
from parsers.base import ParseContext
from parsers.camt_entries import Report, _qualify, created_date, entry_rows
from parsers.camt_fast import FastEntries
from recon.errors import StatementRejected

CHUNK = 1 << 20


class _Quiet:
    """An ElementTree target that keeps nothing: expat only checks the document."""

    def data(self, text: str) -> None:
        pass

    def close(self) -> None:
        return None


def expat_refusal(stream: IO[bytes], file: str, check_root: Callable[[str, str], str]) -> StatementRejected | None:
    """What the expat reader said of this document: its refusal, or None when it accepts it.
    The root element's namespace is checked when it starts, as the reader always did."""
    parser = DefusedXMLParser(target=_Quiet(), forbid_dtd=True)  # no DTD, no entities (FAULTS D7)
    expat = parser.parser

    def root(name: str, _attrs: list) -> None:
        expat.StartElementHandler = None
        check_root("{" + name if "}" in name else name, file)

    expat.StartElementHandler = root
    try:
        while chunk := stream.read(CHUNK):
            parser.feed(chunk)
        parser.close()
    except SyntaxError as exc:  # ParseError
        line = getattr(exc, "position", (None,))[0]
        return StatementRejected(file, line, f"not a well-formed, safe XML document: {exc}", code="xml")
    except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden) as exc:
        return StatementRejected(file, expat.CurrentLineNumber, f"unsafe XML refused: {exc}", code="xml")
    return None


class CamtReader:
    """One document's reports, each handed over when it closes (`reports`)."""

    def __init__(
        self,
        owner,
        file: str,
        ctx: ParseContext,
        reread: Callable[[], IO[bytes]],
        balance: Callable[[object, Report, str, int], Balance],
    ) -> None:
        self.owner, self.file, self.ctx, self.reread, self.balance = owner, file, ctx, reread, balance
        self.root = None
        self.ns = ""
        self.report: Report | None = None
        self.report_elem = None
        self.fast: FastEntries | None = None
        self.ready: list[Report] = []
        self.found = False
        self.header_created: dt.date | None = None  # GrpHdr/CreDtTm: the message's own day
        self.report_suffix = "}" + owner.report
        self.expat_accepts = False  # expat was asked about a libxml2 complaint and accepted the document

    def reports(self, stream: IO[bytes]) -> Iterator[Report]:
        names = ("Ntry", "Bal", "GrpHdr", self.owner.report)
        parser = etree.XMLPullParser(
            events=("end",),
            tag=[f"{{*}}{n}" for n in names],
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            remove_comments=True,
            remove_pis=True,
        )
        try:
            while chunk := stream.read(CHUNK):
                parser.feed(chunk)
                self._handle(parser)
                if not self.expat_accepts and parser.error_log.filter_from_errors():
                    self._refuse(None)  # a fault libxml2 reports but reads on past (an unbound prefix)
                ready, self.ready = self.ready, []
                yield from ready
            root = parser.close()
        except etree.XMLSyntaxError as exc:
            self._handle(parser)  # what was read before the fault is handled first, as it was
            self._refuse(exc)
        self._handle(parser)
        if self.root is None:
            self._begin(root)
        yield from self.ready
        if not self.found:
            raise StatementRejected(
                self.file,
                None,
                f"camt.{self.owner.message} document has no {self.owner.report} (no statement content)",
                code="empty",
            )

    def _refuse(self, exc: etree.XMLSyntaxError | None) -> None:
        refusal = expat_refusal(self.reread(), self.file, self.owner._namespace)
        if refusal is not None:
            raise refusal
        if exc is None:
            self.expat_accepts = True
            return
        raise StatementRejected(
            self.file, exc.lineno, f"not a well-formed, safe XML document: {exc.msg}", code="xml"
        ) from None

    def _begin(self, elem) -> None:
        """The first element read: a DOCTYPE is refused before anything else, then the root is checked."""
        tree = elem.getroottree()
        if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
            self._refuse(None)
            raise StatementRejected(
                self.file, None, "unsafe XML refused: a DOCTYPE", code="xml"
            )  # expat refuses one first
        self.root = tree.getroot()
        self.ns = self.owner._namespace(self.root.tag, self.file)

    def _report_of(self, parent) -> Report | None:
        """The open report when `parent` is one (a report element at depth 3), else None."""
        if parent is self.report_elem:
            return self.report
        if parent is None or not parent.tag.endswith(self.report_suffix):
            return None
        above = parent.getparent()
        if above is None or above.getparent() is not self.root:
            return None
        self.report_elem, self.report = (
            parent,
            Report(
                file=self.file,
                ns=self.ns,
                elem=parent,
                line=parent.sourceline,
                rules=self.ctx.rules,
                header_created=self.header_created,
            ),
        )
        self.fast = FastEntries(self.report.columns)
        return self.report

    def _handle(self, parser) -> None:
        for _, elem in parser.read_events():
            if self.root is None:
                self._begin(elem)
            parent = elem.getparent()
            local = elem.tag.rpartition("}")[2]
            if local == "Ntry" or local == "Bal":
                rep = self._report_of(parent)
                if rep is None:
                    continue
                line = elem.sourceline
                try:
                    if local == "Bal":
                        rep.add_balance(self.balance(elem, rep, self.file, line))
                    elif not self.fast.add(
                        etree.tostring(elem, encoding="UTF-8", xml_declaration=False, with_tail=False).decode(),
                        self.ns,
                        rep,
                        line,
                    ):
                        self.fast.flush()  # the rows keep the document's order
                        rep.add_entries(entry_rows(elem, rep, line))
                except ValueError as exc:  # a date the calendar does not have (xml_date names the text)
                    raise StatementRejected(
                        self.file, line, f"report {rep.report_id}: {local}: {exc}", code="syntax"
                    ) from None
                elem.clear()
                parent.remove(elem)  # detach: memory stays flat however long the report
            elif local == "GrpHdr":
                if parent is not None and parent.getparent() is self.root and elem.tag.endswith("}GrpHdr"):
                    self.header_created = created_date(elem, lambda p: _qualify(self.ns, p), self.file, elem.sourceline)
            elif parent is not None and parent.getparent() is self.root:  # the report element closes
                rep = self._report_of(elem)
                if rep is None:
                    continue
                self.fast.flush()
                rep.finish()
                self.ready.append(rep)
                self.report = self.report_elem = None
                self.found = True
                parent.remove(elem)
