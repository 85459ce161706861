"""Command line entry point. Textual is imported only when the TUI is asked for."""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import TYPE_CHECKING, NoReturn

from p2pcall import __version__
from p2pcall.commands import NAMES

if TYPE_CHECKING:
    from pathlib import Path

# Commands that print times in the local zone (verify and where do not).
TIME_COMMANDS = ("list", "due", "show", "export", "letter", "stats")
# Commands that work on a PostgreSQL server only, never on the local data folder.
SERVER_COMMANDS = ("db",)
DATA_DIR_HELP = "folder for the records (default: $P2PCALL_DATA_DIR, else your user data folder)"
DATABASE_HELP = (
    "a practice's PostgreSQL server instead of the local file, e.g. "
    "postgresql://you@pg.practice.local/p2pcall?sslmode=verify-full (default: "
    "$P2PCALL_DATABASE_URL, else the local file); never a password in it"
)


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad command line gets one line on stderr (and exit 2), not the usage."""

    def error(self, message: str) -> NoReturn:
        from p2pcall.domain.text import one_line

        hint = f"see `{self.prog} --help`"
        self.exit(2, f"{self.prog}: {one_line(message)} ({hint})\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="p2pcall",
        description="Notes for insurer peer-to-peer calls. With no command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"p2pcall {__version__}")
    parser.add_argument(
        "--data-dir",
        metavar="PATH",
        help=DATA_DIR_HELP,
    )
    # --data-dir is also accepted after the subcommand (`p2pcall list --data-dir X`).
    common = OneLineParser(add_help=False)
    common.add_argument("--data-dir", metavar="PATH", default=argparse.SUPPRESS, help=DATA_DIR_HELP)
    parser.add_argument("--database", metavar="URL", help=DATABASE_HELP)
    common.add_argument("--database", metavar="URL", default=argparse.SUPPRESS, help=DATABASE_HELP)
    parser.add_argument(
        "--config-dir",
        metavar="PATH",
        help="settings folder (default: $P2PCALL_CONFIG_DIR, else your user config folder)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in NAMES:
        importlib.import_module(f"p2pcall.commands.{name}").add_parser(sub, [common])
    return parser


def main(argv: list[str] | None = None) -> int:
    from p2pcall.safety import disable_core_dumps, install_excepthooks

    disable_core_dumps()  # before any record is read into memory
    args = build_parser().parse_args(argv)
    from p2pcall.paths import database_path, resolve_data_dir

    data_dir = resolve_data_dir(args.data_dir)
    if args.command not in SERVER_COMMANDS:  # `db` reads its own --database
        from p2pcall.paths import resolve_database_url

        args.database = resolve_database_url(args.database)
    install_excepthooks(database_path(data_dir))
    if args.command in TIME_COMMANDS:
        _say_zone()
    if args.command:
        from p2pcall.paths import data_dir_problem

        problem = None if args.command in SERVER_COMMANDS else data_dir_problem(data_dir)
        if problem is not None:  # a file given as --data-dir: not "no records yet"
            if args.command == "where":
                importlib.import_module("p2pcall.commands.where").run(args, data_dir)
            from p2pcall.commands._records import error_line

            print(error_line("p2pcall", problem), file=sys.stderr)
            return 1
        command = importlib.import_module(f"p2pcall.commands.{args.command}")
        try:
            return command.run(args, data_dir)
        except BrokenPipeError:
            return _reader_gone()
    return run_tui(data_dir, args.config_dir, args.database)


def _reader_gone() -> int:
    """The reader closed the pipe (`p2pcall list | head`): stop quietly, as `cat` does.

    Python would otherwise report the flush at exit as an error; stdout goes to /dev/null.
    """
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 1


def _say_zone() -> None:
    """TZ that is not a zone name (UTC+3): say on stderr what the times printed mean."""
    from p2pcall.domain.timefmt import local_zone_notice

    notice = local_zone_notice()
    if notice:
        print(f"p2pcall: {notice}", file=sys.stderr)


def run_tui(data_dir: Path, config_dir: str | None = None, database: str | None = None) -> int:
    from p2pcall.app import P2PCallApp
    from p2pcall.paste_guard import install_paste_guard
    from p2pcall.safe_exit import run_and_report

    install_paste_guard()  # escape sequences in a paste stay text, not key presses

    app = P2PCallApp(data_dir, database)
    if config_dir:
        from p2pcall.config import resolve_config_dir

        app.config_dir = resolve_config_dir(config_dir)
    return run_and_report(app)


if __name__ == "__main__":
    sys.exit(main())
