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
from parsers.text import decode_strict
from recon.errors import StatementRejected
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


def _encoding(data: bytes) -> str:
    head = data[:1024]
    xml = re.search(rb"<\?xml[^>]*encoding=[\"']([A-Za-z0-9_-]+)", head)
    if xml:
        return xml.group(1).decode()
    charset = re.search(rb"CHARSET:\s*(\S+)", head)
    encoding = re.search(rb"ENCODING:\s*(\S+)", head)
    if encoding and encoding.group(1).upper().replace(b"-", b"") == b"UTF8":
        return "utf-8"
    if charset and charset.group(1).isdigit():
        return f"cp{charset.group(1).decode()}"  # CHARSET:1252 is Windows-1252
    return "cp1252" if charset and charset.group(1).upper() in (b"NONE", b"ISO-8859-1") else "utf-8"


class OfxParser:
    kind = "bank"
    rule_family = "bank"
    format_id = "ofx"
    description = "OFX / QFX bank or credit-card statement (SGML 1.x and XML 2.x)"

    def identify(self, sample: Sample) -> bool:
        head = sample.head[:4096].upper()
        return b"OFXHEADER" in head or re.search(rb"<OFX>", head) is not None

    def parse(self, path: Path, ctx: ParseContext) -> ParsedStatement:
        name = ctx.source_name or str(path)
        data = read_payload(path)
        root = read_tree(decode_strict(data, _encoding(data), name))
        statements = [*root.walk("STMTRS"), *root.walk("CCSTMTRS")]
        if not statements:
            raise StatementRejected(name, None, _why_empty(root), code="empty")
        entries, balances, dates, checks = [], [], {}, []
        for st in statements:
            account = st.value("BANKACCTFROM/ACCTID") or st.value("CCACCTFROM/ACCTID")
            if not account:
                raise StatementRejected(name, st.line, f"{st.tag} has no account id", code="structure")
            try:
                currency = currency_code(st.value("CURDEF") or "")
            except MoneyError as exc:
                raise StatementRejected(name, st.line, f"{st.tag} CURDEF: {exc}", code="structure") from None
            end = st.value("BANKTRANLIST/DTEND") or st.value("LEDGERBAL/DTASOF")
            end_day = ofx_datetime(end, "DTEND", name, st.line)[0] if end else None
            sid = f"{account}@{end_day}" if end_day else account
            found = []
            for n, trn in enumerate(st.walk("STMTTRN"), start=1):
                day, stamp = ofx_datetime(trn.value("DTPOSTED"), "DTPOSTED", name, trn.line)
                amount = _amount(trn.value("TRNAMT"), "TRNAMT", name, trn.line)
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
                day, _ = ofx_datetime(node.value("DTASOF"), f"{tag}/DTASOF", name, node.line)
                balances.append(Balance(account, currency, sid, day, kind, _amount(node.value("BALAMT"), f"{tag}/BALAMT", name, node.line), node.line))
            entries.extend(found)
            dates[sid] = end_day or max((e.booking_date for e in found), default=dt.date.min)
            checks.append(f"statement {sid}: {len(found)} lines; OFX has no opening balance, so no balance chain to check")
        bill = bill_frame(entries, channel=ctx.channel, source_file=name, bill_date=ctx.bill_date, statement_dates=dates)
        return ParsedStatement(bill, balances_frame(balances, channel=ctx.channel, source_file=name), tuple(checks))


def _why_empty(root: Node) -> str:
    if next(root.walk("INVSTMTRS"), None) is not None:
        return "OFX investment statement (INVSTMTRS): securities accounts are not bank cash statements; not supported"
    for status in root.walk("STATUS"):
        if status.value("CODE") not in (None, "0"):
            return f"OFX response carries no statement: status {status.value('CODE')} {status.value('SEVERITY') or ''} {status.value('MESSAGE') or ''}".strip()
    return "OFX file carries no bank or credit-card statement (no STMTRS/CCSTMTRS)"
