"""What each layer imports, checked in fresh interpreters (this process has imported it all).

The TUI's first frame must not wait for SQLAlchemy, SQLModel or pendulum; the domain core
must stay free of Textual and the database; `p2pcall where` must not load Textual.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("textual", "rich", "sqlalchemy", "sqlmodel", "pydantic", "pendulum", "platformdirs")

# Prints, as JSON, which of the top-level packages in HEAVY the child has imported.
REPORT = (
    "import json, sys\n"
    f"HEAVY = {HEAVY!r}\n"
    "loaded = sorted({name.split('.')[0] for name in sys.modules} & set(HEAVY))\n"
    "print(json.dumps({'loaded': loaded}))\n"
)


@pytest.fixture
def sandbox(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """An empty working directory and an environment whose home and data dirs point into it."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    env = dict(os.environ)
    env.pop("P2PCALL_DATA_DIR", None)
    env["HOME"] = str(tmp_path / "home")
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg-data")
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg-config")
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg-cache")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return tmp_path, env


def everything_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def run_child(code: str, env: dict[str, str], cwd: Path, *args: str) -> dict:
    proc = subprocess.run(
        [sys.executable, *args, "-c", code],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_domain_modules_do_not_import_tui_or_database(sandbox) -> None:
    root, env = sandbox
    code = (
        "import importlib, pkgutil\n"
        "import p2pcall.domain as domain\n"
        "found = [m.name for m in pkgutil.walk_packages(domain.__path__, 'p2pcall.domain.')]\n"
        "for name in found:\n"
        "    importlib.import_module(name)\n"
        "print('modules:' + ','.join(found))\n" + REPORT
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=root / "cwd",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    modules = set(lines[0].removeprefix("modules:").split(","))
    expected = {
        "models",
        "fields",
        "vocab",
        "sections",
        "timefmt",
        "text",
        "casefacts",
        "planner",
        "datedwords",
        "plausible",
        "upcoming",
        "verify",
        "localzone",
        "reviewers",
        "stats",
    }
    expected |= {"export.strict_json", "export.digest"}
    expected |= {f"packet.{name}" for name in ("model", "render", "read", "recount", "summary")}
    assert {f"p2pcall.domain.{name}" for name in expected} <= modules
    loaded = json.loads(lines[-1])["loaded"]
    for package in ("textual", "sqlalchemy", "sqlmodel"):
        assert package not in loaded, f"a domain module imports {package}: {loaded}"
    # p2pcall.domain documents that pendulum is imported inside the functions needing it.
    assert "pendulum" not in loaded, loaded


def test_store_does_not_import_textual(sandbox) -> None:
    root, env = sandbox
    code = (
        "import importlib, pkgutil\n"
        "import p2pcall.store as store\n"
        "for found in pkgutil.walk_packages(store.__path__, 'p2pcall.store.'):\n"
        "    importlib.import_module(found.name)\n"
    )
    loaded = run_child(code + REPORT, env, root / "cwd")["loaded"]
    assert "sqlalchemy" in loaded  # the check sees real imports (store.store, tables)
    assert "textual" not in loaded, loaded
    assert "rich" not in loaded, loaded


def test_record_checks_do_not_import_textual(sandbox) -> None:
    """What exports and `verify` use to check a record: store side, never the TUI, and
    plain sqlite3 (the read-only commands load neither SQLAlchemy nor SQLModel)."""
    root, env = sandbox
    code = "import p2pcall.store.integrity, p2pcall.store.exporting, p2pcall.commands.verify\n"
    code += "import p2pcall.store.reader, p2pcall.store.history, p2pcall.store.queries.calls\n"
    loaded = run_child(code + REPORT, env, root / "cwd")["loaded"]
    for package in ("textual", "rich", "sqlalchemy", "sqlmodel"):
        assert package not in loaded, loaded


def test_packet_command_does_not_import_textual(sandbox) -> None:
    """`p2pcall packet` (JSON and PDF) and `verify` of a packet run without the TUI."""
    root, env = sandbox
    data, out = root / "data", root / "out"
    code = (
        "from pathlib import Path\n"
        "from p2pcall.store import Store\n"
        f"Store.open(Path({str(data)!r})).close()\n"
        f"Path({str(out)!r}).mkdir()\n"
        "from p2pcall.cli import main\n"
        f"assert main(['--data-dir', {str(data)!r}, 'packet', '-f', 'json', '-o', "
        f"{str(out / 'p.json')!r}]) == 0\n"
        f"assert main(['--data-dir', {str(data)!r}, 'packet', '-f', 'pdf', '-o', "
        f"{str(out / 'p.pdf')!r}]) == 0\n"
        f"assert main(['--data-dir', {str(data)!r}, 'verify', {str(out / 'p.json')!r}]) == 0\n"
    )
    loaded = run_child(code + REPORT, env, root / "cwd")["loaded"]
    assert "sqlalchemy" in loaded  # the check sees real imports
    assert "textual" not in loaded and "rich" not in loaded, loaded


def test_stats_command_does_not_import_textual(sandbox) -> None:
    """`p2pcall stats` runs for real (on an empty data folder) without the TUI."""
    root, env = sandbox
    data = root / "data"
    code = (
        "from p2pcall.store import Store\n"
        f"Store.open(__import__('pathlib').Path({str(data)!r})).close()\n"
        "import p2pcall.store.stats, p2pcall.store.reviewers\n"
        "from p2pcall.cli import main\n"
        f"assert main(['--data-dir', {str(data)!r}, 'stats', '--by', 'month', '--json']) == 0\n"
    )
    loaded = run_child(code + REPORT, env, root / "cwd")["loaded"]
    assert "sqlalchemy" in loaded  # the check sees real imports
    assert "textual" not in loaded and "rich" not in loaded, loaded


def test_exit_watchdog_imports_nothing_heavy(sandbox) -> None:
    # It runs while the process is leaving, maybe from a signal: standard library only.
    root, env = sandbox
    loaded = run_child("import p2pcall.exit_watchdog\n" + REPORT, env, root / "cwd")["loaded"]
    assert loaded == [], loaded


def test_terminal_guard_leaves_database_out(sandbox) -> None:
    root, env = sandbox
    loaded = run_child("import p2pcall.terminal_guard\n" + REPORT, env, root / "cwd")["loaded"]
    assert "textual" in loaded  # the check sees real imports
    for package in ("sqlalchemy", "sqlmodel", "pendulum"):
        assert package not in loaded, f"the terminal guard loads {package}: {loaded}"


def test_app_import_leaves_database_and_pendulum_out(sandbox) -> None:
    root, env = sandbox
    loaded = run_child("import p2pcall.app\n" + REPORT, env, root / "cwd")["loaded"]
    assert "textual" in loaded  # the check sees real imports
    for package in ("sqlalchemy", "sqlmodel", "pendulum"):
        assert package not in loaded, f"importing the TUI loads {package}: {loaded}"
    assert everything_under(root / "cwd") == []


def test_where_command_prints_paths_without_textual(sandbox) -> None:
    root, env = sandbox
    data = root / "data-here"
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "p2pcall", "--data-dir", str(data), "where"],
        env=env,
        cwd=root / "cwd",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        f"data folder: {data}",
        f"database:    {data / 'p2pcall.sqlite3'}",
    ]
    imported = [
        line.rsplit("|", 1)[-1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    ]
    assert "p2pcall.cli" in imported  # the importtime report was parsed
    for package in ("textual", "sqlalchemy", "sqlmodel", "pendulum"):
        assert not [m for m in imported if m == package or m.startswith(package + ".")], package
    assert not data.exists()
    assert sorted(p.name for p in root.iterdir()) == ["cwd"]
    assert everything_under(root / "cwd") == []


def test_where_via_main_does_not_import_textual(sandbox) -> None:
    root, env = sandbox
    data = root / "elsewhere"
    code = (
        "import contextlib, io\n"
        "from p2pcall.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    code = main(['--data-dir', {str(data)!r}, 'where'])\n"
        "assert code == 0, code\n"
        "assert out.getvalue().startswith('data folder: '), out.getvalue()\n" + REPORT
    )
    loaded = run_child(code, env, root / "cwd")["loaded"]
    assert loaded == [], loaded  # not even platformdirs: --data-dir was given
    assert not data.exists()
    assert sorted(p.name for p in root.iterdir()) == ["cwd"]


def test_deadlines_command_does_not_import_textual_or_the_database(sandbox) -> None:
    root, env = sandbox
    data = root / "elsewhere"
    code = (
        "import contextlib, io, json\n"
        "from p2pcall.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    code = main(['--data-dir', {str(data)!r}, 'deadlines', '--plan', 'erisa',\n"
        "        '--tz', 'America/New_York', '--notice-received', '2026-01-05', '--json'])\n"
        "assert code == 0, code\n"
        "assert json.loads(out.getvalue())['followups'], out.getvalue()\n" + REPORT
    )
    loaded = run_child(code, env, root / "cwd")["loaded"]
    assert "pendulum" in loaded  # the check sees real imports
    for package in ("textual", "rich", "sqlalchemy", "sqlmodel"):
        assert package not in loaded, loaded
    assert not data.exists()  # it reads and writes no records


@pytest.mark.parametrize("module", ["p2pcall", "p2pcall.cli"])
def test_package_and_cli_import_light_and_create_nothing(sandbox, module: str) -> None:
    root, env = sandbox
    loaded = run_child(f"import {module}\n" + REPORT, env, root / "cwd")["loaded"]
    assert loaded == [], f"importing {module} loads {loaded}"
    # No data, config or cache folder appears, and nothing in the working directory.
    assert sorted(p.name for p in root.iterdir()) == ["cwd"]
    assert everything_under(root / "cwd") == []


def test_letter_modules_and_command_stay_off_textual_and_fpdf(sandbox) -> None:
    """Letters: the model and settings never load Textual; fpdf2 loads only for a PDF."""
    root, env = sandbox
    code = (
        "import p2pcall.domain.letters, p2pcall.config, p2pcall.letterjob, p2pcall.letterpdf\n"
        "import p2pcall.commands.letter\n"
        "import sys\n"
        "assert 'fpdf' not in sys.modules, 'fpdf imported before a PDF was asked for'\n"
    ) + REPORT
    loaded = run_child(code, env, root / "cwd")["loaded"]
    assert "textual" not in loaded and "sqlalchemy" not in loaded, loaded
    assert sorted(p.name for p in root.iterdir()) == ["cwd"]  # no config folder made


def test_the_read_only_opening_needs_no_orm(sandbox) -> None:
    """store/reading.py is plain sqlite3: a reader that skips SQLAlchemy can use it alone."""
    root, env = sandbox
    code = (
        "import importlib.util, pathlib, p2pcall\n"
        "path = pathlib.Path(p2pcall.__file__).parent / 'store' / 'reading.py'\n"
        "spec = importlib.util.spec_from_file_location('reading_alone', path)\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "assert callable(module.connect) and callable(module.database_to_read)\n" + REPORT
    )
    loaded = run_child(code, env, root / "cwd")["loaded"]
    for package in ("sqlalchemy", "sqlmodel", "textual", "pendulum"):
        assert package not in loaded, f"store/reading.py imports {package}: {loaded}"


def test_server_modules_stay_off_textual_and_psycopg_until_used(sandbox) -> None:
    """`p2pcall db` and the server schema: no TUI; psycopg (an optional extra) only once a
    command runs, so the parser builds without it. (SQLAlchemy still comes along through
    p2pcall/store/__init__.py, which imports the SQLite store.)"""
    root, env = sandbox
    code = (
        "import p2pcall.commands.db, p2pcall.store.postgres.schema\n"
        "import p2pcall.store.postgres.connection\n"
        "from p2pcall.cli import build_parser\n"
        "build_parser()\n"
        "import sys\n"
        "assert 'psycopg' not in sys.modules, 'psycopg at import time'\n"
    )
    loaded = run_child(code + REPORT, env, root / "cwd")["loaded"]
    assert "textual" not in loaded and "rich" not in loaded, loaded
    assert everything_under(root / "cwd") == []


def test_db_copy_stays_off_textual(sandbox) -> None:
    """`p2pcall db copy` (its command, the copy itself, the laptop numbers of copied calls)
    is a command-line job: no TUI. The numbering is read by every export and `verify`, so
    it stays off the ORM too."""
    root, env = sandbox
    code = "import p2pcall.commands._db_copy, p2pcall.store.postgres.copy\n"
    loaded = run_child(code + REPORT, env, root / "cwd")["loaded"]
    assert "textual" not in loaded and "rich" not in loaded, loaded
    light = run_child("import p2pcall.store.numbering\n" + REPORT, env, root / "cwd")["loaded"]
    for package in ("textual", "rich", "sqlalchemy", "sqlmodel"):
        assert package not in light, light


def test_server_set_up_never_imports_the_sqlite_store() -> None:
    """Setting a server up (`db init`, `db upgrade`: its schema and connection modules) stands
    apart from the SQLite store. The PostgreSQL store itself is the SQLite store's `Store`
    with the server's dialect, and imports it on purpose."""
    import ast

    import p2pcall

    src = Path(p2pcall.__file__).parent
    server = src / "store" / "postgres"
    modules = [server / "schema.py", server / "connection.py", src / "commands" / "db.py"]
    for module in modules:
        for node in ast.walk(ast.parse(module.read_text())):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                if name.startswith("p2pcall.store"):
                    assert name.startswith("p2pcall.store.postgres"), f"{module.name}: {name}"


def test_screens_and_widgets_never_import_the_store() -> None:
    """They ask for data through `p2pcall.queries` (and the open call's `CallSession`): an
    import of the store, even one for a type only, ties a screen to the store's insides."""
    import ast

    import p2pcall

    root = Path(p2pcall.__file__).parent
    found = []
    for folder in ("screens", "widgets"):
        for path in sorted((root / folder).glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom):
                    names = [node.module or ""]
                else:
                    continue
                found += [
                    f"{folder}/{path.name}:{node.lineno} {name}"
                    for name in names
                    if name == "p2pcall.store" or name.startswith("p2pcall.store.")
                ]
    assert found == []


def test_the_call_session_and_queries_import_no_database(sandbox) -> None:
    """Screens import these before the first frame: SQLAlchemy loads after it, in the thread."""
    root, env = sandbox
    code = (
        "import pkgutil, importlib, p2pcall.screens, p2pcall.widgets\n"
        "import p2pcall.session, p2pcall.queries, p2pcall.host\n"
        "for package in (p2pcall.screens, p2pcall.widgets):\n"
        "    for m in pkgutil.iter_modules(package.__path__, package.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
    )
    loaded = run_child(code + REPORT, env, root / "cwd")["loaded"]
    assert "textual" in loaded  # the check sees real imports
    for package in ("sqlalchemy", "sqlmodel"):
        assert package not in loaded, f"the screens or the session load {package}: {loaded}"


# A database with one finalized call, made by a child (this process has SQLAlchemy loaded).
MAKE_DATABASE = """
import sys
from pathlib import Path
from p2pcall.domain.sections import Section
from p2pcall.domain.timefmt import now_utc
from p2pcall.domain.vocab import NoteKind, Outcome
from p2pcall.store import Store
from p2pcall.store.opening import open_store
store = open_store(Path(sys.argv[1]))
call = store.start_call("America/New_York")
store.set_field(call.id, "insurer", "Okapi Mutual")
store.add_note(call.id, Section.B, NoteKind.NOTE, "reviewer asked about lithium", now_utc())
store.end_call(call.id, Outcome.DENIED)
store.finalize_call(call.id)
store.close()
"""

READ_ONLY_COMMANDS = {
    "list": ["list", "--search", "lithium"],
    "due": ["due"],
    "show": ["show", "1"],
    "export": ["export", "1", "--format", "json"],
    "verify": ["verify", "EXPORT"],
    "where": ["where"],
}


# Modules a read-only command does not need for this database (its call has no follow-up made
# from a deadline rule), kept off its path so that it starts quickly (issue 17): the rule table
# loads only for a follow-up made from a rule, and `verify` tells an export from a packet by its
# first line (domain/packet/kind.py) without the packet's reader, renderer and summary.
KEPT_OFF_THE_PATH = {
    "show": ("p2pcall.domain.deadlines", "p2pcall.domain.packet.model"),
    "export": ("p2pcall.domain.deadlines", "p2pcall.domain.packet.model"),
    "verify": (
        "p2pcall.domain.deadlines",
        "p2pcall.domain.packet.read",
        "p2pcall.domain.packet.render",
        "p2pcall.domain.packet.summary",
        "p2pcall.domain.history",
        "p2pcall.domain.stats",
    ),
}


@pytest.mark.parametrize("name", sorted(READ_ONLY_COMMANDS))
def test_read_only_commands_load_neither_the_orm_nor_textual(sandbox, name: str) -> None:
    """Issue 17: `list`, `due`, `show`, `export`, `verify` and `where` start quickly because
    they read with plain sqlite3 (`store.reader`); each runs for real on a real database."""
    root, env = sandbox
    data = root / "data"
    made = subprocess.run(
        [sys.executable, "-c", MAKE_DATABASE, str(data)],
        env=env,
        cwd=root / "cwd",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    export = root / "call-1.txt"
    exported = subprocess.run(
        [
            sys.executable,
            "-m",
            "p2pcall",
            "--data-dir",
            str(data),
            "export",
            "1",
            "-o",
            str(export),
        ],
        env=env,
        cwd=root / "cwd",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert exported.returncode == 0, exported.stderr
    argv = [str(export) if arg == "EXPORT" else arg for arg in READ_ONLY_COMMANDS[name]]
    # The command prints to the real stdout (exports write bytes); the report comes last.
    code = (
        "import sys\n"
        "from p2pcall.cli import main\n"
        f"code = main(['--data-dir', {str(data)!r}, *{argv!r}])\n"
        "assert code == 0, code\n"
        "sys.stdout.flush()\n" + REPORT
    )
    # REPORT leaves `loaded` set; the last line adds every module the command imported.
    code += "print(json.dumps({'loaded': loaded, 'modules': sorted(sys.modules)}))\n"
    report = run_child(code, env, root / "cwd")
    loaded, modules = report["loaded"], set(report["modules"])
    assert "p2pcall.cli" in modules  # the check sees real imports
    for package in ("sqlalchemy", "sqlmodel", "textual", "rich"):
        assert package not in loaded, f"`p2pcall {name}` loads {package}: {loaded}"
    for module in KEPT_OFF_THE_PATH.get(name, ()):
        assert module not in modules, f"`p2pcall {name}` loads {module}"


def _imports_of(path: Path, module: str, package: str) -> set[str]:
    """The modules of `package` that `module` imports anywhere in its text (inside functions
    and TYPE_CHECKING blocks too: a cycle there is still a cycle for a reader)."""
    import ast

    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            if node.level:  # relative: resolved against this module's package
                base = ".".join([*module.split(".")[: -node.level], node.module])
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        found.update(name for name in names if name.startswith(package))
    return found


@pytest.mark.parametrize("package", ["p2pcall.store", "p2pcall"])
def test_no_import_cycle(package: str) -> None:
    """Issue 15: no cycle among p2pcall's modules, the store's first (its mixins used to import
    StoreError and row converters back from store.py inside functions), counting imports inside
    functions and under TYPE_CHECKING too."""
    import importlib

    root = Path(importlib.import_module(package).__file__ or "").parent
    modules: dict[str, Path] = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join((package, *parts))] = path
    # `from p2pcall.store import schema` names the module schema, and the package itself,
    # whose __init__ Python runs before any of its modules (and which loads nothing else at
    # import time): never an edge of a cycle.
    graph = {
        name: {
            target
            for target in _imports_of(path, name, package)
            if target in modules and target != name and modules[target].name != "__init__.py"
        }
        for name, path in modules.items()
    }
    assert "p2pcall.store.errors" in graph["p2pcall.store.store"]  # the graph sees imports
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == [], cycles


def test_the_outbox_and_its_sending_stay_off_textual_and_the_database(sandbox) -> None:
    """The outbox is kept and sent with the standard library; `p2pcall check` reads it too."""
    root, env = sandbox
    code = "import p2pcall.outbox, p2pcall.outbox_sending, p2pcall.commands.check\n"
    loaded = run_child(code + REPORT, env, root / "cwd")["loaded"]
    assert loaded == []
    assert everything_under(root) == ["cwd"]  # nothing created at import
