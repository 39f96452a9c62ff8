"""Identification: each of our formats is claimed by exactly one parser, through the registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from parsers import registry

REPO = Path(__file__).resolve().parents[2]
OURS = {"alipay.trade", "alipay.account", "unionpay.zm", "unionpay.zme", "wechatpay.fundflow"}
SHARED = {
    "wechat/unresolvedGoSDK__fundflowbill_BASIC_v3.csv": "wechatpay.fundflow",
    "wechat/unresolvedGoSDK__fundflowbill_BASIC_v3.csv.gz": "wechatpay.fundflow",
    "wechat/wxpay-doc__fundflow_doc_example_float_counts.csv": "wechatpay.fundflow",
    "alipay/unresolvedJava__20880211096256330156_20190916_业务明细.csv": "alipay.trade",
    "alipay/unresolvedJava__20880211096256330156_20190916_业务明细.GBK.csv": "alipay.trade",
    "alipay/unresolvedJava__20888011365400330156_20121229_账务明细_2012layout_excerpt.csv": "alipay.account",
    "alipay/unresolvedJava__20888011365400330156_20121229_账务明细_2012layout_excerpt.GBK.csv": "alipay.account",
    "unionpay/PaySharp__802310048993424_20150905.zip": "unionpay.zm",
    "unionpay/PaySharp__INN15090588ZM_802310048993424": "unionpay.zm",
}
COMMITTED = {"alipay": "alipay.trade", "unionpay": "unionpay.zm", "wechat_fundflow": "wechatpay.fundflow"}


def loadable() -> dict[str, object]:
    """Every registered parser that loads now (others are still being written in this checkout)."""
    out = {}
    for fid in registry.format_ids():
        try:
            out[fid] = registry.get_parser(fid)
        except registry.PluginError:
            continue
    assert OURS <= set(out)
    return out


def claimants(path: Path) -> list[str]:
    smp = registry.sample(path)
    return sorted(fid for fid, parser in loadable().items() if parser.identify(smp))


@pytest.mark.parametrize("rel", sorted(SHARED))
def test_real_samples_have_exactly_one_claimant(shared_samples, rel):
    assert claimants(shared_samples / rel) == [SHARED[rel]]


@pytest.mark.parametrize("sub", sorted(COMMITTED))
def test_committed_samples_identify_through_the_registry(sub):
    for path in sorted((REPO / "sample_statements" / sub).iterdir()):
        assert claimants(path) == [COMMITTED[sub]]
        if set(registry.format_ids()) == set(loadable()):
            assert registry.identify(path) == COMMITTED[sub]


def test_our_parsers_claim_no_other_channel_sample(shared_samples):
    for path in sorted(p for p in shared_samples.rglob("*") if p.is_file()):
        rel = path.relative_to(shared_samples).as_posix()
        if rel in SHARED or rel.endswith(".md"):
            continue
        smp = registry.sample(path)
        mine = [fid for fid in OURS if registry.get_parser(fid).identify(smp)]
        assert not mine, f"{rel} claimed by {mine}"
