"""camt's one-regex path for plain entries (`parsers/camt_fast.py`, #24) gives the row `entry_rows`,
the oracle, gives for the same `Ntry`: every column, the report's booked amounts, undated counts,
and the same refusal; its amount shortcut reads exactly what `_decimal` reads."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import event, given
from hypothesis import strategies as st
from lxml import etree

from parsers.balances import ENTRY_FIELDS
from parsers.camt_entries import Report, _decimal, entry_rows
from parsers.camt_fast import _PLAIN_AMOUNT, FastEntries
from recon.errors import StatementRejected
from rules.loader import load_rules

NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
RULES = load_rules("bank")
# Texts as banks write them and as they go wrong: escapes, blanks, NOTPROVIDED, CR, wrapped lines.
_TEXT = st.one_of(
    st.sampled_from(
        ["NOTPROVIDED", "NONREF", " nonref ", "A & B", "x<y>z", "  ", "E2E-1", "Müller & Söhne", "a\r\nb", "a\tb  c"]
    ),
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00"),
        min_size=1,
        max_size=12,
    ).filter(lambda t: all(c in "\t\n\r" or ord(c) >= 0x20 for c in t) and "\ufffe" not in t and "\uffff" not in t),
)
_DAY = st.sampled_from(
    [
        "2026-01-02",
        " 2026-01-03 ",
        "2026-02-30",
        "2026-01-02T23:30:00-02:00",
        "2026-01-02T10:00:00",
        "   ",
        "2026-01-02+01:00",
    ]
)
_AMOUNT = st.sampled_from(
    ["50.00", "0.00", "0", "007.5", "12.345678", "1.", "abc", " 3.10 ", "123456789012345678.12345"]
)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _el(tag: str, text: str | None) -> str:
    return "" if text is None else f"<{tag}>{_esc(text)}</{tag}>"


@st.composite
def entries(draw) -> str:
    opt = lambda s: draw(st.one_of(st.none(), s))  # noqa: E731
    sts = draw(
        st.sampled_from(
            [
                "<Sts>BOOK</Sts>",
                "<Sts><Cd>BOOK</Cd></Sts>",
                "<Sts>\n  <Cd>PDNG</Cd>\n</Sts>",
                "<Sts><Cd> </Cd></Sts>",
                "<Sts>INFO</Sts>",
            ]
        )
    )
    dates = ""
    for tag in ("BookgDt", "ValDt"):
        day = opt(_DAY)
        if day is not None:
            kind = "DtTm" if "T" in day else draw(st.sampled_from(["Dt", "DtTm"]))
            dates += f"<{tag}><{kind}>{_esc(day)}</{kind}></{tag}>"
    codes = draw(
        st.sampled_from(
            [
                "",
                "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ACCB</Cd><SubFmlyCd>CHRG</SubFmlyCd></Fmly></Domn></BkTxCd>",
                "<BkTxCd><Prtry><Cd>NTRF</Cd></Prtry></BkTxCd>",
                "<BkTxCd><Prtry><Cd>chg</Cd><Issr>X</Issr></Prtry></BkTxCd>",
                "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn>"
                "<Prtry><Cd>P</Cd></Prtry></BkTxCd>",
            ]
        )
    )
    details = ""
    if draw(st.booleans()):
        refs = "".join(
            _el(t, opt(_TEXT))
            for t in draw(
                st.lists(st.sampled_from(["EndToEndId", "AcctSvcrRef", "InstrId", "MsgId", "UETR", "TxId"]), max_size=4)
            )
        )
        party = draw(st.sampled_from(["", "Dbtr", "Cdtr"]))
        ustrd = "".join(_el("Ustrd", t) for t in draw(st.lists(_TEXT, max_size=3)))
        details = (
            "<NtryDtls><TxDtls>"
            + (f"<Refs>{refs}</Refs>" if draw(st.booleans()) else "")
            + (f"<RltdPties><{party}><Nm>{_esc(draw(_TEXT))}</Nm></{party}></RltdPties>" if party else "")
            + (f"<RmtInf>{ustrd}</RmtInf>" if ustrd else "")
            + _el("AddtlTxInf", opt(_TEXT))
            + "</TxDtls></NtryDtls>"
        )
    gap = draw(st.sampled_from(["", "\n  "]))
    parts = [
        _el("NtryRef", opt(_TEXT)),
        f'<Amt Ccy="EUR">{_esc(draw(_AMOUNT))}</Amt>',
        _el("CdtDbtInd", draw(st.sampled_from(["CRDT", "DBIT", " CRDT"]))),
        _el("RvslInd", opt(st.sampled_from(["true", " TRUE ", "false", "1"]))),
        sts,
        dates,
        _el("AcctSvcrRef", opt(_TEXT)),
        codes,
        details,
        _el("AddtlNtryInf", opt(_TEXT)),
    ]
    return f"<Ntry>{gap}{gap.join(p for p in parts if p)}{gap}</Ntry>"


def _report(stmt) -> Report:
    return Report(file="f.xml", ns=NS, elem=stmt, line=3, rules=RULES)


def _outcome(entry: str, read) -> tuple:
    """What reading one entry into a fresh report leaves: its columns, the report's sums, or the refusal."""
    doc = (
        f'<Document xmlns="{NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><BkToCstmrStmt><Stmt>'
        "<Id>S-1</Id><CreDtTm>2026-01-02T06:00:00Z</CreDtTm><Acct><Id><IBAN>DE89</IBAN></Id></Acct>"
        f"{entry}</Stmt></BkToCstmrStmt></Document>"
    )
    stmt = etree.fromstring(doc.encode(), etree.XMLParser(resolve_entities=False, remove_comments=True))[0][0]
    rep = _report(stmt)
    try:
        taken = read(stmt[-1], rep)
    except (StatementRejected, ValueError) as exc:
        return ("refused", str(exc))
    cols = rep.columns
    return (taken, [getattr(cols, name) for name in ENTRY_FIELDS], rep.ntry_amounts, rep.undated)


def _fast(elem, rep: Report) -> bool:
    text = etree.tostring(elem, encoding="UTF-8", xml_declaration=False, with_tail=False).decode()
    fast = FastEntries(rep.columns)
    taken = fast.add(text, NS, rep, 7)
    fast.flush()
    return taken


def _oracle(elem, rep: Report) -> bool:
    rep.add_entries(entry_rows(elem, rep, 7))
    return True


@given(entries())
def test_fast_path_equals_entry_rows(entry: str) -> None:
    fast = _outcome(entry, _fast)
    event(f"fast path: {fast[0]}")
    if fast[0] is False:  # not a plain entry: `entry_rows` reads it
        return
    oracle = _outcome(entry, _oracle)
    assert fast == oracle if fast[0] == "refused" else fast[1:] == oracle[1:]


def test_generated_plain_entries_take_the_fast_path() -> None:
    taken = _outcome(
        '<Ntry><Amt Ccy="EUR">5.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>'
        "<BookgDt><Dt>2026-01-02</Dt></BookgDt></Ntry>",
        _fast,
    )
    assert taken[0] is True and taken[1][ENTRY_FIELDS.index("amount")] == [Decimal("5.00")]


@given(st.from_regex(_PLAIN_AMOUNT, fullmatch=True))
def test_plain_amount_reads_as_decimal_does(text: str) -> None:
    assert str(Decimal(text)) == str(_decimal(text))
