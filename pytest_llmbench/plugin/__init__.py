"""The pytest glue: :mod:`.hooks` (the ``pytest11`` entry point, thin hooks), :mod:`.lifecycle`
(what they do), :mod:`.fixtures`, :mod:`.stash` (the session's state), :mod:`.shutdown` (SIGTERM
handled like Ctrl-C), and the pytest-xdist and pytest-html integrations, registered only when
those plugins are installed."""
