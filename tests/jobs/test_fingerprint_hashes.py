"""A run hashes each version of a file once (issue #24): the day's stages fingerprint the same bills
and results again, and only a new version of a file is read again."""

from __future__ import annotations

import os
from pathlib import Path
from unittest import mock

from jobs import fingerprints
from recon.files import atomic_path, sha256_file


def _hashes(paths: list[Path]) -> tuple[list[str], int]:
    with mock.patch.object(fingerprints, "sha256_file", wraps=sha256_file) as spy:
        found = [fingerprints.sha256_of(p) for p in paths]
    return found, spy.call_count


def test_within_a_run_a_file_is_read_once_per_version(tmp_path: Path) -> None:
    bill = tmp_path / "bill.parquet"
    bill.write_bytes(b"one")
    with fingerprints.hashed_once():
        first, reads = _hashes([bill, bill, bill])
        assert reads == 1 and len(set(first)) == 1
        with atomic_path(bill) as tmp:  # how every stage writes its outputs: a new file renamed into place
            tmp.write_bytes(b"two")
        second, reads = _hashes([bill, bill])
        assert reads == 1 and second[0] == sha256_file(bill) != first[0]
        with open(bill, "ab") as fh:  # an edit in place: another size and time
            fh.write(b"!")
        third, _ = _hashes([bill])
        assert third[0] == sha256_file(bill) != second[0]


def test_outside_a_run_every_call_reads_the_file(tmp_path: Path) -> None:
    raw = tmp_path / "raw.csv"
    raw.write_bytes(b"abc")
    _, reads = _hashes([raw, raw])
    assert reads == 2
    with fingerprints.hashed_once():
        pass
    raw.write_bytes(b"abd")  # same size; the run that memoised it is over
    os.utime(raw, ns=(0, 0))
    assert fingerprints.sha256_of(raw) == sha256_file(raw)
