"""The generic adapter: a channel's JSON order-query API described in its rule set (`[requery.http]`).

For channels without a built-in adapter: the rule set says where to ask (`path`, `refund_path`,
templates over the item's ids), how to authenticate (`auth_header` + `auth_prefix` + the value of
the channel's `api_key_env`) and where the answer keeps its status, amount, currency and time
(dotted paths, `HttpJson` in recon/config/ruleset.py). A non-2xx answer is the API layer, its code
read at `error` (else `HTTP <status>`); a 2xx answer's status field is the business layer. The
answer is not signed: trust rests on TLS to the configured host, and redirects are never followed.
"""

from __future__ import annotations

import string
from urllib.parse import quote

from jobs.requery.client import HttpAdapter, amount_of, dig, json_body, send, time_of
from jobs.requery.model import Exchange, Reading, Target, Unaskable
from recon.errors import ConfigError


class HttpJsonAdapter(HttpAdapter):
    def __init__(self, options, rules) -> None:
        super().__init__(options, rules)
        if rules.http is None:
            raise ConfigError(f"{options.setting('adapter')}: 'http' needs a [requery.http] table in the channel's "
                              "rule set (where to ask and where the answer says what)")
        self.spec = rules.http
        base = options.url or self.spec.base
        if not base:
            raise ConfigError(f"{options.setting('url')} is required (or base in the rule set's [requery.http])")
        self.base = base.rstrip("/")
        self.secret = options.secret("api_key_env")

    def path(self, target: Target) -> str:
        template = self.spec.refund_path if target.refund else self.spec.path
        if template is None:
            raise Unaskable("the rule set's [requery.http] has no refund_path to ask about a refund")
        ids = target.ids()
        missing = [n for _, n, _, _ in string.Formatter().parse(template) if n and n not in ids]
        if missing:
            raise Unaskable(f"the query path needs {', '.join(missing)}, and neither side has it")
        return template.format_map({k: quote(v, safe="") for k, v in ids.items()})

    def query(self, target: Target) -> tuple[Exchange, Reading]:
        path = self.path(target)
        headers = {"Accept": "application/json"}
        if self.secret is not None:
            headers[self.spec.auth_header] = self.spec.auth_prefix + self.secret.reveal()
        exchange = send(self.http, self.http.build_request("GET", self.base + path, headers=headers), f"GET {path}")
        if exchange.fault is not None:
            return exchange, Reading()
        body = json_body(exchange)
        if body is None or exchange.status >= 300:
            code = dig(body, self.spec.error) if body else None
            return exchange, Reading(error=str(code) if code is not None else f"HTTP {exchange.status}")
        currency = dig(body, self.spec.currency) or target.currency
        currency = str(currency).upper() if currency else None
        field = self.spec.refund_status_map if target.refund else self.spec.status_map
        amount = amount_of(dig(body, self.spec.amount), currency, minor=self.spec.amount_unit == "minor")
        return exchange, Reading(field=field, code=dig(body, self.spec.status), currency=currency, amount=amount,
                                 time=time_of(dig(body, self.spec.time)),
                                 channel_txn_id=dig(body, self.spec.channel_txn_id))
