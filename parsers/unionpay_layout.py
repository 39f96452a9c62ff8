"""Record layouts of the UnionPay 全渠道 ZM and ZME files: byte widths, slicing, signs and years.

A layout is the spec's field list (name, width in GBK bytes) and nothing else; offsets and the line
length are derived from it, so a width typo shows up as a wrong line length on the real sample
(607 bytes for ZM, verified). Fields are separated by one ASCII space; a line that is not exactly
the record length, or whose separators are not spaces, is cut or shifted and rejects the file.

Fields are cut at *byte* offsets, which polars' string slicing (by character) cannot do on GBK
text. So `Layout.read_fields` checks the structure on the raw bytes at C speed (every record exactly
one stride long, spaces at every boundary), masks each non-ASCII byte to DEL so a record becomes
ASCII text of the same length, and lets polars slice that; a field the parser uses must then be
free of the mask (ids, codes, amounts and times are ASCII by the spec), and the rest is checked to
decode. Anything else declines to `Layout.records`, the record-by-record reader, which names
every faulty record.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from recon.errors import Problem, StatementRejected
from recon.schema import MONEY

# ZM, 全渠道平台接入接口规范 第3部分 §6.1 (FORMATS.md §3.3).
ZM_FIELDS: tuple[tuple[str, int], ...] = (
    ("交易代码", 3), ("代理机构标识码", 11), ("发送机构标识码", 11), ("系统跟踪号", 6), ("交易传输时间", 10),
    ("帐号", 19), ("交易金额", 12), ("商户类别", 4), ("终端类型", 2), ("查询流水号", 21), ("支付方式(旧)", 2),
    ("商户订单号", 32), ("支付卡类型", 2), ("原始交易的系统跟踪号", 6), ("原始交易日期时间", 10), ("商户手续费", 13),
    ("结算金额", 13), ("支付方式", 4), ("集团商户代码", 15), ("交易类型", 2), ("交易子类", 2), ("业务类型", 6),
    ("帐号类型", 2), ("账单类型", 4), ("账单号码", 32), ("交互方式", 1), ("原交易查询流水号", 21), ("商户代码", 15),
    ("分账入账方式", 1), ("二级商户代码", 15), ("二级商户简称", 32), ("二级商户分账入账金额", 13), ("清算净额", 13),
    ("终端号", 8), ("商户自定义域", 32), ("优惠金额", 13), ("发票金额", 13), ("分期付款附加手续费", 12),
    ("分期付款期数", 2), ("交易介质", 1), ("原始交易订单号", 32), ("保留使用", 98),
)
# ZME, same spec §6.2. The widths are the spec's; names after 终端类型 are our reading of it (the
# public copies list widths only): 应答码, the original trace/time, 差错原因, the original amount,
# fee and settlement (C/D + n12), merchant and group codes.
ZME_FIELDS: tuple[tuple[str, int], ...] = (
    ("交易代码", 3), ("代理机构标识码", 11), ("发送机构标识码", 11), ("系统跟踪号", 6), ("交易传输时间", 10),
    ("帐号", 19), ("交易金额", 12), ("商户类别", 4), ("终端类型", 2), ("应答码", 2), ("原始交易的系统跟踪号", 6),
    ("原始交易日期时间", 10), ("差错原因", 4), ("原交易金额", 12), ("商户手续费", 13), ("结算金额", 13),
    ("商户代码", 15), ("集团商户代码", 15), ("差错标志", 1), ("保留金额", 12), ("交易类型", 2), ("保留使用", 135),
)
# `总计   8   0.00   13227.00   79.36   0.00   0.00   13147.64` in the RD report (GBK text).
RD_TOTAL = re.compile(r"^总计\s+(\d+)" + r"\s+(\d+\.\d{2})" * 6 + r"\s*$")
_MASK = bytes.maketrans(bytes(range(0x80, 0x100)), b"\x7f" * 0x80)
CHUNK_RECORDS = 50_000


@dataclass(frozen=True, slots=True)
class Layout:
    name: str
    fields: tuple[tuple[str, int], ...]

    @property
    def length(self) -> int:
        return sum(w for _, w in self.fields) + len(self.fields) - 1

    def spans(self) -> list[tuple[str, int, int]]:
        out, pos = [], 0
        for field, width in self.fields:
            out.append((field, pos, pos + width))
            pos += width + 1
        return out

    def fits(self, line: bytes) -> bool:
        """A first line of exactly the record length, with spaces at every field boundary."""
        if len(line) != self.length or not line[:3].isalnum():
            return False
        return all(line[end : end + 1] == b" " for _, _, end in self.spans()[:-1])

    def records(self, data: bytes, file: str) -> tuple[list[tuple[int, dict[str, str]]], list[Problem]]:
        """(line, {field: text}) per well-formed record, each field decoded from GB18030 on its own,
        strictly; and a problem for every record that is not one (cut, shifted or not GB18030),
        the missing line end of a cut last record first."""
        problems: list[Problem] = []
        if data and not data.endswith(b"\n"):
            problems.append(Problem(file, data.count(b"\n") + 1, "last record has no line end: file truncated", "truncated"))
        spans = self.spans()
        out = []
        for number, raw in enumerate(data.split(b"\n")[:-1] if data else [], start=1):
            line = raw.rstrip(b"\r")
            if len(line) != self.length or any(line[e : e + 1] != b" " for _, _, e in spans[:-1]):
                problems.append(Problem(file, number, f"{self.name} record is {len(line)} bytes or misaligned; expected {self.length} (truncated or shifted)", "truncated"))
                continue
            try:
                out.append((number, {f: line[s:e].decode("gb18030").strip(" ") for f, s, e in spans}))
            except UnicodeDecodeError as exc:
                problems.append(Problem(file, number, f"not valid GB18030 in a field: byte 0x{exc.object[exc.start]:02x}", "encoding"))
        return out, problems

    def read_fields(self, data: bytes, wanted: tuple[str, ...]) -> pl.DataFrame | None:
        """The `wanted` fields of every record as stripped text, plus `line`, read without a Python
        step per record; None when anything is off the happy path (then `records` names it)."""
        eol = b"\r\n" if data[self.length : self.length + 2] == b"\r\n" else b"\n"
        stride = self.length + len(eol)
        n = len(data) // stride
        # A record of exactly one stride each, ending in the same line end and not in a CR (which
        # the record reader would strip), with a space at every field boundary: checked a byte
        # column at a time by extended slicing, so a shorter line anywhere breaks the stride.
        if not n or len(data) != n * stride or data.count(b"\n") != n or b"\r" in data[self.length - 1 :: stride]:
            return None
        ends = [self.length + i for i in range(len(eol))] + [end for _, _, end in self.spans()[:-1]]
        if any(data[at::stride] != (eol[at - self.length : at - self.length + 1] if at >= self.length else b" ") * n for at in ends):
            return None
        spans = [(f, start, end) for f, start, end in self.spans() if f in wanted]
        frames = []
        for first in range(0, n, CHUNK_RECORDS):
            chunk = data[first * stride : min(n, first + CHUNK_RECORDS) * stride]
            if not chunk.isascii():
                try:
                    # Separators and line ends are never inside a GB18030 character, so the
                    # records decode iff each of their fields does, as `records` decodes them.
                    chunk.decode("gb18030")
                except UnicodeDecodeError:
                    return None
                chunk = chunk.translate(_MASK)
            try:
                lines = pl.read_csv(chunk, has_header=False, separator="\x1f", quote_char=None, schema={"l": pl.String},
                                    empty_string_is_null=False)
            except pl.exceptions.PolarsError:  # a 0x1f byte made a second column
                return None
            cut = (pl.col("l").str.slice(start, end - start).str.strip_chars(" ").alias(f) for f, start, end in spans)
            frames.append(lines.select(*cut, line=pl.int_range(first + 1, first + 1 + lines.height, dtype=pl.Int64)))
        frame = pl.concat(frames, how="vertical", rechunk=False)
        masked = frame.select(pl.any_horizontal(pl.col(f).str.contains("\x7f", literal=True).any() for f in wanted)).item()
        return None if masked or frame.height != n else frame


ZM = Layout("ZM", ZM_FIELDS)
ZME = Layout("ZME", ZME_FIELDS)


def infer_year(mmddhhmmss: str, clearing: dt.date, file: str, line: int) -> dt.datetime:
    """The year that puts MMDDhhmmss nearest the clearing date (Dec -> Jan crosses a year)."""
    if not re.fullmatch(r"\d{10}", mmddhhmmss):
        raise StatementRejected(file, line, f"time {mmddhhmmss!r} is not MMDDhhmmss", code="invalid_row")
    anchor = dt.datetime.combine(clearing, dt.time(12))
    candidates = []
    for year in (clearing.year - 1, clearing.year, clearing.year + 1):
        try:
            candidates.append(dt.datetime.strptime(f"{year}{mmddhhmmss}", "%Y%m%d%H%M%S"))
        except ValueError:
            continue  # 0229 outside a leap year, or not a real date
    if not candidates:
        raise StatementRejected(file, line, f"time {mmddhhmmss!r} is not a date", code="invalid_row")
    return min(candidates, key=lambda c: abs(c - anchor))


# The field grammars, as expressions over `Layout.read_fields`/`Layout.records` text: each gives the
# value where the field is valid and null exactly where the parser's rules refuse it.

def fen_column(col: str, *, signed: bool) -> pl.Expr:
    """Fen as Int64, null where the field is not fen. Unsigned: 12 ASCII digits. Signed: `C`/`D`
    + 12 digits (`D` is negative), or 12 zeros (a space sign on a zero, stripped with the padding)."""
    digits = pl.col(col).str.contains(r"^[0-9]{12}$")
    if not signed:
        return pl.when(digits).then(pl.col(col).str.to_integer(strict=False))
    magnitude = pl.col(col).str.slice(1).str.to_integer(strict=False)
    ok = (digits & (pl.col(col) == "0" * 12)) | pl.col(col).str.contains(r"^[CD][0-9]{12}$")
    return (pl.when(~ok).then(None).when(pl.col(col).str.starts_with("D")).then(-magnitude)
            .when(pl.col(col).str.starts_with("C")).then(magnitude).otherwise(0))


def fen_reason(col: str, value: str, *, signed: bool) -> str:
    """Why a fen field that `fen_column` reads as null is refused, naming the field."""
    if not signed:
        return f"{col}: {value!r} is not 12 digits of fen"
    if value.isascii() and value.isdigit() and len(value) == 12:
        return f"{col}: {value!r} has no C/D sign"
    return f"{col}: {value!r} is not C/D + 12 digits"


def yuan(fen: pl.Expr) -> pl.Expr:
    return (fen.cast(pl.Decimal(38, 0)) * pl.lit(Decimal("0.01"))).cast(MONEY)


def clearing_time(col: str, clearing: dt.date) -> pl.Expr:
    """MMDDhhmmss as a naive local time by `infer_year`'s rule: of the years around the clearing
    date, the one that puts it nearest the clearing day's noon, the earlier on a tie; null where
    no year makes it a date."""
    anchor = dt.datetime.combine(clearing, dt.time(12))
    candidates = [pl.concat_str(pl.lit(f"{year:04d}"), pl.col(col)).str.strptime(pl.Datetime("us"), "%Y%m%d%H%M%S", strict=False)
                  for year in (clearing.year - 1, clearing.year, clearing.year + 1)]
    far = pl.duration(days=1_000_000)
    d0, d1, d2 = ((c - anchor).abs().fill_null(far) for c in candidates)
    return pl.when((d0 <= d1) & (d0 <= d2)).then(candidates[0]).when(d1 <= d2).then(candidates[1]).otherwise(candidates[2])


def time_shape_bad(col: str) -> pl.Expr:
    """Where `infer_year` refuses the shape: a non-empty time that is not 10 ASCII digits."""
    return (pl.col(col) != "") & ~pl.col(col).str.contains(r"^[0-9]{10}$")


def time_date_bad(col: str, local: pl.Expr) -> pl.Expr:
    """Where `infer_year` finds no date in any year for 10 digits. polars reads second 60 as the
    next minute where Python refuses it (the only difference in their reading of these digits),
    so that is refused here too."""
    return pl.col(col).str.contains(r"^[0-9]{10}$") & ((pl.col(col).str.slice(8, 2) >= "60") | local.is_null())
