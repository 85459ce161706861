"""Every subcommand with generated hostile arguments (issue 10, "Tests and figures").

Huge and negative ids, odd dates, FTS syntax, control characters (never NUL: a command
line cannot hold one), long paths and special files as targets. Whatever comes in, a
command either exits 0 with output of the right shape, or exits 1 or 2 with exactly one
line on stderr; never a traceback or crash report. (`verify` may also exit 1 with its
report on stdout: that is its answer, not an error.)

P2PCALL_HOSTILE_EXAMPLES=N runs N generated examples instead of 250 (to hunt, not in CI).
Most examples run in this process through `p2pcall.cli.main` with stdout and stderr
captured (fast); a smaller sample runs as real subprocesses. Write targets are all inside
a temporary folder (a device node made there when running as root), so nothing outside
it can be touched even if a guard were broken. Every example is also checked to leave
the database byte for byte as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from export_db import make_database
from p2pcall.cli import main
from p2pcall.domain.export.digest import check_digest
from p2pcall.domain.text import one_line

# Every test here runs on the local file and on a practice server (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("database")

DB = "p2pcall.sqlite3"
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@dataclass
class Place:
    """The data folder, its call, exports of it, and odd things to point commands at."""

    root: Path
    data: Path
    call: int
    exports: list[Path]
    targets: list[Path]  # where -o may write: regular, missing, special, linked, long
    readables: list[Path]  # what verify may read: exports, special files, /dev/*, /proc
    data_dirs: list[Path]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Place]:
    root = tmp_path_factory.mktemp("hostile")
    data = root / "data"
    call = make_database(data)
    exports = []
    for fmt, suffix in (("text", "txt"), ("markdown", "md"), ("json", "json")):
        target = root / f"record.{suffix}"
        assert (
            main(["--data-dir", str(data), "export", str(call), "-f", fmt, "-o", str(target)]) == 0
        )
        exports.append(target)
    # Leave the database alone from here on: checkpointed, then compared after each example.
    import sqlite3

    last = sqlite3.connect(data / DB)
    last.execute("PRAGMA user_version").fetchone()
    last.close()

    odd = root / "odd"
    odd.mkdir()
    fifo = odd / "fifo"
    os.mkfifo(fifo)
    sock = odd / "socket"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock))
    server.close()
    folder = odd / "folder"
    folder.mkdir()
    regular = odd / "existing.txt"
    regular.write_text("the user's own file\n")
    link = odd / "link.txt"
    link.symlink_to(regular)
    dangling = odd / "dangling.txt"
    dangling.symlink_to(odd / "nowhere")
    targets = [fifo, sock, folder, regular, link, dangling, odd / "new.txt",
               odd / ("n" * 300), odd / "missing" / "x.txt", regular / "below-a-file.txt",
               odd / "ctl\x1b[2J\nname.txt", odd / ("d/" * 200 + "deep.txt"),
               data / DB, data / "inside.txt"]  # fmt: skip
    if IS_ROOT:
        null = odd / "null"
        os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        targets.append(null)
    readables = [*exports, fifo, sock, folder, regular, link, dangling,
                 Path("/dev/null"), Path("/dev/zero"), Path("/proc/self/maps"),
                 odd / ("n" * 300), odd / "ctl\x07\u202e.txt"]  # fmt: skip
    file_dir = root / "plain-file"
    file_dir.write_text("not a folder\n")
    db_as_folder = root / "folder-db"
    (db_as_folder / DB).mkdir(parents=True)
    db_as_fifo = root / "fifo-db"
    db_as_fifo.mkdir()
    os.mkfifo(db_as_fifo / DB)  # SQLite would wait on it for ever
    data_dirs = [data, root / "missing", file_dir, db_as_folder, db_as_fifo, root / ("l" * 300),
                 file_dir / "below", root / "ctl\n\x1b]0;x\x07"]  # fmt: skip
    yield Place(root, data, call, exports, targets, readables, data_dirs)


# -- what generated arguments look like -------------------------------------------------------

NO_NUL = st.characters(codec="utf-8", exclude_characters="\x00", exclude_categories=("Cs",))
CONTROL = st.characters(min_codepoint=1, max_codepoint=0x9F).filter(lambda c: not c.isprintable())
ODD_TEXT = st.text(alphabet=st.one_of(NO_NUL, CONTROL), max_size=40)

IDS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from([
        "1", "#1", "call-1", "CALL1", "0", "-0", "00001", " 1 ", "1e3", "0x1", "1.0", "+1",
        "\u0663", "\uff11", "9223372036854775807", "9223372036854775808", "9" * 5000, "",
    ]),
    ODD_TEXT,
)  # fmt: skip
DATES = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from([
        "9999-12-31", "9999-12-30", "0001-01-01", "0001-01-02", "2026-02-29", "2026-02-30",
        "2026-13-01", "2026-00-10", "10000-01-01", "-2026-01-01", "2026-1-1", "", " ",
    ]),
    ODD_TEXT,
)  # fmt: skip
FTS = st.one_of(
    st.lists(
        st.sampled_from([
            '"', "*", "(", ")", "AND", "OR", "NOT", "NEAR(", "NEAR/2", "cred", "cred*",
            'cred"', "^", ":", "-", "+", "body:x", "{a b}", "\x1b[2J", "caf\u00e9", "\U0001f600",
            "acme", "JD", "'", "\\", "%", "_",
        ]),
        max_size=6,
    ).map(" ".join),
    ODD_TEXT,
)  # fmt: skip
DAYS = st.one_of(st.integers(min_value=-(2**65), max_value=2**65).map(str), ODD_TEXT)
FORMATS = st.sampled_from(["text", "markdown", "json", "md", "txt", "JSON", "pdf", "", "\x1b"])
OUTCOMES = st.one_of(st.sampled_from(["approved", "denied", "unfinished", "open", ""]), ODD_TEXT)


@st.composite
def command_lines(draw, place: Place) -> list[str]:
    command = draw(st.sampled_from(["show", "export", "letter", "verify", "due", "list", "where"]))
    data = draw(
        st.sampled_from(place.data_dirs) if draw(st.integers(0, 4)) == 0 else st.just(place.data)
    )
    args: list[str] = []
    if command in ("show", "export", "letter"):
        args.append(draw(IDS) if draw(st.booleans()) else str(place.call))
        if command == "export" and draw(st.booleans()):
            args += ["--format", draw(FORMATS)]
        if command == "export" and draw(st.booleans()):
            args.append("--redact")
        if command != "show" and draw(st.booleans()):
            args += ["-o", str(draw(st.sampled_from(place.targets)))]
            if draw(st.booleans()):
                args.append("--force")
    elif command == "verify":
        args.append(str(draw(st.sampled_from(place.readables))))
        if draw(st.booleans()):
            args.append("--no-database")
    elif command == "due":
        if draw(st.booleans()):
            args += ["--within", draw(DAYS)]
        if draw(st.booleans()):
            args.append("--json")
    elif command == "list":
        for option, values in (("--since", DATES), ("--until", DATES), ("--search", FTS),
                               ("--insurer", ODD_TEXT), ("--outcome", OUTCOMES),
                               ("--limit", DAYS)):  # fmt: skip
            if draw(st.integers(0, 2)) == 0:
                args += [f"{option}={draw(values)}"]  # `=`: a value starting with - stays a value
        if draw(st.booleans()):
            args.append("--json")
    if draw(st.integers(0, 9)) == 0:
        args.append(draw(ODD_TEXT.filter(lambda t: not t.startswith("-"))))  # a stray argument
    return ["--data-dir", str(data), command, *args]


# -- running and judging ------------------------------------------------------------------------


def run_in_process(argv: list[str]) -> tuple[int, str, str]:
    out_bytes = io.BytesIO()
    out = io.TextIOWrapper(out_bytes, encoding="utf-8", write_through=True)
    err = io.StringIO()
    hooks = (sys.excepthook, threading.excepthook)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse: --help, or a bad command line
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.excepthook, threading.excepthook = hooks
    out.flush()
    return code, out_bytes.getvalue().decode("utf-8"), err.getvalue()


def run_as_process(argv: list[str]) -> tuple[int, str, str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("P2PCALL_DATA_DIR", None)
    proc = subprocess.run(
        [sys.executable, "-m", "p2pcall", *argv],
        capture_output=True,
        timeout=120,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    return proc.returncode, proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")


def judge(argv: list[str], code: int, out: str, err: str) -> None:
    command = argv[2]
    if currently_in_test_context():  # --hypothesis-show-statistics: what was reached
        event(f"{command} exit {code}")
    assert "Traceback" not in err and "unexpected error" not in err, (argv, err)
    if code == 0:
        check_output(argv, command, out, err)
        return
    if command == "verify" and code == 1 and err == "":
        assert out.strip(), argv  # its report: what was checked and the verdict
        return
    assert code in (1, 2), (argv, code, err)
    assert len(err.splitlines()) == 1 and err.endswith("\n"), (argv, err)
    assert err.startswith("p2pcall"), (argv, err)


def check_output(argv: list[str], command: str, out: str, err: str) -> None:
    target = argv[argv.index("-o") + 1] if "-o" in argv else None
    if command in ("show", "export", "letter") and target is None:
        assert err == "", (argv, err)
        if command != "letter":
            assert check_digest(out)[0], argv
        else:
            assert out.strip(), argv
    elif target is not None:
        # The path as the terminal should see it: one line, control characters visible.
        assert err == f"Wrote {one_line(target)}\n" and out == "", (argv, err)
        written = Path(target)
        assert stat.S_ISREG(written.lstat().st_mode)  # never a device, FIFO or link
        assert stat.S_IMODE(written.stat().st_mode) == 0o600
        if command == "export":
            assert check_digest(written.read_text(encoding="utf-8"))[0]
    elif command == "verify":  # (with --no-database the verdict may say only the digest)
        assert err == "" and ("VERIFIED" in out or "DIGEST MATCHES" in out), (argv, out)
        assert "NOT VERIFIED" not in out, (argv, out)
    elif command == "where":
        assert out.startswith("data folder: ") and len(out.splitlines()) == 2
    elif "--json" in argv:
        assert isinstance(json.loads(out), dict), argv
    else:
        assert out.strip(), argv
        allowed = err == "" or (command == "list" and err.startswith("(the newest"))
        assert allowed, (argv, err)


ORIGINAL_ODD = {"fifo", "socket", "folder", "existing.txt", "link.txt", "dangling.txt", "null"}


def restore(place: Place) -> None:
    """Put the odd targets back for the next example (a --force may replace the regular one)."""
    odd = place.root / "odd"
    (odd / "existing.txt").write_text("the user's own file\n")
    for made in odd.iterdir():
        if made.name not in ORIGINAL_ODD:
            made.unlink()


def check_untouched(place: Place, before: dict[str, str]) -> None:
    odd = place.root / "odd"
    assert stat.S_ISFIFO(os.lstat(odd / "fifo").st_mode)
    assert stat.S_ISSOCK(os.lstat(odd / "socket").st_mode)
    assert stat.S_ISDIR(os.lstat(odd / "folder").st_mode)
    assert os.readlink(odd / "link.txt") == str(odd / "existing.txt")
    assert not (place.root / "missing").exists()  # a read creates no data folder
    assert not (place.data / "inside.txt").exists()  # no export into the records' folder
    if IS_ROOT:
        assert stat.S_ISCHR(os.lstat(odd / "null").st_mode)
    assert {p.name: _digest(p) for p in place.data.iterdir() if p.name == DB} == before


SETTINGS = settings(
    max_examples=int(os.environ.get("P2PCALL_HOSTILE_EXAMPLES", "250")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same examples on every run: CI failures reproduce
)


@SETTINGS
@given(data=st.data())
def test_every_command_answers_hostile_input_in_one_line(place: Place, data) -> None:
    before = {DB: _digest(place.data / DB)}
    argv = data.draw(command_lines(place))
    try:
        code, out, err = run_in_process(argv)
        judge(argv, code, out, err)
        check_untouched(place, before)
    finally:
        restore(place)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
@pytest.mark.slow
@given(data=st.data())
def test_a_sample_as_real_processes(place: Place, data) -> None:
    """The same judgement on real processes: exit codes, the excepthook, real stdout."""
    before = {DB: _digest(place.data / DB)}
    argv = data.draw(command_lines(place))
    try:
        code, out, err = run_as_process(argv)
        judge(argv, code, out, err)
        check_untouched(place, before)
    finally:
        restore(place)


@pytest.mark.parametrize(
    "argv",
    [
        ["export", "9223372036854775808"],
        ["list", "--until", "9999-12-31"],
        ["list", "--search", "cred*"],
        ["verify", "/dev/zero"],
        ["export", "1", "-o", "{odd}/fifo", "--force"],
        ["export", "1", "-o", "{odd}/folder", "--force"],
        ["letter", "1", "-o", "{odd}/link.txt", "--force"],
        ["export", "1", "-o", "{odd}/" + "n" * 300],
        ["show"],
        ["list", "--bogus"],
    ],
)
def test_known_hostile_lines(place: Place, argv: list[str]) -> None:
    """The reported cases, kept as fixed examples next to the generated ones."""
    filled = [arg.replace("{odd}", str(place.root / "odd")) for arg in argv]
    full = ["--data-dir", str(place.data), *filled]
    before = {DB: _digest(place.data / DB)}
    try:
        code, out, err = run_in_process(full)
        judge(full, code, out, err)
        check_untouched(place, before)
    finally:
        restore(place)
