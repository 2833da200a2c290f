"""The ``llmbench`` console script: subcommands beside the pytest plugin.

``llmbench serve-sim [ARGS]`` runs the built-in streaming server in the foreground (the same one
the ``embedded`` targets use); ``llmbench serve-sim --help`` lists its arguments.

``llmbench dashboard [--config config.yaml]`` serves the web dashboard of a project (the
``[dashboard]`` extra).

``llmbench report FILES… -o report.html`` writes the HTML report: a run report for one results
file, a history with trends and a comparison for several. An unreadable or invalid file is an error
(exit 2) that names the file.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llmbench", description="pytest-llmbench tools (the benchmarks run with pytest)."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "serve-sim",
        help="run the built-in OpenAI/Anthropic/Gemini-compatible streaming simulator",
        add_help=False,
    )
    commands.add_parser("report", help="write the HTML report of one or more results files")
    commands.add_parser(
        "dashboard", help="serve the web dashboard of a project ([dashboard] extra)", add_help=False
    )
    return parser


def _report_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llmbench report",
        description="Write one self-contained HTML page from results JSON files: a run report "
        "for one file, a history (trends and a comparison of any two runs) for several.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="results/<stamp>.json files")
    parser.add_argument(
        "-o",
        "--output",
        default="report.html",
        help="the HTML file to write (default: %(default)s)",
    )
    return parser


def _report(args: Sequence[str]) -> int:
    from .outputs.report import ReportInputError, load_document, write_html

    parser = _report_parser()
    options = parser.parse_args(args)
    try:
        documents = [load_document(path) for path in options.files]
    except ReportInputError as error:
        parser.exit(2, f"llmbench report: error: {error}\n")
    try:
        path = write_html(documents, options.output)
    except OSError as error:
        parser.exit(2, f"llmbench report: error: cannot write {options.output}: {error}\n")
    kind = "run report" if len(documents) == 1 else f"history of {len(documents)} runs"
    print(f"report: {path} ({kind}, {path.stat().st_size / 1024:.0f} KB)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    namespace, _ = _parser().parse_known_args(args[:1])
    if namespace.command == "serve-sim":
        from .servers.sim.command import main as serve_main

        return serve_main(args[1:])
    if namespace.command == "report":
        return _report(args[1:])
    if namespace.command == "dashboard":
        from .dashboard.console import main as dashboard_main

        return dashboard_main(args[1:])
    return 2  # pragma: no cover - argparse has already rejected anything else


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
