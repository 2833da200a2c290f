"""The measure stage: one streamed request, end to end.

:mod:`.stream` is what a test awaits (``llm_stream``); :mod:`.session` holds the session's loop
(:mod:`.loop`), clients and endpoints (:mod:`.endpoints`); :mod:`.params` layers the request's
parameters and limits; :mod:`.metrics` turns the stamped stream into the docs/metrics.md fields;
:mod:`.truth` and :mod:`.server_timings` hold them to the server's own account; :mod:`.filler`
pads prompts to a context tier.
"""
