"""The gate stage: after the last test, aggregate limits and limits relative to a baseline, with
noise-aware verdicts (:mod:`.verdict`); a broken one fails the session through its failure count
(:mod:`.checks`)."""
