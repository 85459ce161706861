"""One module per subcommand: `add_parser(subparsers, parents)` and `run(args, data_dir) -> int`.

These modules are imported to build the parser, so they import nothing heavy at module
level (no SQLAlchemy, no pendulum) and never Textual.
"""

NAMES = (
    "where",
    "list",
    "show",
    "export",
    "letter",
    "verify",
    "due",
    "deadlines",
    "stats",
    "packet",
    "reviewers",
    "check",
    "db",
)
