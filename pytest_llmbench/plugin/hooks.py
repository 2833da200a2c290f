"""pytest-llmbench's hooks. Each is a line or two that delegates to :mod:`.lifecycle`.

The plugin is inert in a session that does not use it: nothing heavy is imported, nothing is
collected differently, printed or written until a test asks for one of its fixtures.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from ..config.options import add_options
from . import lifecycle


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register ``--llm-*`` options and ini keys (``pytest_addoption``)."""
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    """Build the frozen settings and the lazy session state (``pytest_configure``)."""
    lifecycle.configure(config)
    config.pluginmanager.register(SessionHooks(config), "llmbench-session")
    if config.pluginmanager.hasplugin("html"):
        from .html_hooks import HtmlHooks

        config.pluginmanager.register(HtmlHooks(config), "llmbench-html")
    if config.pluginmanager.hasplugin("xdist"):
        from .xdist_hooks import XdistHooks

        config.pluginmanager.register(XdistHooks(config), "llmbench-xdist")


def pytest_unconfigure(config: pytest.Config) -> None:
    """Put back the SIGTERM handler of before the session (``pytest_unconfigure``)."""
    lifecycle.unconfigure(config)


class SessionHooks:
    """The hooks that need the session's config, bound to it."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """Parametrize tests that use the plugin's fixtures over targets × tiers × runs."""
        lifecycle.generate_tests(metafunc)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Stop on a bad config (exit 4); keep conversation turns in order (runs last)."""
        lifecycle.check_collection(self.config, items)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """Carry the test's measurements on its report (``pytest_runtest_makereport``)."""
        report = yield
        lifecycle.attach_payload(item, report)
        return report

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, object, object]:
        """After the last test, apply the aggregate limits (``pytest_runtestloop``)."""
        result = yield
        lifecycle.run_gate(session)
        return result

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Record each finished test at once, flushed to the ``.jsonl``."""
        lifecycle.log_report(self.config, report)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Write the results and release servers and connections."""
        lifecycle.finish_session(self.config, session)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """Print the aggregates table (``pytest_terminal_summary``)."""
        lifecycle.summary(self.config, terminalreporter)
