"""Command line entry point. Textual is imported only when the TUI is asked for."""

from __future__ import annotations

import argparse
import importlib
import sys

from p2pcall import __version__
from p2pcall.commands import NAMES

# Commands that print times in the local zone (verify and where do not).
TIME_COMMANDS = ("list", "due", "show", "export", "letter", "stats")
DATA_DIR_HELP = "folder for the records (default: $P2PCALL_DATA_DIR, else your user data folder)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", metavar="PATH", default=argparse.SUPPRESS, help=DATA_DIR_HELP)
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
    install_excepthooks(database_path(data_dir))
    if args.command in TIME_COMMANDS:
        _say_zone()
    if args.command:
        return importlib.import_module(f"p2pcall.commands.{args.command}").run(args, data_dir)
    return run_tui(data_dir, args.config_dir)


def _say_zone() -> None:
    """TZ that is not a zone name (UTC+3): say on stderr what the times printed mean."""
    from p2pcall.domain.timefmt import local_zone_notice

    notice = local_zone_notice()
    if notice:
        print(f"p2pcall: {notice}", file=sys.stderr)


def run_tui(data_dir: object, config_dir: str | None = None) -> int:
    from p2pcall.app import P2PCallApp
    from p2pcall.paste_guard import install_paste_guard
    from p2pcall.safe_exit import run_and_report

    install_paste_guard()  # escape sequences in a paste stay text, not key presses

    app = P2PCallApp(data_dir)  # type: ignore[arg-type]
    if config_dir:
        from p2pcall.config import resolve_config_dir

        app.config_dir = resolve_config_dir(config_dir)  # type: ignore[attr-defined]
    return run_and_report(app)


if __name__ == "__main__":
    sys.exit(main())
