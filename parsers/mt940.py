"""SWIFT MT940 (end-of-day statement) and MT942 (interim report) -> standardized bill + balances.

A file is a stream of `:tag:value` records, possibly wrapped in a SWIFT envelope (`{1:..}{4:` ...
`-}`), a bank header (`ABNANL2A`/`940`/`ABNANL2A`, `:940:`), SOH/ETX framing (mBank) or a DOS
end-of-file byte. Everything outside tags is skipped; a line that is not a tag continues the tag
before it (wrapped :86:, the :61: supplementary line, a Sparkasse newline before the amount).
Each `:20:` starts a statement; tags are parsed by the classes in `mt940_tags`.

Banks bend the format in known ways. A `Dialect` names one bend, says why, declares the file's code
page and substitutes tag classes; it is chosen by a byte signature, never by `if bank == ...`.

Every MT940 statement must balance: opening (:60F:/:60M:) + entries = closing (:62F:/:62M:),
exactly; an MT942 report must agree with its own :90D:/:90C: counts and sums. A break rejects the
whole file naming the statement (FAULTS A22); the caller quarantines it.

Dialects accepted, and why (issue #19; tests in tests/parsers_bank/test_dialects.py):
* an end-of-message line written ` -` (indented): a lone hyphen is never continuation text;
* MT942 with the older `:13:` date-time (YYMMDDHHMM, no UTC offset) that German FinTS banks send:
  read as the bank's naive local time, informational only;
* encodings by the bytes: a file valid as UTF-8 is UTF-8 whatever its dialect says (an mBank export
  re-saved as UTF-8), a file not valid in the dialect's UTF-8 is Windows-1252, the stated fallback;
  both are noted in the checks and warnings; U+FFFD (damage by an earlier lossy decoder) is refused.
Refused, and why: an amount finer than its currency's minor unit (`JPY1000,5`: money that cannot
exist; every such line named), an amount with more than 18 significant integer digits (damage, and
it would overflow the bill's decimals). Messages name the tag at fault (`:62F:`, not `:60F:`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Iterator, Mapping

from parsers import mt940_tags as T
from parsers.balances import BalanceType, balances_frame, concat_bills
from parsers.base import ParseContext, ParsedStatement, Sample
from parsers.mt940_statement import Statement, build_statement
from parsers.registry import read_payload
from parsers.encoding import decide
from parsers.gc_pause import gc_paused
from recon.errors import Problem, StatementRejected


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str
    why: str
    encoding: str = "utf-8"
    signature: re.Pattern[bytes] | None = None
    tags: Mapping[str, T.Tag] = field(default_factory=lambda: T.STANDARD_TAGS)


SWIFT = Dialect("swift", "the standard layout; UTF-8 (a superset of the SWIFT X character set)")
DIALECTS: tuple[Dialect, ...] = (
    Dialect(
        "rabobank-legacy",
        "pre-2014 Rabobank exports start with a ':940:' line and write amounts with a decimal point",
        signature=re.compile(rb"\A\s*:940:\s*$", re.M),
        tags={**T.STANDARD_TAGS, **{t: T.RaboLegacyBalance(t) for t in ("60F", "62F", "60M", "62M", "64", "65")},
              "61": T.RaboLegacyStatementLine()},
    ),
    Dialect(
        "raiffeisen-hu",
        "Raiffeisen Hungary (BIC UBRTHUHB) exports in DOS code page 852",
        encoding="cp852",
        signature=re.compile(rb":25:UBRTHUHB"),
    ),
    Dialect(
        "zenith-ng",
        "Zenith Bank Nigeria (BIC ZEIBNGLA) leaves out the :61: transaction type",
        signature=re.compile(rb"\{2:[IO]940ZEIBNGLA"),
        tags={**T.STANDARD_TAGS, "61": T.UntypedStatementLine()},
    ),
    Dialect(
        "mbank",
        "mBank frames each message with SOH/ETX bytes; Polish banks export Windows-1250",
        encoding="cp1250",
        signature=re.compile(rb"\A\x01"),
    ),
)

# A space before the closing colon (":86 :") occurs in ING's own test exports.
_TAG_LINE = re.compile(r"^:(?P<tag>\d{2}[A-Z]?|NS) ?:(?P<value>.*)$")
# Some exporters indent the end-of-message line (" -"): still the end, not a continuation, since a
# continuation line never consists of a lone hyphen.
_INDENTED_END = re.compile(r"^\s+-(?:\}.*)?\s*$")
_FALLBACK = "cp1252"  # the stated fallback for a file that is not the dialect's UTF-8
_FRAMING = "\x01\x03\x1a"  # SOH, ETX (mBank), SUB (DOS end of file): framing, not content


def pick_dialect(data: bytes, file: str) -> Dialect:
    head = data[:4096]
    found = [d for d in DIALECTS if d.signature is not None and d.signature.search(head)]
    if len(found) > 1:
        raise StatementRejected(file, None, f"MT940 dialect is ambiguous: {', '.join(d.name for d in found)}", code="dialect")
    return found[0] if found else SWIFT


@dataclass(slots=True)
class Record:
    tag: str
    value: str
    line: int


def _lines(text: str) -> Iterator[str]:
    """Lines one at a time: neither a list of a million lines nor a StringIO copy (4 bytes/char)."""
    start, end = 0, len(text)
    while start < end:
        stop = text.find("\n", start)
        stop = end if stop < 0 else stop
        yield text[start:stop]
        start = stop + 1


def tokenize(text: str) -> Iterator[Record]:
    """Tag records with their first line number; envelope, headers and framing are skipped."""
    current: Record | None = None
    match = _TAG_LINE.match
    for number, raw in enumerate(_lines(text), start=1):
        line = raw.rstrip("\r").strip(_FRAMING)
        if "{4:" in line:  # SWIFT envelope: blocks 1-3 then the text block on the same line
            line = line.split("{4:", 1)[1]
        if not line.strip():
            continue  # blank and space-padded lines (ASN pads to 65 columns)
        m = match(line)
        if m:
            if current:
                yield current
            current = Record(*m.group("tag", "value"), number)
        elif line.startswith("-") or _INDENTED_END.match(line):  # end of message ("-", "-}", "-}{5:...}", " -")
            if current:
                yield current
            current = None
        elif current is not None:
            # keep trailing spaces: a line wrapped at 65 columns may end inside a sentence
            current.value += "\n" + line
        # else: a bank header or junk between messages
    if current:
        yield current


class _Base:
    kind = "bank"
    rule_family = "bank"
    format_id: ClassVar[str]
    description: ClassVar[str]
    message_type: ClassVar[str]

    def parse(self, path: Path, ctx: ParseContext) -> ParsedStatement:
        with gc_paused():
            return self._parse(path, ctx)

    def _parse(self, path: Path, ctx: ParseContext) -> ParsedStatement:
        name = ctx.source_name or str(path)
        data = read_payload(path)
        dialect = pick_dialect(data, name)
        # The bytes decide (parsers/encoding.py): a cp1250 dialect's file exported as UTF-8 is read as
        # UTF-8, and a standard file that is not UTF-8 is read as Windows-1252 (German and Dutch
        # banks' umlauts in :86:), each with a note; U+FFFD and undecodable bytes are still refused.
        decoded = decide(data, dialect.encoding, name, fallback=_FALLBACK, label=f"the {dialect.name} dialect's {dialect.encoding}")
        text = decoded.text
        del data  # the text is all we need from here on
        checks = [f"dialect {dialect.name}: {dialect.why}"]
        early_warnings = []
        if decoded.note:
            checks.append(f"encoding: {decoded.note}")
            early_warnings.append(Problem(name, 1, decoded.note, code="encoding_decided"))
        frames, balances, dates, warnings = [], [], {}, early_warnings
        previous: dict[tuple[str, str], T.BalanceValue] = {}
        refused: list[StatementRejected] = []  # every statement's refusal, so the file's are listed together
        for st in self.statements(text, dialect, name, ctx, collect=True):
            if isinstance(st, StatementRejected):
                refused.append(st)
                continue
            try:
                checks.extend(st.check(name, self.message_type))
            except StatementRejected as exc:
                refused.append(exc)
                continue
            key = (st.account, st.currency)
            if st.opening is not None and key in previous and previous[key].amount != st.opening.amount:
                warnings.append(st.chain_warning(name, previous[key]))
            if st.closing is not None:
                previous[key] = st.closing
            dates[st.statement_id] = st.statement_date()
            frames.append(st.rows.frame(channel=ctx.channel, source_file=name, bill_date=ctx.bill_date,
                                        statement_dates={st.statement_id: dates[st.statement_id]}))
            balances.extend(st.balances())
        if refused:
            raise StatementRejected.of([p for r in refused for p in r.problems], sum(r.problem_count for r in refused))
        if not dates:
            raise StatementRejected(name, None, f"no MT{self.message_type} statement (no :20: ... :25: block)", code="empty")
        return ParsedStatement(
            bill=concat_bills(frames, channel=ctx.channel, source_file=name),
            balances=balances_frame(balances, channel=ctx.channel, source_file=name),
            checks=tuple(checks),
            warnings=tuple(warnings),
        )

    def statements(self, text: str, dialect: Dialect, name: str, ctx: ParseContext, *,
                   collect: bool = False) -> Iterator[Statement | StatementRejected]:
        """The file's statements, parsed but not yet checked (tests compare them with peers). With
        `collect`, a statement that cannot be built is yielded as its refusal and reading goes on,
        so a file's refusal names the faults of every statement, not only the first."""
        block: list[Record] = []
        for rec in tokenize(text):
            if rec.tag == "20" and block:
                yield self._build(block, dialect, name, ctx, collect)
                block = []
            if not block and rec.tag != "20":
                raise StatementRejected(name, rec.line, f":{rec.tag}: outside a statement (a statement starts with :20:)", code="structure")
            block.append(rec)
        if block:
            yield self._build(block, dialect, name, ctx, collect)

    def _build(self, block: list[Record], dialect: Dialect, name: str, ctx: ParseContext, collect: bool) -> Statement | StatementRejected:
        try:
            return build_statement(block, dialect.tags, name, ctx.rules, self.message_type)
        except StatementRejected as exc:
            if not collect:
                raise
            return exc


