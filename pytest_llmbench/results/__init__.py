"""The results stage: typed records as each test ends (:mod:`.records`, :mod:`.recorder`, flushed
to ``.jsonl``), then the document's figures: :mod:`.stats`, :mod:`.calibration`,
:mod:`.crosscheck`, :mod:`.degradation`, :mod:`.baseline` and the run's :mod:`.metadata`."""
