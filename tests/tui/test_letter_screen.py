"""The letter screen driven with keys in the real app: pick, preview, edit, write, listed."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from export_db import make_database
from p2pcall.app import P2PCallApp
from p2pcall.screens.letters import LetterFileScreen, LetterScreen, SettingsScreen
from p2pcall.store.opening import open_store
from pilot_helpers import open_app, settle, wait_until
from test_snapshots import frozen  # noqa: F401  (a fixture: time and zone frozen)

# Every test here runs on the local file and on a practice server (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("database")


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "config"
    monkeypatch.setenv("P2PCALL_CONFIG_DIR", str(folder))
    return folder


async def open_letters(pilot, call_id: int, folder: Path) -> LetterScreen:
    pilot.app.push_screen(LetterScreen(call_id, folder=folder))
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, LetterScreen))
    screen = pilot.app.screen
    await wait_until(pilot, lambda: screen.source is not None)
    await pilot.pause()
    return screen


def text_of(screen: LetterScreen) -> str:
    return screen.query_one("#letter-text").text


async def test_preview_edit_write_and_listed(data_dir: Path, tmp_path: Path) -> None:
    call_id = make_database(data_dir)
    out = tmp_path / "out"
    out.mkdir()
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        screen = await open_letters(pilot, call_id, out)
        draft = text_of(screen)
        assert "Written confirmation" in draft and "Dear Dr. A. Ruiz" in draft
        # Each kind previews; the complaint has grounds in this record (reviewer not of the
        # same specialty, board certification declined).
        await pilot.press("down", "down", "down")
        assert screen.kind == "complaint" and "Complaint about" in text_of(screen)
        await pilot.press("up", "up", "up")
        assert screen.kind == "confirmation"
        # Edit in place: typed text is kept with the call, marked as the user's.
        await pilot.press("ctrl+e")
        assert screen.editing and app.focused is screen.query_one("#letter-text")
        await pilot.press("ctrl+home", *"Faxed 24 Nov. ", "escape")
        await settle(pilot)
        assert not screen.editing
        assert text_of(screen).startswith("Faxed 24 Nov. DRAFT")
        assert "YOUR EDITED TEXT" in str(screen.query_one("#letter-status").render())
        # Write it as PDF: the file dialog, arrows to PDF, Enter.
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, LetterFileScreen))
        await pilot.press("down", "down")
        expected = out / f"p2pcall-call-{call_id}-confirmation.pdf"
        assert app.screen.query_one("#letter-path").value == str(expected)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, LetterScreen))
        await settle(pilot)
        assert "confirmation.pdf" in str(screen.query_one("#letter-files").render())
    assert stat.S_IMODE(expected.stat().st_mode) == 0o600
    import pypdf

    pdf_text = pypdf.PdfReader(expected).pages[0].extract_text()
    assert "Faxed 24 Nov." in pdf_text
    store = open_store(data_dir)
    try:
        files = store.letter_files(call_id)
        edit = store.letter_edit(call_id, "confirmation")
        record = store.load_call(call_id)
    finally:
        store.close()
    assert [(f.kind, f.format, f.path, f.edited) for f in files] == [
        ("confirmation", "pdf", str(expected), True)
    ]
    assert edit is not None and edit.body.startswith("Faxed 24 Nov. DRAFT")
    assert not any("Faxed" in n.body for n in record.notes)  # the record is untouched


async def test_burst_edit_keeps_every_key_in_order(data_dir: Path, tmp_path: Path) -> None:
    call_id = make_database(data_dir)
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        screen = await open_letters(pilot, call_id, tmp_path)
        # One burst: edit, type, done, edit again (the cursor starts at the top), type, done.
        await pilot.press("ctrl+e", *"abc", "escape", "ctrl+e", *"xyz", "escape", "down")
        await settle(pilot)
        assert not screen.editing and screen.kind == "expedited-appeal"  # Down reached the list
        await pilot.press("up")
        assert text_of(screen).startswith("xyzabcDRAFT")  # kept when coming back


async def test_settings_saved_and_used(data_dir: Path, tmp_path: Path, config_dir: Path) -> None:
    call_id = make_database(data_dir)
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        screen = await open_letters(pilot, call_id, tmp_path)
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: isinstance(app.screen, SettingsScreen))
        await pilot.press(*"Dr. Jane Roe", "tab", *"MD", "tab", *"Psychiatry", "tab", *"1234567890")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, LetterScreen))
        await settle(pilot)
        assert "Dr. Jane Roe, MD" in text_of(screen) and "NPI: 1234567890" in text_of(screen)
    path = config_dir / "settings.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert 'name = "Dr. Jane Roe"' in path.read_text()


async def test_detail_l_opens_letters_and_lists_written(data_dir: Path, tmp_path: Path) -> None:
    from p2pcall.screens.detail import DetailScreen

    call_id = make_database(data_dir)
    store = open_store(data_dir)
    store.add_letter_file(call_id, "records-request", "text", str(tmp_path / "r.txt"), edited=False)
    store.close()
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        app.push_screen(DetailScreen(call_id))
        await wait_until(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen.detail)
        blocks = " ".join(str(s.render()) for s in app.screen.query(".detail-block"))
        assert "Letters written" in blocks and "Request for records (text)" in blocks
        await pilot.press("l")
        await wait_until(pilot, lambda: isinstance(app.screen, LetterScreen))


@pytest.mark.sqlite_only
def test_snapshot_letter_screen(data_dir: Path, tmp_path: Path, snap_compare, frozen) -> None:  # noqa: F811
    call_id = make_database(data_dir)

    async def run_before(pilot) -> None:
        await open_app(pilot)
        await open_letters(pilot, call_id, tmp_path)

    assert snap_compare(P2PCallApp(data_dir), terminal_size=(80, 24), run_before=run_before)


async def test_wrap_up_offers_the_records_request_and_opens_letters(data_dir: Path) -> None:
    """G holds a refused document: the wrap-up says so and `l` opens the records request."""
    from p2pcall.screens.wrap_up import WrapUpScreen
    from test_wrap_up import end_call_into_wrap_up, seed_live_call

    seed_live_call(
        data_dir,
        {"insurer": "Acme", "coverage_status": "denied", "doc_credentials": "refused"},
    )
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        wrap = await end_call_into_wrap_up(pilot)
        hint = wrap.query_one("#wrap-letter-hint")
        assert hint.display and "Request for records" in str(hint.render())
        await pilot.press("l")
        await wait_until(pilot, lambda: isinstance(app.screen, LetterScreen))
        screen = app.screen
        await wait_until(pilot, lambda: screen.source is not None)
        assert screen.kind == "records-request"
        assert "I asked for the reviewer's credentials; the reviewer refused." in " ".join(
            text_of(screen).split()
        )
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, WrapUpScreen))


async def test_wrap_up_without_open_requests_shows_no_hint(data_dir: Path) -> None:
    from test_wrap_up import end_call_into_wrap_up, seed_live_call

    seed_live_call(data_dir, {"insurer": "Acme", "coverage_status": "denied"})
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        wrap = await end_call_into_wrap_up(pilot)
        assert not wrap.query_one("#wrap-letter-hint").display


async def test_format_keys_in_one_burst_write_what_was_typed(
    data_dir: Path, tmp_path: Path
) -> None:
    """Down Down Enter typed at once writes a PDF (seen by hand in tmux: it wrote Markdown,
    because the second Down read the format before the first one's change arrived)."""
    call_id = make_database(data_dir)
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        screen = await open_letters(pilot, call_id, tmp_path)
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, LetterFileScreen))
        for key in ("down", "down", "enter"):
            app.post_message(__import__("textual.events", fromlist=["Key"]).Key(key, None))
        await wait_until(pilot, lambda: isinstance(app.screen, LetterScreen))
        await settle(pilot)
        assert screen.source.files[-1].format == "pdf"
    assert (tmp_path / f"p2pcall-call-{call_id}-confirmation.pdf").exists()


