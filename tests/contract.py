"""What ../shared/CONTRACT.md asks of the command line, written once for the tests that check it."""

#: Keys `review meta --json` prints (CONTRACT.md), compared with metafor's values.
META_KEYS = (
    "k",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "pval",
    "tau2",
    "i2",
    "h2",
    "q",
    "q_pval",
    "pi_low",
    "pi_high",
)
