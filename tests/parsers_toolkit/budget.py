"""How deep a parser's property tests search.

A developer's run keeps each test's own budget; the CI path (`make test`, which .ci/run calls)
sets RECON_PARSER_PROPERTIES=deep and every parser property test (the equivalence proofs and
fuzzers here, the bank round trips) runs DEPTH times as many examples. The rest of the suite keeps
the profile in tests/conftest.py, so the deeper search costs only what the parsers' tests add.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

DEPTH = 20
DEEP = os.environ.get("RECON_PARSER_PROPERTIES") == "deep"


def parser_settings(examples: int, **kwargs) -> settings:
    """Settings for one parser property test: `examples` examples, DEPTH times that in CI. No
    deadline (hypothesis's timing is no assertion here) and, deep, no too_slow health check: a
    shared CI machine may take longer to generate, which says nothing about the parser."""
    checks = list(kwargs.pop("suppress_health_check", ()))
    if DEEP:
        checks.append(HealthCheck.too_slow)
    return settings(max_examples=examples * (DEPTH if DEEP else 1), deadline=None, suppress_health_check=checks, **kwargs)
