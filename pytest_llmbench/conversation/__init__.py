"""The conversation stage: one ordered test per turn of a target's conversation, the history
kept per target (:mod:`.turn`); its analysis is in :mod:`pytest_llmbench.results.degradation`."""
