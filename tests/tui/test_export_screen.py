"""The ExportScreen modal driven with keys in the real app, writing real files."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from export_db import make_database
from p2pcall.app import P2PCallApp
from p2pcall.domain.export.digest import check_digest, read_meta
from p2pcall.screens.export import ExportScreen
from pilot_helpers import open_app, settle, wait_until

# Every test here runs on the local file and on a practice server (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("database")


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def open_export(pilot, call_id: int, folder: Path) -> list:
    results: list = []
    pilot.app.push_screen(ExportScreen(call_id, folder=folder), results.append)
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ExportScreen))
    await pilot.pause()
    return results


async def test_choose_markdown_and_redaction_then_write(data_dir: Path, tmp_path: Path) -> None:
    call_id = make_database(data_dir)
    out = tmp_path / "exports"
    out.mkdir()
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        results = await open_export(pilot, call_id, out)
        screen = app.screen
        path_field = screen.query_one("#export-path")
        assert path_field.value == str(out / f"p2pcall-call-{call_id}-record.txt")
        # Keyboard only: back to the format list, pick Markdown, then tick redaction.
        await pilot.press("shift+tab", "shift+tab")
        assert app.focused is screen.query_one("#export-format")
        await pilot.press("down", "enter")
        await pilot.press("tab", "space")
        assert screen.kind == "markdown" and screen.redact is True
        expected = out / f"p2pcall-call-{call_id}-record-redacted.md"
        assert path_field.value == str(expected)  # the suggested name followed the choices
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: results)
        await settle(pilot)
        assert results == [expected]
        assert not isinstance(app.screen, ExportScreen)
    text = expected.read_text(encoding="utf-8")
    assert mode_of(expected) == 0o600
    assert check_digest(text)[0]
    meta = read_meta(text)
    assert (meta.format, meta.call_id, meta.redact) == ("markdown", call_id, True)
    assert "JD-0412" not in text
    assert sorted(p.name for p in out.iterdir()) == [expected.name]


async def test_arrows_and_ctrl_r_choose_from_the_file_name(data_dir: Path, tmp_path: Path) -> None:
    """The cursor starts in the file name: the arrows change the format and Ctrl+R redaction
    from there, and Enter writes (seen by hand: Down did nothing, then Enter wrote text)."""
    call_id = make_database(data_dir)
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        results = await open_export(pilot, call_id, tmp_path)
        screen = app.screen
        assert app.focused is screen.query_one("#export-path")
        await pilot.press("down", "down", "up", "down", "ctrl+r")
        assert (screen.kind, screen.redact) == ("json", True)
        assert screen.query_one("#format-json").value
        expected = tmp_path / f"p2pcall-call-{call_id}-record-redacted.json"
        assert screen.query_one("#export-path").value == str(expected)
        await pilot.press("down", "enter")  # past JSON wraps round to plain text, then writes
        await wait_until(pilot, lambda: results)
    expected = tmp_path / f"p2pcall-call-{call_id}-record-redacted.txt"
    assert results == [expected]
    meta = read_meta(expected.read_text(encoding="utf-8"))
    assert (meta.format, meta.redact) == ("text", True)


async def test_asks_before_replacing_a_file(data_dir: Path, tmp_path: Path) -> None:
    call_id = make_database(data_dir)
    folder = tmp_path / "[bold]records"  # shown literally, never as markup
    folder.mkdir()
    target = folder / "record.txt"
    target.write_text("my own record\n")
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        results = await open_export(pilot, call_id, tmp_path)
        screen = app.screen
        screen.query_one("#export-path").value = str(target)
        await pilot.press("enter")
        await pilot.pause()
        status = str(screen.query_one("#export-status").render())
        assert "already exists" in status and "Ctrl+S again" in status
        assert str(target) in status
        assert target.read_text() == "my own record\n"
        assert results == []
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: results)
        await settle(pilot)
        assert results == [target]
    assert target.read_text(encoding="utf-8").startswith("P2PCALL CALL RECORD")
    assert mode_of(target) == 0o600


async def test_errors_stay_on_the_screen_and_escape_cancels(data_dir: Path, tmp_path: Path):
    call_id = make_database(data_dir)
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        results = await open_export(pilot, call_id, tmp_path)
        screen = app.screen
        screen.query_one("#export-path").value = str(tmp_path / "missing" / "x.txt")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "does not exist" in str(
            screen.query_one("#export-status").render()))  # fmt: skip
        assert isinstance(app.screen, ExportScreen)
        assert app.save_state[0] != "error"  # not reported as an unsaved note
        screen.query_one("#export-path").value = str(tmp_path / "Dropbox" / "x.txt")
        await pilot.pause()
        assert "synced folder" in str(screen.query_one("#export-status").render())
        await pilot.press("escape")
        await wait_until(pilot, lambda: results)
        assert results == [None]
    assert list(tmp_path.glob("**/*.txt")) == []


async def test_unknown_call_is_reported(data_dir: Path, tmp_path: Path) -> None:
    make_database(data_dir)
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await open_export(pilot, 999, tmp_path)
        await pilot.press("ctrl+s")
        screen = app.screen
        await wait_until(pilot, lambda: "no call number 999" in str(
            screen.query_one("#export-status").render()))  # fmt: skip
    assert list(tmp_path.glob("p2pcall-*")) == []


def palette_highlights(app: P2PCallApp, wanted: str) -> bool:
    """The command palette is open with the command `wanted` highlighted."""
    from textual.command import CommandList, CommandPalette

    palette = app.screen
    if not isinstance(palette, CommandPalette):
        return False
    option = palette.query_one(CommandList).highlighted_option
    return option is not None and str(option.prompt).startswith(wanted)


async def test_command_palette_exports_the_highlighted_call(data_dir: Path) -> None:
    call_id = make_database(data_dir)
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*f"Letters for call #{call_id}")
        # The palette searches as it is typed into: Enter once the command is the one shown.
        await wait_until(pilot, lambda: palette_highlights(app, f"Letters for call #{call_id}"))
        await pilot.press("enter")
        from p2pcall.screens.letters import LetterScreen

        await wait_until(pilot, lambda: isinstance(app.screen, LetterScreen))
        assert app.screen.call_id == call_id
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, LetterScreen))


async def test_a_fifo_or_link_is_refused_without_an_offer_to_replace(
    data_dir: Path, tmp_path: Path
) -> None:
    """Not a regular file: one line saying why, and no 'press Ctrl+S again to replace'."""
    import os

    call_id = make_database(data_dir)
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    link = tmp_path / "link.txt"
    link.symlink_to(tmp_path / "elsewhere.txt")
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        results = await open_export(pilot, call_id, tmp_path)
        screen = app.screen
        for target, reason in ((pipe, "is a FIFO"), (link, "is a symbolic link")):
            screen.query_one("#export-path").value = str(target)
            await pilot.press("enter")
            await wait_until(pilot, lambda r=reason: r in str(
                screen.query_one("#export-status").render()))  # fmt: skip
            status = str(screen.query_one("#export-status").render())
            assert "Ctrl+S again" not in status
            await pilot.press("ctrl+s")  # a second press changes nothing
            await pilot.pause()
            await wait_until(pilot, lambda: not screen.busy)
            assert reason in str(screen.query_one("#export-status").render())
        assert isinstance(app.screen, ExportScreen) and results == []
    assert stat.S_ISFIFO(os.lstat(pipe).st_mode)
    assert os.readlink(link) == str(tmp_path / "elsewhere.txt")
    assert not (tmp_path / "elsewhere.txt").exists()
