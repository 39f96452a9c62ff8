"""The rule files a workspace sees: the built-ins in this folder, each overridable per workspace.

Two kinds of file live here. *Rule sets* (`wechatpay.toml`, `bank.toml`, ...) say per format family
how codes map to statuses and how layer 1 matches (models in recon.config.ruleset). *Documents*
(`settlement.toml`, `clearing.toml`, `accounting.toml`) hold the settlement calendar and cycles,
the clearing fee and split rules, and the accounting rules; the library area that reads each one
validates it with its own model. Either kind follows the one override rule of recon.config.toml:
`<workspace>/rules/<name>.toml` is deep-merged over the built-in file of the same name.

`RuleBook` is what a workspace's catalog hands the library; `load_rules` is the short way to one
rule set (parsers, tests, `recon parse` outside a workspace).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from recon.config.ruleset import RuleSet
from recon.config.toml import TomlDocument, layered, read_toml, validate
from recon.errors import ConfigError

BUILTIN_DIR = Path(__file__).resolve().parent
DOCUMENTS = ("accounting", "clearing", "settlement")


def builtin_names() -> list[str]:
    """The built-in rule sets (documents aside)."""
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.toml") if p.stem not in DOCUMENTS)


class RuleBook:
    """The rule files of one workspace (or of none: the built-ins alone)."""

    def __init__(self, workspace_rules: Path | None = None) -> None:
        self.workspace_rules = workspace_rules

    def _paths(self, name: str) -> list[Path]:
        paths = [BUILTIN_DIR / f"{name}.toml"]
        if self.workspace_rules is not None:
            paths.append(self.workspace_rules / f"{name}.toml")
        return paths

    def document(self, name: str) -> TomlDocument:
        """A document (settlement, clearing, accounting), the workspace's file merged over ours."""
        found = layered(self._paths(name))
        if found is None:
            raise ConfigError(f"no rules file {name}.toml (built-in: {', '.join(DOCUMENTS)})")
        return found

    def files(self) -> list[Path]:
        """Every rule file in force: the built-ins, then the workspace's own."""
        own = sorted(self.workspace_rules.glob("*.toml")) if self.workspace_rules else []
        return sorted(BUILTIN_DIR.glob("*.toml")) + own

    def names(self) -> set[str]:
        """Every rule set this workspace can name: built-in or its own."""
        own = {p.stem for p in self.workspace_rules.glob("*.toml")} if self.workspace_rules else set()
        return (set(builtin_names()) | own) - set(DOCUMENTS)

    def rule_set(self, name: str) -> RuleSet:
        if name in DOCUMENTS:
            raise ConfigError(f"{name!r} is not a rule set ({name}.toml holds the {name} rules)")
        override = self.workspace_rules / f"{name}.toml" if self.workspace_rules else None
        stamp = override.stat().st_mtime_ns if override is not None and override.exists() else None
        return _rule_set(name, str(override) if stamp is not None else None, stamp)


@lru_cache(maxsize=64)
def _rule_set(name: str, override: str | None, _stamp: int | None) -> RuleSet:
    paths = [BUILTIN_DIR / f"{name}.toml", *([Path(override)] if override else [])]
    found = layered(paths)
    if found is None:
        raise ConfigError(f"no rule set {name!r} (built-in: {', '.join(builtin_names())})")
    return validate(RuleSet, TomlDocument({"name": name, **found.data}, found.source))


def load_rules(name: str, workspace_rules: Path | None = None) -> RuleSet:
    """The rule set `name`: built-in file, then the workspace's override merged over it."""
    return RuleBook(workspace_rules).rule_set(name)


def load_rules_file(path: Path) -> RuleSet:
    """A complete rule set from one file (used by `recon match --rules FILE`)."""
    return validate(RuleSet, TomlDocument(read_toml(path), str(path)))
