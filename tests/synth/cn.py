"""Synthetic Chinese-channel statements with consistent totals: demo samples and benchmark files.

Real bills cannot be committed (merchant data), so the demo, the tests and the benchmark use files
generated here in the exact layouts the parsers read: Alipay 业务明细 (GBK, `#` frame, TAB-padded ids,
footers and a 汇总 file, zipped with GBK member names), WeChat Pay fund-flow bills (UTF-8, backtick
cells, summary block) and UnionPay ZM files (fixed width in GBK bytes, with the RD report). Amounts
are built in fen (integers) and formatted at the end, so the footers always add up. Large files are
written in chunks: a million lines never sit in memory as one list.

    python -m tests.synth.cn sample_statements     # regenerate the committed samples
"""

from __future__ import annotations

import datetime as dt
import io
import random
import sys
import zipfile
from pathlib import Path
from typing import BinaryIO

ALIPAY_PID = "20880211096256330156"
WECHAT_MCH = "1900000109"
UNIONPAY_MER = "802310048993424"
CHUNK = 50_000
ALIPAY_HEADER = ("支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,"
                 "订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,"
                 "商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注")
FUNDFLOW_HEADER = "记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额(元),账户结余(元),资金变更提交申请人,备注,业务凭证号"


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def _stamp(day: dt.date, second: int) -> str:
    return (dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=second % 86400)).strftime("%Y-%m-%d %H:%M:%S")


def write_alipay_trade(out: BinaryIO, n: int, day: dt.date, *, seed: int = 7, refund_every: int = 5) -> dict[str, int]:
    """Write an 业务明细 CSV (GBK) of `n` rows to `out`; return the totals (fen) for the 汇总 file."""
    rnd = random.Random(seed + day.toordinal())
    d, nxt = day.strftime("%Y年%m月%d日"), (day + dt.timedelta(days=1)).strftime("%Y年%m月%d日")
    head = (f"#支付宝业务明细查询\n#账号：[{ALIPAY_PID}]\n#起始日期：[{d} 00:00:00]   终止日期：[{nxt} 00:00:00]\n"
            f"#-----------------------------------------业务明细列表----------------------------------------\n{ALIPAY_HEADER}\n")
    out.write(head.encode("gb18030"))
    tot = {"trades": 0, "refunds": 0, "trade_fen": 0, "refund_fen": 0, "fee_fen": 0}
    for start in range(0, n, CHUNK):
        lines = []
        for i in range(start, min(n, start + CHUNK)):
            refund = refund_every and i % refund_every == refund_every - 1
            base = i - 1 if refund else i
            fen = (base * 7919 + day.day * 1231) % 50000 + 1
            fee = fen * 6 // 1000
            sec = rnd.randrange(86400)
            trade_no = f"{day:%Y%m%d}2200145886{base:014d}"
            if refund:
                fen, fee, kind, req = -fen, -fee, "退款", f"RF{i:012d}"
                tot["refunds"] += 1
                tot["refund_fen"] += fen
            else:
                kind, req = "交易", ""
                tot["trades"] += 1
                tot["trade_fen"] += fen
            tot["fee_fen"] += fee
            t = _stamp(day, sec)
            lines.append(f"{trade_no}\t,M{day:%Y%m%d}{base:010d}\t,{kind}\t,测试商品,{t},{t},store01\t,门店一\t,op\t,\t,"
                         f"*张(138****0000)\t,{yuan(fen)},{yuan(fen)},0.00,0.00,0.00,0.00,0.00,,0.00\t,0.00,{req}\t,"
                         f"{yuan(fee)},0.00,测试\n")
        out.write("".join(lines).encode("gb18030"))
    foot = (f"#-----------------------------------------业务明细列表结束------------------------------------\n"
            f"#交易合计：{tot['trades']}笔，商家实收共{yuan(tot['trade_fen'])}元，商家优惠共0.00元\n"
            f"#退款合计：{tot['refunds']}笔，商家实收退款共{yuan(tot['refund_fen'])}元，商家优惠退款共0.00元\n"
            f"#导出时间：[{nxt} 05:46:49]\n")
    out.write(foot.encode("gb18030"))
    return tot


