"""The outputs stage: what people and CI systems read, made from the results document only.

:mod:`.tables` (rows shared by the terminal, the CI step summary and pytest-html),
:mod:`.terminal`, :mod:`.step_summary`, :mod:`.junit`, :mod:`.benchmark_export`, the HTML
:mod:`.report`, and :mod:`.session_files`, which writes them at the end of a session.
"""