_MT942_MARKS = re.compile(rb"^:(?:34F|13D|90[DC]):", re.M)
_MT940_MARKS = re.compile(rb"^:6[02][FM]:", re.M)
_STATEMENT_START = re.compile(rb"^\W{0,3}(?:\{4:\s*)?:20:", re.M)


def _claims(sample: Sample, *, interim: bool) -> bool:
    head = sample.head
    if not _STATEMENT_START.search(head) or not re.search(rb"^:25:", head, re.M):
        return False
    envelope = re.search(rb"\{2:[IO](94[0-2])", head)
    if envelope:
        return envelope.group(1) == (b"942" if interim else b"940")
    is_942 = bool(_MT942_MARKS.search(head)) and not _MT940_MARKS.search(head)
    return is_942 if interim else bool(_MT940_MARKS.search(head)) and not is_942


class Mt940Parser(_Base):
    format_id = "mt940"
    description = "SWIFT MT940 customer statement (also MultiCash .sta, bank dialects)"
    message_type = "940"

    def identify(self, sample: Sample) -> bool:
        return _claims(sample, interim=False)


class Mt942Parser(_Base):
    format_id = "mt942"
    description = "SWIFT MT942 interim transaction report"
    message_type = "942"

    def identify(self, sample: Sample) -> bool:
        return _claims(sample, interim=True)


__all__ = ["Mt940Parser", "Mt942Parser", "DIALECTS", "SWIFT", "tokenize", "BalanceType"]
