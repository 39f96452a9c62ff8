"""camt read straight from expat's element events with each Ntry indexed as it streams (#24): the
safety refusals keep their reasons and lines, and a path answers only from its own element."""

from __future__ import annotations

from pathlib import Path

import pytest

from recon.errors import StatementRejected
from tests.parsers_bank.conftest import parse, write
from tests.parsers_bank.test_camt import doc, ntry, tx


@pytest.mark.parametrize("text, message", [
    (doc(ntry("50.00")).replace("?>", "?>\n<!DOCTYPE Document>", 1),
     "unsafe XML refused: DTDForbidden(name='Document', system_id=None, public_id=None)"),
    (doc(ntry("50.00", details=tx(None, "E", "Acme", "&nbsp;inv"))),
     "not a well-formed, safe XML document: undefined entity: line 2, column 434"),
    (doc(ntry("50.00")).replace("<Ntry>", "<!DOCTYPE x><Ntry>", 1),
     "not a well-formed, safe XML document: not well-formed (invalid token): line 2, column 2"),
])
def test_doctype_and_entities_refused_with_reason_and_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(StatementRejected) as err:
        parse("camt.053", write(tmp_path, "x.xml", text))
    assert (err.value.problem.code, err.value.problem.line, err.value.problem.message) == ("xml", 2, message)


def test_batch_transaction_reads_only_its_own_references(tmp_path: Path) -> None:
    first = tx("30.00", "A", "Ann", "one").replace("<Refs><EndToEndId>A</EndToEndId></Refs>", "")
    parsed = parse("camt.053", write(tmp_path, "b.xml", doc(ntry("50.00", details=first + tx("20.00", "B", "Bob", "two")))))
    assert parsed.bill.select("merchant_txn_id", "counterparty", "memo", "references").rows() == [
        (None, "Ann", "one", "Ntry/AcctSvcrRef=REF-1"),
        ("B", "Bob", "two", "Ntry/AcctSvcrRef=REF-1; TxDtls/Refs/EndToEndId=B"),
    ]


def test_element_of_another_namespace_is_not_read_as_camt(tmp_path: Path) -> None:
    foreign = ntry("50.00").replace("</NtryDtls>", '</NtryDtls><x:AddtlNtryInf xmlns:x="urn:other">foreign</x:AddtlNtryInf>')
    parsed = parse("camt.053", write(tmp_path, "f.xml", doc(foreign)))
    assert parsed.bill.select("memo", "references").rows() == [(None, "Ntry/AcctSvcrRef=REF-1")]
