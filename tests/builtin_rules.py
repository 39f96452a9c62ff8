"""The built-in rule documents as a workspace without overrides sees them, for tests that need one."""

from __future__ import annotations

from recon.core.accounting import AccountingRules, accounting_rules
from rules.loader import RuleBook


def builtin_accounting() -> AccountingRules:
    return accounting_rules(RuleBook().document("accounting"))
