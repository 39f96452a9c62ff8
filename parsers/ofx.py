"""OFX / QFX bank and credit-card statements (SGML 1.x and XML 2.x) -> standardized bill + balances.

OFX 1.x is SGML: a `KEY:VALUE` header (`CHARSET:1252` names the code page), then tags whose leaf
elements are usually left unclosed (`<TRNAMT>-13.00`) while aggregates close. OFX 2.x is XML with
the same elements, so one tolerant reader serves both: a tag followed by text is a leaf (its closing
tag optional), a tag followed by a tag opens an aggregate, and a closing tag closes everything
opened since its match. No XML parser runs, so there is no DTD or entity expansion to defuse; only
the five predefined entities and numeric character references are decoded.

Statements are `STMTRS` (bank) and `CCSTMTRS` (credit card); one file may hold several accounts.
`TRNAMT` is signed (a decimal comma occurs: ofxtools `stmtrs_euro`); dates are
`YYYYMMDD[HHMMSS[.XXX]][ [±h[.mm]:TZ]]`, GMT when no offset is written. The booking date is the
date as written, never shifted through UTC (Expensify PR #97629). OFX carries no opening balance,
so only `LEDGERBAL` (CLOSING) and `AVAILBAL` (AVAILABLE) are recorded and no chain check is
possible. Investment statements (`INVSTMTRS`) and sign-on or server errors are rejected by name.

Dialects accepted, and why (issue #19; tests in tests/parsers_bank/test_dialects.py):
* `CHARSET:1252` over UTF-8 bytes: the bytes decide (parsers/encoding.py) and a warning says so.
* Empty leaf elements (`<BALAMT>` with no value): the reader closes a known leaf when the next tag
  opens; an empty balance amount states no balance, so that balance is left out with a warning.
* `DTASOF` of `00000000`: states no date; the balance takes the statement's DTEND, with a warning.
* No `BANKACCTFROM`/`CCACCTFROM`: the account the channel's configuration names, said in the checks.
Messages name the element path (`STMTTRN/TRNAMT`, `LEDGERBAL/BALAMT`) and the element's own line.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from parsers.balances import Balance, BalanceType, Entry, balances_frame, bill_frame, classify
from parsers.base import ParseContext, ParsedStatement, Sample
from parsers.registry import read_payload
from parsers.encoding import decide
from recon.errors import Problem, StatementRejected
from recon.money import AmountGrammar, MoneyError, currency_code, parse_amount

_TOKEN = re.compile(r"<(/?)([A-Za-z0-9.]+)>|<\?[^>]*\?>|<!--.*?-->|([^<]+)", re.S)
_DATE = re.compile(
    r"""^(?P<y>\d{4})(?P<mo>\d{2})(?P<d>\d{2})
        (?:(?P<h>\d{2})(?P<mi>\d{2})?(?P<s>\d{2})?(?:\.\d{1,6})?)?   # time, seconds and millis optional
        \s*(?:\[?\s*(?P<off>[+-]?\d{1,2}(?:[.:]\d{2})?)?(?::?\s*(?P<tz>[A-Za-z]+))?\]?)?\s*$""",
    re.X,
)
_POINT = AmountGrammar(decimal_sep=".")
_COMMA = AmountGrammar(decimal_sep=",")
# OFX leaf elements (data elements) of sign-on, bank and credit-card statements. SGML leaves close
# implicitly, so an *empty* leaf (`<BALAMT>` then `<DTASOF>`, ofxparse fail_nice) looks like an
# aggregate opening; naming the leaves lets the reader close an empty one instead of nesting the
# rest of the block inside it (which then made the error name the wrong element).
_LEAVES = frozenset("""CODE SEVERITY MESSAGE DTSERVER LANGUAGE DTPROFUP DTACCTUP ORG FID SESSCOOKIE USERKEY TSKEYEXPIRE
    TRNUID CLTCOOKIE CURDEF BANKID BRANCHID ACCTID ACCTTYPE ACCTKEY DTSTART DTEND TRNTYPE DTPOSTED DTUSER DTAVAIL
    TRNAMT FITID CORRECTFITID CORRECTACTION SRVRTID CHECKNUM REFNUM SIC PAYEEID NAME EXTDNAME MEMO INV401KSOURCE
    CURRATE CURSYM BALAMT DTASOF MKTGINFO INTU.BID INTU.USERID ADDR1 ADDR2 ADDR3 CITY STATE POSTALCODE COUNTRY PHONE
    DESC BALTYPE VALUE""".split())
_ENTITY = re.compile(r"&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);")


@dataclass(slots=True)
class Node:
    tag: str
    line: int
    text: str | None = None
    children: list[Node] = field(default_factory=list)

    def find(self, path: str) -> Node | None:
        node: Node | None = self
        for part in path.split("/"):
            node = next((c for c in node.children if c.tag == part), None) if node else None
        return node

    def value(self, path: str) -> str | None:
        node = self.find(path)
        return node.text.strip() if node is not None and node.text and node.text.strip() else None

    def walk(self, tag: str):
        for child in self.children:
            if child.tag == tag:
                yield child
            yield from child.walk(tag)


def read_tree(text: str) -> Node:
    root = Node("#root", 1)
    stack = [root]
    line = 1
    pending: Node | None = None  # the last opened tag, until we know if it is a leaf
    for m in _TOKEN.finditer(text):
        closing, tag, data = m.group(1), m.group(2), m.group(3)
        if tag:
            tag = tag.upper()
            if closing:
                names = [n.tag for n in stack]
                if tag in names:
                    del stack[names.index(tag):]  # also closes unclosed leaves/aggregates opened since
                elif pending is None or pending.tag != tag:
                    pass  # a stray closing tag (SGML leaf closed in 1.x style): harmless
                pending = None
            else:
                if pending is not None and pending is stack[-1] and pending.tag in _LEAVES:
                    stack.pop()  # the previous leaf was empty: it closes here, it does not contain this tag
                node = Node(tag, line)
                stack[-1].children.append(node)
                stack.append(node)
                pending = node
        elif data is not None and data.strip() and pending is not None and pending is stack[-1]:
            pending.text = _ENTITY.sub(lambda e: html.unescape(e.group(0)), data.strip())
            stack.pop()  # a leaf: its closing tag, if any, is optional
            pending = None
        line += m.group(0).count("\n")
    return root


def ofx_datetime(text: str | None, what: str, file: str, line: int) -> tuple[dt.date, dt.datetime | None]:
    """(date as written, UTC instant or None when no time of day is given)."""
    if not (text or "").strip():
        raise StatementRejected(file, line, f"{what} is missing or empty: not an OFX date", code="syntax")
    m = _DATE.match(text or "")
    try:
        if not m:
            raise ValueError
        day = dt.date(int(m["y"]), int(m["mo"]), int(m["d"]))
        if m["h"] is None:
            return day, None
        off = m["off"] or "0"
        sign = -1 if off.startswith("-") else 1
        hours, _, minutes = off.lstrip("+-").replace(".", ":").partition(":")
        zone = dt.timezone(sign * dt.timedelta(hours=int(hours), minutes=int(minutes or 0)))
        local = dt.datetime(day.year, day.month, day.day, int(m["h"]), int(m["mi"] or 0), int(m["s"] or 0), tzinfo=zone)
        return day, local.astimezone(dt.timezone.utc)
    except ValueError:
        raise StatementRejected(file, line, f"{what} {text!r} is not an OFX date (YYYYMMDD[HHMMSS[.XXX]][±h:TZ])", code="syntax") from None


def _amount(text: str | None, what: str, file: str, line: int):
    raw = (text or "").strip()
    grammar = _COMMA if "," in raw and "." not in raw else _POINT
    try:
        return parse_amount(raw, grammar)
    except MoneyError as exc:
        raise StatementRejected(file, line, f"{what}: {exc}", code="amount") from None


def _encoding(data: bytes) -> tuple[str, str]:
    """(declared encoding, how the file said it): the label only; parse() decides by the bytes."""
    head = data[:1024]
    xml = re.search(rb"<\?xml[^>]*encoding=[\"']([A-Za-z0-9_-]+)", head)
    if xml:
        return xml.group(1).decode(), f"encoding={xml.group(1).decode()!r}"
    charset = re.search(rb"CHARSET:\s*(\S+)", head)
    encoding = re.search(rb"ENCODING:\s*(\S+)", head)
    if encoding and encoding.group(1).upper().replace(b"-", b"") == b"UTF8":
        return "utf-8", "ENCODING:UTF-8"
    if charset and charset.group(1).isdigit():
        return f"cp{charset.group(1).decode()}", f"CHARSET:{charset.group(1).decode()}"  # CHARSET:1252 is Windows-1252
    if charset and charset.group(1).upper() in (b"NONE", b"ISO-8859-1"):
        return "cp1252", f"CHARSET:{charset.group(1).decode()}"
    return "utf-8", "no charset (UTF-8)"


class OfxParser:
    kind = "bank"
    rule_family = "bank"
    format_id = "ofx"
    line_based = False  # tags, not lines: CR-only OFX reads the same
    description = "OFX / QFX bank or credit-card statement (SGML 1.x and XML 2.x)"

    def identify(self, sample: Sample) -> bool:
        head = sample.head[:4096].upper()
        return b"OFXHEADER" in head or re.search(rb"<OFX>", head) is not None

    def parse(self, path: Path, ctx: ParseContext) -> ParsedStatement:
        name = ctx.source_name or str(path)
        data = read_payload(path)
        declared, label = _encoding(data)
        decoded = decide(data, declared, name, fallback="cp1252", label=label)  # CP1252 bytes under ENCODING:UTF-8 (libofx#72)
        root = read_tree(decoded.text)
        statements = [*root.walk("STMTRS"), *root.walk("CCSTMTRS")]
        if not statements:
            raise StatementRejected(name, None, _why_empty(root), code="empty")
        entries, balances, dates, checks, warnings = [], [], {}, [], []
        if decoded.note:
            checks.append(f"encoding: {decoded.note}")
            warnings.append(Problem(name, 1, decoded.note, code="encoding_decided"))
        for st in statements:
            account = st.value("BANKACCTFROM/ACCTID") or st.value("CCACCTFROM/ACCTID")
            if not account and ctx.account:
                # Some exporters leave the account block out of a one-account download; the channel's
                # configuration names the account, so the statement is that account's (said in the checks).
                account = ctx.account
                checks.append(f"{st.tag} at line {st.line} has no BANKACCTFROM/CCACCTFROM; account {account} from the channel's configuration")
            if not account:
                raise StatementRejected(name, st.line, f"{st.tag} has no BANKACCTFROM/ACCTID or CCACCTFROM/ACCTID, and the channel "
                                        "configures no account", code="structure")
            try:
                currency = currency_code(st.value("CURDEF") or "")
            except MoneyError as exc:
                raise StatementRejected(name, st.line, f"{st.tag} CURDEF: {exc}", code="structure") from None
            end = st.value("BANKTRANLIST/DTEND") or st.value("LEDGERBAL/DTASOF")
            end_day = ofx_datetime(end, "DTEND", name, st.line)[0] if end else None
            sid = f"{account}@{end_day}" if end_day else account
            found = []
            for n, trn in enumerate(st.walk("STMTTRN"), start=1):
                day, stamp = ofx_datetime(trn.value("DTPOSTED"), "STMTTRN/DTPOSTED", name, _line(trn, "DTPOSTED"))
                amount = _amount(trn.value("TRNAMT"), "STMTTRN/TRNAMT", name, _line(trn, "TRNAMT"))
                name_, memo = trn.value("NAME") or trn.value("PAYEE/NAME"), trn.value("MEMO")
                found.append(Entry(
                    statement_id=sid, account=account, currency=currency, booking_date=day, amount=amount,
                    record_type=classify(amount, (trn.value("TRNTYPE"),)),
                    channel_txn_id=trn.value("FITID") or f"{sid}#{n}", merchant_txn_id=trn.value("REFNUM"),
                    status=ctx.rules.status_of("entry_status", "BOOK"), raw_status="BOOK", trade_time=stamp,
                    counterparty=name_, memo=" / ".join(p for p in (name_, memo) if p) or None,
                    bank_code=trn.value("TRNTYPE"), source_line=trn.line,
                ))
            for tag, kind in (("LEDGERBAL", BalanceType.CLOSING), ("AVAILBAL", BalanceType.AVAILABLE)):
                node = st.find(tag)
                if node is None:
                    continue
                balance = _balance(node, kind, account, currency, sid, end_day, name, warnings)
                if balance is not None:
                    balances.append(balance)
            entries.extend(found)
            dates[sid] = end_day or max((e.booking_date for e in found), default=dt.date.min)
            checks.append(f"statement {sid}: {len(found)} lines; OFX has no opening balance, so no balance chain to check")
        bill = bill_frame(entries, channel=ctx.channel, source_file=name, bill_date=ctx.bill_date, statement_dates=dates)
        return ParsedStatement(bill, balances_frame(balances, channel=ctx.channel, source_file=name), tuple(checks), tuple(warnings))


def _line(node: Node, tag: str) -> int:
    child = node.find(tag)
    return child.line if child is not None else node.line


def _balance(node: Node, kind: BalanceType, account: str, currency: str, sid: str, end_day: dt.date | None,
             file: str, warnings: list[Problem]) -> Balance | None:
    """LEDGERBAL/AVAILBAL as a balance, or None (with a warning) when the file states no amount.

    An empty `<BALAMT>` states no balance: the transactions are intact, so the balance is left out
    and said so. A `DTASOF` of `00000000` (a "no date" filler some exporters write) states no date:
    the balance is dated by the statement's DTEND when there is one, else left out.
    """
    tag = node.tag
    raw_amount = node.value("BALAMT")
    if raw_amount is None:
        warnings.append(Problem(file, _line(node, "BALAMT"), f"{tag}/BALAMT is empty: the file states no {tag} balance; not recorded", code="no_balance"))
        return None
    amount = _amount(raw_amount, f"{tag}/BALAMT", file, _line(node, "BALAMT"))
    raw_day = node.value("DTASOF")
    if raw_day is None or raw_day.strip("0") == "":
        if end_day is None:
            warnings.append(Problem(file, _line(node, "DTASOF"), f"{tag}/DTASOF {raw_day!r} states no date and the statement has "
                                    "no DTEND; balance not recorded", code="no_balance"))
            return None
        warnings.append(Problem(file, _line(node, "DTASOF"), f"{tag}/DTASOF {raw_day!r} states no date; balance dated by "
                                f"BANKTRANLIST/DTEND {end_day}", code="balance_date"))
        day = end_day
    else:
        day, _ = ofx_datetime(raw_day, f"{tag}/DTASOF", file, _line(node, "DTASOF"))
    return Balance(account, currency, sid, day, kind, amount, node.line)


def _why_empty(root: Node) -> str:
    if next(root.walk("INVSTMTRS"), None) is not None:
        return "OFX investment statement (INVSTMTRS): securities accounts are not bank cash statements; not supported"
    for status in root.walk("STATUS"):
        if status.value("CODE") not in (None, "0"):
            return f"OFX response carries no statement: status {status.value('CODE')} {status.value('SEVERITY') or ''} {status.value('MESSAGE') or ''}".strip()
    return "OFX file carries no bank or credit-card statement (no STMTRS/CCSTMTRS)"
