"""Keeping each answer for audit, without what must not be kept.

Every answer is written to `requery/<business date>/item<id>-<attempt>-<sha256 prefix>.json`: the
request as asked (no credentials: signatures, keys and tokens never reach an Exchange), the
answer's status, headers that prove where it came from, and its body, redacted. The event on the
queue item keeps the sha256 of the body *as received*, so the archive shows what the channel said
and the hash proves which answer it was. Redacted: the payer's identity fields, Stripe's client
secret, and card numbers anywhere in the text (first 6 and last 4 digits kept). The same redacted
text goes to the detail log.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from jobs.requery.codes import Answer
from recon.files import write_text
from recon.excel.cells import mask_pans

LOG = logging.getLogger("recon.requery")
REDACTED = "***"
# Who paid (openid, buyer's login), and secrets some answers carry (a PaymentIntent's client_secret).
PRIVATE_KEYS = frozenset({"openid", "sp_openid", "sub_openid", "buyer_logon_id", "buyer_user_id", "buyer_open_id",
                          "buyer_id", "client_secret", "email", "receipt_email", "phone", "billing_details",
                          "shipping", "fingerprint"})
LOG_BODY = 2000  # characters of the answer in the detail log


def redact(value: object) -> object:
    if isinstance(value, dict):
        return {k: REDACTED if k in PRIVATE_KEYS and v not in (None, "") else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return mask_pans(value) if isinstance(value, str) else value


def redacted_body(answer: Answer) -> object:
    """The answer's body as JSON with private fields removed, or its masked text when it is not JSON."""
    try:
        text = answer.exchange.text()
    except UnicodeDecodeError:  # a refused answer (cut at the size cap, or not UTF-8): its sha256 identifies it
        return f"<{len(answer.exchange.body)} bytes, not UTF-8>"
    try:
        return redact(json.loads(text)) if text else None
    except ValueError:
        return mask_pans(text)


def archive(root: Path, folder: Path, item_id: int, attempt: int, answer: Answer) -> str | None:
    """Write the record of one answer; returns its path relative to the workspace (None: no answer)."""
    ex = answer.exchange
    if ex.status is None:
        return None
    record = {"item": item_id, "attempt": attempt, "request": {"method": ex.method, "url": ex.url, "asked": ex.asked},
              "response": {"status": ex.status, "headers": dict(ex.headers), "sha256": ex.sha256,
                           "body": redacted_body(answer)},
              "refused": ex.fault, "meaning": {"status": answer.status, "layer": answer.layer, "said": answer.said}}
    path = folder / f"item{item_id}-{attempt:02d}-{(ex.sha256 or 'empty')[:12]}.json"
    write_text(path, json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    return str(path.relative_to(root))


def log_exchange(channel: str, item_id: int, answer: Answer) -> None:
    ex = answer.exchange
    body = json.dumps(redacted_body(answer), ensure_ascii=False)[:LOG_BODY]
    LOG.info("requery %s item %s: %s %s (%s) -> %s %s: %s %s", channel, item_id, ex.method, ex.url, ex.asked,
             ex.status if ex.status is not None else "no answer", answer.status, answer.said, body)