def alipay_summary(tot: dict[str, int], day: dt.date) -> bytes:
    received = tot["trade_fen"] + tot["refund_fen"]
    text = (f"#支付宝业务汇总查询\n#账号：[{ALIPAY_PID}]\n#日期：[{day:%Y年%m月%d日}]\n"
            "门店编号,门店名称,交易订单总笔数,退款订单总笔数,订单金额（元）,商家实收（元）,支付宝优惠（元）,商家优惠（元）,"
            "卡消费金额（元）,服务费（元）,分润（元）,实收净额（元）\n"
            f"合计,,{tot['trades']},{tot['refunds']},{yuan(received)},{yuan(received)},0.00,0.00,0.00,"
            f"{yuan(tot['fee_fen'])},0.00,{yuan(received - tot['fee_fen'])}\n#导出时间：[{day:%Y年%m月%d日} 05:46:49]\n")
    return text.encode("gb18030")


class _GbkName(zipfile.ZipInfo):
    """A member name stored as GBK bytes without the UTF-8 flag (zipfile would force UTF-8)."""

    def _encodeFilenameFlags(self):  # noqa: N802  (zipfile's own hook)
        return self.filename.encode("gb18030"), self.flag_bits & ~0x800


def alipay_zip(path: Path, n: int, day: dt.date) -> None:
    """The downloaded `<PID>_<date>.csv.zip`: member names in GBK without the UTF-8 flag, as Alipay does."""
    buf = io.BytesIO()
    tot = write_alipay_trade(buf, n, day)
    stem = f"{ALIPAY_PID}_{day:%Y%m%d}"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in ((f"{stem}_业务明细.csv", buf.getvalue()), (f"{stem}_业务明细(汇总).csv", alipay_summary(tot, day))):
            info = _GbkName(member, date_time=(day.year, day.month, day.day, 5, 46, 49))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)


def write_wechat_fundflow(out: BinaryIO, n: int, day: dt.date, *, opening_fen: int = 1_000_000) -> None:
    """A fund-flow bill: payments, their fees, refunds every 7th row; the balance runs row by row."""
    out.write((FUNDFLOW_HEADER + "\n").encode())
    balance, counts = opening_fen, {"收入": [0, 0], "支出": [0, 0]}
    for start in range(0, n, CHUNK):
        lines = []
        for i in range(start, min(n, start + CHUNK)):
            order = i // 2
            fen = (order * 7919 + day.day * 1231) % 50000 + 100
            if i % 7 == 6:
                kind, name, sign, fen, ref = "退款", "退款", "支出", fen // 2, f"R{order:012d}"
                biz = f"5030080696{day:%Y%m%d}{order:011d}"
            elif i % 2 == 0:
                kind, name, sign, ref = "交易", "交易", "收入", f"O{order:012d}"
                biz = f"4200000920{day:%Y%m%d}{order:010d}"
            else:
                kind, name, sign, fen, ref = "扣除交易手续费", "交易", "支出", fen * 6 // 1000 + 1, f"O{order:012d}"
                biz = f"4200000920{day:%Y%m%d}{order:010d}"
            balance += fen if sign == "收入" else -fen
            counts[sign][0] += 1
            counts[sign][1] += fen
            lines.append(f"`{_stamp(day, i * 86399 // max(n, 1))},`{biz},`{i:029d},`{name},`{kind},`{sign},`{yuan(fen)},"
                         f"`{yuan(balance)},`{WECHAT_MCH}API,`,`{ref}\n")
        out.write("".join(lines).encode())
    total = counts["收入"][0] + counts["支出"][0]
    out.write(("资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额\n"
               f"`{total}.0,`{counts['收入'][0]}.0,`{yuan(counts['收入'][1])},`{counts['支出'][0]}.0,`{yuan(counts['支出'][1])}\n").encode())


def _zm_line(i: int, day: dt.date, refund: bool) -> tuple[bytes, int, int]:
    from parsers.unionpay_layout import ZM_FIELDS

    fen = (i * 7919 + day.day * 1231) % 500000 + 100
    fee = fen * 6 // 1000
    when = dt.datetime.combine(day, dt.time(23, 30)) + dt.timedelta(seconds=i * 37)  # crosses the calendar day
    query = f"{when:%Y%m%d%H%M%S}{i:06d}8"[:21]
    values = {
        "交易代码": "S56" if not refund else "S33", "代理机构标识码": "88022900", "发送机构标识码": "00049993",
        "系统跟踪号": f"{i % 1000000:06d}", "交易传输时间": f"{when:%m%d%H%M%S}", "帐号": "622609******0048",
        "交易金额": f"{fen:012d}", "商户类别": "4899", "终端类型": "07", "查询流水号": query, "支付方式(旧)": "01",
        "商户订单号": f"R{i:09d}" if refund else f"{10078000 + i}", "支付卡类型": "01",
        "商户手续费": f"{'C' if refund else 'D'}{fee:012d}", "结算金额": f"{'D' if refund else 'C'}{fen - fee:012d}",
        "支付方式": "0001", "交易类型": "04" if refund else "01", "交易子类": "00" if refund else "01",
        "业务类型": "000201", "原交易查询流水号": f"{when:%Y%m%d%H%M%S}{i - 1:06d}8"[:21] if refund else "",
        "商户代码": UNIONPAY_MER, "二级商户简称": "测试二级商户", "二级商户分账入账金额": "000000000000",
        "清算净额": f"{'D' if refund else 'C'}{fen - fee:012d}", "终端号": "01080209", "优惠金额": " 000000000000",
        "发票金额": " 000000000000", "分期付款附加手续费": "00000000000", "交易介质": "7",
        "原始交易订单号": f"{10078000 + i - 1}" if refund else "",
    }
    cells = []
    for name, width in ZM_FIELDS:
        raw = values.get(name, "").encode("gb18030")
        cells.append(raw + b" " * (width - len(raw)))
    return b" ".join(cells) + b"\r\n", (-fen if refund else fen), (-fee if refund else fee)


