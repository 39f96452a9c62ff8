"""Configuration: recon.toml and every declared TOML file, read one way.

`toml` reads, merges (workspace over built-in) and validates any declared file; `settings` declares
recon.toml, `fetch` its per-transport fetch tables, `ruleset` the channel rule sets, `secrets` the
environment-held secrets they name.
"""
