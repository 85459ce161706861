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
    loaded = run_child("import p2pcall.store\n" + REPORT, env, root / "cwd")["loaded"]
    assert "sqlalchemy" in loaded  # the check sees real imports
    assert "textual" not in loaded, loaded
    assert "rich" not in loaded, loaded


def test_record_checks_do_not_import_textual(sandbox) -> None:
    """What exports and `verify` use to check a record: store side, never the TUI."""
    root, env = sandbox
    code = "import p2pcall.store.integrity, p2pcall.store.exporting, p2pcall.commands.verify\n"
    loaded = run_child(code + REPORT, env, root / "cwd")["loaded"]
    assert "sqlalchemy" in loaded  # the check sees real imports
    assert "textual" not in loaded and "rich" not in loaded, loaded


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