def write_unionpay_zm(out: BinaryIO, n: int, day: dt.date) -> dict[str, int]:
    """Write `n` ZM records to `out` in chunks; return the fen totals the RD report states."""
    amounts = {"ac": 0, "ad": 0, "fd": 0, "fc": 0}
    for start in range(0, n, CHUNK):
        lines = []
        for i in range(start, min(n, start + CHUNK)):
            line, amt, fee = _zm_line(i, day, refund=i % 6 == 5)
            lines.append(line)
            amounts["ac" if amt > 0 else "ad"] += abs(amt)
            amounts["fd" if fee > 0 else "fc"] += abs(fee)
        out.write(b"".join(lines))
    return amounts


def unionpay_rd(amounts: dict[str, int], n: int, day: dt.date) -> bytes:
    """The RD summary report (GBK) whose 总计 row matches `write_unionpay_zm`'s totals."""
    net = amounts["ac"] - amounts["ad"] - amounts["fd"] + amounts["fc"]
    nd, nc = (0, net) if net >= 0 else (-net, 0)
    total = f"总计{n:>20}{yuan(amounts['ad']):>16}{yuan(amounts['ac']):>16}{yuan(amounts['fd']):>16}{yuan(amounts['fc']):>16}{yuan(nd):>16}{yuan(nc):>20}"
    rd = (f"{'中国银联全渠道商户交易汇总表':>80}\r\n\r\n商户代码:{UNIONPAY_MER}{'清算币种:人民币':>50}\r\n"
          f"清算日期:{day:%Y%m%d}\r\n\r\n交易类型            交易笔数   交易金额 借 贷   费用 借 贷   资金清算差额 借 贷\r\n{total}\r\n")
    return rd.encode("gb18030")


def unionpay_zip(path: Path, n: int, day: dt.date) -> None:
    """`<merId>_<yyyymmdd>.zip` with the ZM detail and an RD report whose 总计 matches it.

    The ZM member is streamed into the archive, so a million-record benchmark file never sits in
    memory whole."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open(f"INN{day:%y%m%d}88ZM_{UNIONPAY_MER}", "w") as member:
            amounts = write_unionpay_zm(member, n, day)
        zf.writestr(f"RD2010{day:%y%m%d}01_{UNIONPAY_MER}", unionpay_rd(amounts, n, day))


def write_samples(root: Path) -> list[Path]:
    """The committed sample_statements/ files: two days per channel, small, totals consistent."""
    made = []
    for day in (dt.date(2024, 3, 1), dt.date(2024, 3, 2)):
        for sub, name, build in (
            ("alipay", f"{ALIPAY_PID}_{day:%Y%m%d}.csv.zip", lambda p, d: alipay_zip(p, 12, d)),
            ("unionpay", f"{UNIONPAY_MER}_{day:%Y%m%d}.zip", lambda p, d: unionpay_zip(p, 8, d)),
            ("wechat_fundflow", f"fundflow_{WECHAT_MCH}_{day:%Y%m%d}.csv", lambda p, d: p.write_bytes(_buffered(write_wechat_fundflow, 14, d))),
        ):
            path = root / sub / name
            path.parent.mkdir(parents=True, exist_ok=True)
            build(path, day)
            made.append(path)
    return made


def _buffered(writer, n: int, day: dt.date) -> bytes:
    buf = io.BytesIO()
    writer(buf, n, day)
    return buf.getvalue()


if __name__ == "__main__":
    for made in write_samples(Path(sys.argv[1] if len(sys.argv) > 1 else "sample_statements")):
        print(made)
