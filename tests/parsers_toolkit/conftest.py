"""The CSV parsers' fixtures (`parse`, `write`), shared with tests/parsers_intl where they live."""

from __future__ import annotations

from tests.parsers_intl.conftest import parse, write  # noqa: F401 - pytest finds fixtures by name here
