"""Which parser reads a file: plugins by entry point, identification by content.

Every format registers under the `recon.parsers` entry point group, the built-ins included, so a
third-party format installs exactly like ours. A file is identified by asking every parser; a file
claimed by none is "unknown format", and a file claimed by two is an error that lists both (as in
beangulp): first-match-wins would make the result depend on plugin load order.
"""

from __future__ import annotations

import dataclasses
import gzip
import mmap
import zipfile
import zlib
from functools import lru_cache
from importlib.metadata import entry_points
from pathlib import Path

from parsers.base import SAMPLE_BYTES, ParseContext, ParsedStatement, Sample, StatementParser, sensitive_id_fields
from parsers.payload import MAX_STATEMENT_BYTES, open_member_bytes, plain_statement, read_payload  # noqa: F401 (re-exported)
from recon.errors import ConfigError, ReconError, StatementRejected
from recon.money import exponent
from recon.redact import FREE_TEXT_COLUMNS
from recon.schema import conform, mask_free_text, standard_problems, validate_bill

GROUP = "recon.parsers"


class PluginError(ReconError):
    """A parser plugin failed to load: an installation problem, not a data problem."""


@lru_cache(maxsize=1)
def _entry_points() -> dict[str, object]:
    found = {}
    for ep in entry_points(group=GROUP):
        if ep.name in found:
            raise PluginError(f"two plugins register parser {ep.name!r}: {found[ep.name].value} and {ep.value}")
        found[ep.name] = ep
    return found


def format_ids() -> list[str]:
    return sorted(_entry_points())


@lru_cache(maxsize=None)
def get_parser(format_id: str) -> StatementParser:
    ep = _entry_points().get(format_id)
    if ep is None:
        raise ConfigError(f"unknown format {format_id!r} (known: {', '.join(format_ids())})")
    try:
        parser = ep.load()()  # type: ignore[attr-defined]
    except Exception as exc:  # plugin boundary: any import failure is reported as the plugin's
        raise PluginError(f"parser plugin {format_id!r} ({ep.value}) failed to load: {exc}") from exc  # type: ignore[attr-defined]
    if not isinstance(parser, StatementParser) or parser.format_id != format_id:
        raise PluginError(f"parser plugin {format_id!r} does not implement the parser protocol")
    return parser


def sample(path: Path) -> Sample:
    """The first bytes of a file (gunzipped when gzip) and, for a zip, its member names."""
    with open(path, "rb") as fh:
        head = fh.read(SAMPLE_BYTES)
    members: tuple[str, ...] = ()
    if head[:2] == b"\x1f\x8b":
        try:
            with gzip.open(path, "rb") as gz:
                head = gz.read(SAMPLE_BYTES)
        except (OSError, EOFError, zlib.error):
            pass  # a damaged gzip is identified by name only; the parser will reject it
    elif head[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(path) as zf:
                members = tuple(zf.namelist())
        except zipfile.BadZipFile:
            pass
    return Sample(name=path.name, head=head, members=members)


def identify(path: Path) -> str:
    """The one format id whose parser claims `path`; refuses none and more than one."""
    smp = sample(path)
    claimants = [fid for fid in format_ids() if get_parser(fid).identify(smp)]
    if len(claimants) == 1:
        return claimants[0]
    if not claimants:
        raise StatementRejected(
            str(path), None, "unknown statement format (no parser recognises it; pass --format)", code="unknown_format"
        )
    raise StatementRejected(
        str(path), None, f"ambiguous format: claimed by {', '.join(claimants)} (pass --format)", code="ambiguous_format"
    )


def parse_file(path: Path, ctx: ParseContext, format_id: str | None = None) -> tuple[str, ParsedStatement]:
    """Identify (unless told), parse, conform and validate one statement."""
    fid = format_id or identify(path)
    parser = get_parser(fid)
    name = ctx.source_name or str(path)
    if getattr(parser, "line_based", True):
        refuse_line_faults(path, name)
    try:
        # A gzip statement is inflated to a plain file first (a chunk of memory, the size cap enforced
        # while writing), which the parser reads by path like any uncompressed statement.
        with plain_statement(path) as plain:
            parsed = parser.parse(plain, ctx if plain == path else dataclasses.replace(ctx, source_name=name))
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:  # a damaged container, whichever parser opened it
        raise StatementRejected(name, None, f"damaged zip or gzip container: {exc}", code="truncated") from None
    # memo and counterparty are free text a stranger wrote: no card number reaches the bill Parquet.
    # Id columns are left whole (they are what matching and people look up) unless the format
    # declares that one of them can carry card data.
    masked = FREE_TEXT_COLUMNS + tuple(sorted(sensitive_id_fields(parser) - set(FREE_TEXT_COLUMNS)))
    bill = validate_bill(mask_free_text(conform(parsed.bill), masked), name)
    problems, count = standard_problems(bill, name, exponent=lambda c: exponent(c, ctx.rules.exponent_override(c)),
                                        max_decimals=getattr(parser, "max_decimals", None))
    if problems:
        raise StatementRejected.of(problems, count)
    return fid, ParsedStatement(bill=bill, balances=parsed.balances, checks=parsed.checks, warnings=parsed.warnings)


def refuse_line_faults(path: Path, name: str) -> None:
    """Faults of a line-based text file that no parser can read faithfully, refused in one line:

    * CR-only line endings (classic Mac OS): the whole file is one line, so every later message
      would name line 1 and every format's grammar fails somewhere confusing;
    * a NUL byte: text formats never hold one; kept, it hides inside a memo or id (a NUL-separated
      reader blanked every memo of a bill, #18), so the file is refused naming its line.
    Binary containers (zip, xlsx) and UTF-16 text (older PayPal reports, where NUL bytes are half of
    every character) are the parser's to read. A gzip is checked in its first bytes only.
    """
    head = sample(path).head
    if head[:4] == b"PK\x03\x04" or head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return
    if b"\r" in head and b"\n" not in head:
        raise StatementRejected(name, 1, "line endings are CR only (classic Mac OS): save the file with LF or CRLF "
                                "line endings", code="line_endings")
    with open(path, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    if gz and head[:2] == b"\x1f\x8b":
        return  # not inflatable even in its first bytes: plain_statement refuses the damaged container
    if gz:
        data: bytes | mmap.mmap = head
    elif path.stat().st_size == 0:
        return
    else:
        with open(path, "rb") as fh:
            data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        at = data.find(b"\x00")
        if at >= 0:
            line = data.count(b"\n", 0, at) + 1 if isinstance(data, bytes) else data[:at].count(b"\n") + 1
            raise StatementRejected(name, line, f"NUL byte at offset {at}: a text statement never holds one (a damaged "
                                    "or binary file); refused rather than read around", code="nul_byte")
    finally:
        if isinstance(data, mmap.mmap):
            data.close()
