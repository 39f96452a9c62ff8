"""Statement writers for tests, benchmarks and `sample_statements/generate.py`: never shipped.

Each module writes real-format statements from plain rows, so a test states its input in a few
lines and a benchmark can make a million-line file: `wechat` (WeChat Pay trade bills), `cn`
(Alipay, UnionPay, WeChat fund flow), `intl` (Stripe, PayPal, Adyen), `bank` (MT940, camt.053),
and the demo's scenario (`demo_scenario`, `demo_cash`) from which sample_statements/ is generated.
"""
