"""Re-query (主动查询): ask the channel about an order before anyone acts on its discrepancy.

Every discrepancy is confirmed with the channel's order-query API before it is worked, because a
bill can be wrong (some channels' own success times are) and because an unclear result is asked
again within a window until the channel gives an explicit answer. The stage, in the order a
query runs:

- `jobs.requery.run` picks the queue items where the channel's word decides (LOCAL_ONLY,
  CHANNEL_ONLY, STATUS_MISMATCH, AMOUNT_MISMATCH, FEE_MISMATCH, and PENDING past its window), paced
  by the channel's rate limit and per-run cap, each when its next attempt is due;
- an adapter (a `recon.requery` plugin, built-ins registered the same way: `wechatpay_v3`,
  `alipay`, `stripe`, `http`) signs the request and verifies the answer;
- `jobs.requery.codes` reads the answer in two layers with the rule set's maps; only an explicit
  success is SUCCESS, only an explicit failure is FAILED, anything else is UNKNOWN;
- `jobs.requery.decide` says what the answer does to the item: a proposal, a wait for the next
  attempt, or MANUAL after the last one;
- the answer is recorded on the item as a history event and its redacted body archived under
  `requery/<D>/` (jobs.requery.archive); a rule set may let named kinds be accepted under a cap.
"""

from __future__ import annotations

from jobs.transports.plugins import registered
from recon.errors import ConfigError

GROUP = "recon.requery"


def available() -> list[str]:
    return sorted(registered(GROUP))


def load_adapter(options, rules):  # (RequeryOptions, RequeryRules) -> model.Adapter
    found = registered(GROUP)
    if options.adapter not in found:
        known = ", ".join(sorted(found)) or "none installed"
        raise ConfigError(f"{options.setting('adapter')}: no re-query adapter {options.adapter!r} ({known})")
    return found[options.adapter].load()(options, rules)