async def test_down_then_edit_in_one_burst_edits_the_letter_chosen(
    data_dir: Path, tmp_path: Path
) -> None:
    from textual.events import Key

    call_id = make_database(data_dir)
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        screen = await open_letters(pilot, call_id, tmp_path)
        for key in ("down", "ctrl+e", "Z", "escape"):
            app.post_message(Key(key, key if len(key) == 1 else None))
        await wait_until(pilot, lambda: not screen.editing and screen.source.edits)
        await settle(pilot)
        assert list(screen.source.edits) == ["expedited-appeal"]
        assert screen.source.edits["expedited-appeal"].body.startswith("ZDRAFT")


async def test_settings_typed_in_one_burst_fill_each_field(
    data_dir: Path, tmp_path: Path, config_dir: Path
) -> None:
    """Typed at once, as tmux sends a pasted line: Tab moved focus too late and every value
    went into the name (seen by hand)."""
    from textual.events import Key

    call_id = make_database(data_dir)
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        screen = await open_letters(pilot, call_id, tmp_path)
        keys = ["ctrl+t", *"Jo", "tab", *"MD", "tab", *"Psy", "ctrl+s"]
        for key in keys:
            app.post_message(Key(key, key if len(key) == 1 else None))
        await wait_until(pilot, lambda: (config_dir / "settings.toml").exists())
        await wait_until(pilot, lambda: isinstance(app.screen, LetterScreen))
        await settle(pilot)
        assert screen.practice.name == "Jo" and screen.practice.credentials == "MD"
        assert screen.practice.specialty == "Psy"


async def test_file_name_typed_then_ctrl_s_in_one_burst(data_dir: Path, tmp_path: Path) -> None:
    from textual.events import Key

    call_id = make_database(data_dir)
    app = P2PCallApp(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_app(pilot)
        screen = await open_letters(pilot, call_id, tmp_path)
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, LetterFileScreen))
        field = app.screen.query_one("#letter-path")
        field.value = str(tmp_path / "a")
        field.cursor_position = len(field.value)
        await pilot.pause()
        for key in ("b", ".", "t", "x", "t", "ctrl+s"):
            app.post_message(Key(key, key if len(key) == 1 else None))
        await wait_until(pilot, lambda: isinstance(app.screen, LetterScreen))
        await settle(pilot)
        assert screen.source.files[-1].path == str(tmp_path / "ab.txt")
    assert (tmp_path / "ab.txt").exists()
