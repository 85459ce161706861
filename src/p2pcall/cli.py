"""Command line entry point. Textual is imported only when the TUI is asked for."""

from __future__ import annotations

import argparse
import sys

from p2pcall import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="p2pcall",
        description="Notes for insurer peer-to-peer calls. With no command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"p2pcall {__version__}")
    parser.add_argument(
        "--data-dir",
        metavar="PATH",
        help="folder for the records (default: $P2PCALL_DATA_DIR, else your user data folder)",
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("where", help="print the data folder and database path")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from p2pcall.paths import database_path, resolve_data_dir

    data_dir = resolve_data_dir(args.data_dir)
    if args.command == "where":
        print(f"data folder: {data_dir}")
        print(f"database:    {database_path(data_dir)}")
        return 0
    return run_tui(data_dir)


def run_tui(data_dir: object) -> int:
    from p2pcall.app import P2PCallApp

    app = P2PCallApp(data_dir)  # type: ignore[arg-type]
    app.run()
    return app.return_code or 0


if __name__ == "__main__":
    sys.exit(main())
