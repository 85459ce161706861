"""Letters after a call: pick one, read it, edit it in place, write it to a file.

    self.app.push_screen(LetterScreen(call_id))                 # from the detail or wrap-up

The letter is drafted from the record (`domain.letters`); the user's edits are saved as they
type into the call's letter_edit row, kept as the user's text and never part of the record.
Ctrl+O writes the letter (text, Markdown or PDF) like an export: whole or not at all, 0600,
and lists it on the call. Loading and writing run in the database thread.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from p2pcall import queries
from p2pcall.domain.text import one_line
from p2pcall.host import host
from p2pcall.screens.letter_file import LetterFileScreen
from p2pcall.screens.settings import SettingsScreen, config_dir_of
from p2pcall.widgets.keybar import KeyBar
from p2pcall.widgets.literal import LiteralTextArea

if TYPE_CHECKING:
    from datetime import datetime

    from p2pcall.domain.letters import Choice, Practice
    from p2pcall.letterjob import LetterSource

__all__ = ["LetterFileScreen", "LetterScreen", "SettingsScreen"]

SAVE_DELAY = 1.0


class LetterText(LiteralTextArea):
    # TextArea binds Ctrl+E (end of line): the letter's own binding makes it the screen's Edit
    # key here too, shown in the key bar.
    BINDINGS = [Binding("ctrl+e", "screen.edit", "Edit", tooltip="Edit the letter / done")]


class LetterScreen(Screen[None]):
    # Keys take effect in typing order through the app's key queue (key_order.py).
    BINDINGS = [
        Binding(
            "ctrl+e",
            "edit",
            "Edit",
            id="letter-edit",
            tooltip="Edit the letter in place (Ctrl+E again or Esc: done)",
        ),
        Binding(
            "ctrl+o",
            "write",
            "Write file",
            id="letter-write",
            tooltip="Write the letter to a file: text, Markdown or PDF",
        ),
        Binding(
            "ctrl+r",
            "reset",
            "Redraft",
            id="letter-reset",
            tooltip="Drop your edits: back to the draft from the record (press twice)",
        ),
        Binding(
            "ctrl+t",
            "settings",
            "Signature",
            id="letter-settings",
            tooltip="Your signature block and practice details, used by every letter",
        ),
        Binding(
            "escape",
            "back",
            "Back",
            id="letter-back",
            tooltip="Done editing, or back to where you were",
        ),
    ]

    DEFAULT_CSS = """
    LetterScreen #letter-kinds { height: 4; border: none; padding: 0; }
    LetterScreen #letter-status { height: auto; max-height: 2; padding: 0 1; color: $text-muted; }
    LetterScreen #letter-status.-edited { color: $warning; }
    LetterScreen #letter-text { height: 1fr; border: none; padding: 0 0 0 1; }
    LetterScreen #letter-files { height: auto; max-height: 3; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, call_id: int, kind: str = "confirmation", folder: Path | None = None):
        super().__init__()
        self.call_id = call_id
        self.kind = kind
        self.folder = folder
        self.source: LetterSource | None = None
        self.practice: Practice | None = None
        self.choices: list[Choice] = []
        self.editing = False
        self.generated_at: datetime | None = None
        self._reset_armed = False
        self._throttle: Any = None
        self._shown_text = ""

    def compose(self) -> ComposeResult:
        yield Static(
            Content(f"Letters for call #{self.call_id}"), classes="section-title", id="letter-title"
        )
        yield OptionList(id="letter-kinds", compact=True)
        yield Static(Content("Loading\u2026"), id="letter-status")
        yield LetterText(
            "", id="letter-text", read_only=True, soft_wrap=True, show_line_numbers=False
        )
        yield Static(Content(""), id="letter-files")
        yield KeyBar()

    def on_mount(self) -> None:
        from p2pcall.throttle import Throttle

        self._throttle = Throttle(self, SAVE_DELAY, self._save_edit)
        self.query_one("#letter-kinds").focus()
        self.reload()

    def reload(self) -> None:
        call_id, config_dir = self.call_id, config_dir_of(self.app)
        host(self).db.read(
            lambda store: ("ok", queries.letter_sources(store, call_id, config_dir)),
            self._loaded,
            lambda error: self._status(error, warn=True),
        )

    def _loaded(self, result: tuple[str, Any]) -> None:
        from p2pcall.domain.letters import facts_from, letter_choices
        from p2pcall.domain.timefmt import now_utc

        self.source, self.practice, problem = result[1]
        self.generated_at = now_utc()
        facts = facts_from(self.source.record, self.source.field_times)
        self.choices = letter_choices(facts)
        kinds = self.query_one("#letter-kinds", OptionList)
        kinds.clear_options()
        for choice in self.choices:
            mark = "\u2605" if choice.suggested else ("\u00b7" if choice.available else "\u2013")
            kinds.add_option(
                Option(
                    Content(f"{mark} {choice.label:<21} {one_line(choice.why, 50)}"), id=choice.kind
                )
            )
        index = next((i for i, c in enumerate(self.choices) if c.kind == self.kind), 0)
        kinds.highlighted = index
        self._show()
        self._show_files()
        self.refresh_bindings()  # Edit and Write depend on what was loaded
        if problem:
            self.notify(problem, severity="warning", timeout=8)

    # -- showing --------------------------------------------------------------------------

    def _show(self) -> None:
        from p2pcall.domain.letters import LetterUnavailable, render_text
        from p2pcall.domain.timefmt import clock_time
        from p2pcall.letterjob import draft

        if self.source is None or self.practice is None or self.generated_at is None:
            return
        edit = self.source.edits.get(self.kind)
        if edit is not None:
            text = edit.body
            when = clock_time(edit.updated_at, self.source.record.call.tz)
            self._status(
                f"YOUR EDITED TEXT (saved {when}), not part of the record. Ctrl+R twice: "
                "back to the draft.",
                edited=True,
            )
        else:
            try:
                text = render_text(draft(self.source, self.kind, self.practice, self.generated_at))
            except LetterUnavailable as exc:
                text = ""
                self._status(f"Not available: {exc}", warn=True)
            else:
                self._status(
                    "Draft from the record: fill in every [to fill in], act on every [check]. "
                    "Ctrl+E edits it."
                )
        area = self.query_one("#letter-text", LiteralTextArea)
        self._shown_text = text
        area.load_text(text)
        area.scroll_home(animate=False)

    def _status(self, text: str, *, edited: bool = False, warn: bool = False) -> None:
        from p2pcall.domain.letters import KINDS

        # The letter's name first: the highlighted line above is told apart by colour only.
        label = KINDS.get(self.kind, (self.kind,))[0]
        status = self.query_one("#letter-status", Static)
        status.update(Content(one_line(f"{label}. {text}", 156)))
        status.set_class(edited or warn, "-edited")

    def _show_files(self) -> None:
        from p2pcall.domain.letters import KINDS
        from p2pcall.domain.timefmt import stamp

        if self.source is None:
            return
        files = self.source.files
        lines = [
            f"Written {stamp(f.written_at, self.source.record.call.tz)[:16]}  "
            f"{KINDS.get(f.kind, (f.kind,))[0]} ({f.format}{', edited' if f.edited else ''})  "
            f"{one_line(Path(f.path).name, 60)}"
            for f in files[-3:]
        ]
        self.query_one("#letter-files", Static).update(Content("\n".join(lines)))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._sync_kind()

    def _sync_kind(self) -> None:
        """Follow the highlighted letter now. Keys call this first: in a burst, Down then
        Ctrl+E reaches the screen before the list's Highlighted message does."""
        kinds = self.query_one("#letter-kinds", OptionList)
        index = kinds.highlighted
        if index is None or not 0 <= index < kinds.option_count:
            return
        kind = kinds.get_option_at_index(index).id
        if kind and kind != self.kind:
            self._finish_editing()
            self.kind = kind
            self._reset_armed = False
            self._show()
            self.refresh_bindings()

    # -- editing --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("edit", "write", "reset") and self.source is None:
            return False
        if action in ("edit", "write") and not self._available() and not self._edited():
            return False
        if action == "reset":
            return self._edited()
        return True

    def _available(self) -> bool:
        return any(c.kind == self.kind and c.available for c in self.choices)

    def _edited(self) -> bool:
        return self.source is not None and self.kind in self.source.edits

    def action_edit(self) -> None:
        if not self.editing:
            self._sync_kind()
        if self.editing:
            self._finish_editing()
            self.set_focus(self.query_one("#letter-kinds"))
            return
        area = self.query_one("#letter-text", LiteralTextArea)
        area.read_only = False
        self.editing = True
        self.set_focus(area)  # at once: Widget.focus() waits a turn, and the next key is typing
        self._status(
            "EDITING: your text is saved as you type, with the call, as yours (the record is not "
            "changed). Ctrl+E or Esc: done.",
            edited=True,
        )

    def on_text_area_changed(self, event: LiteralTextArea.Changed) -> None:
        event.stop()
        if self.editing and event.text_area.text != self._shown_text:
            self._throttle.poke()

    def _save_edit(self) -> None:
        if self.source is None:
            return
        from p2pcall.domain.timefmt import now_utc

        text = self.query_one("#letter-text", LiteralTextArea).text
        if text == self._shown_text and self.kind not in self.source.edits:
            return
        call_id, kind = self.call_id, self.kind
        self._shown_text = text
        # Kept in memory at once, so switching letters and back shows what was typed.
        self.source.edits[kind] = queries.letter_edit(kind, text, now_utc())

        def failed(error: str) -> None:
            self.notify(f"Your letter text was not saved: {error}", severity="error", timeout=8)

        host(self).db.submit(
            lambda store: store.save_letter_edit(call_id, kind, text),
            None,
            failed,
            what="keep your letter text",
        )

    def _finish_editing(self) -> None:
        if not self.editing:
            return
        # Save from the text itself, not only when the throttle was poked: a key typed right
        # before Esc has changed the text before its Changed message reaches this screen.
        self._throttle.cancel()
        self._save_edit()
        self.editing = False
        self.query_one("#letter-text", LiteralTextArea).read_only = True
        self._show()
        self.refresh_bindings()

    def action_back(self) -> None:
        if self.editing:
            self._finish_editing()
            self.set_focus(self.query_one("#letter-kinds"))
            return
        self.dismiss()

    def action_reset(self) -> None:
        if not self.editing:
            self._sync_kind()
        if not self._edited() or self.source is None:
            return
        if not self._reset_armed:
            self._reset_armed = True
            self.notify("Press Ctrl+R again to drop your edits of this letter.", timeout=5)
            return
        self._reset_armed = False
        self._finish_editing()
        call_id, kind = self.call_id, self.kind
        self.source.edits.pop(kind, None)
        host(self).db.submit(
            lambda store: store.save_letter_edit(call_id, kind, ""),
            what="go back to the letter drafted from the record",
        )
        self._show()
        self.refresh_bindings()

    # -- writing and settings ---------------------------------------------------------------

    def action_write(self) -> None:
        if self.source is None or self.practice is None:
            return
        if not self.editing:
            self._sync_kind()
        self._finish_editing()
        self.app.push_screen(
            LetterFileScreen(self.call_id, self.kind, self.practice, self.folder), self._written
        )

    def _written(self, result: Any) -> None:
        if result is not None and self.source is not None:
            self.source.files.append(result)
            self._show_files()

    def action_settings(self) -> None:
        self._finish_editing()
        self.app.push_screen(SettingsScreen(self.practice), self._settings_saved)

    def _settings_saved(self, practice: Any) -> None:
        if practice is not None:
            self.practice = practice
            self._show()

    def on_unmount(self) -> None:
        if self._throttle is not None and self.editing:
            self._throttle.cancel()
            with contextlib.suppress(NoMatches):  # children already gone: nothing to read
                self._save_edit()

    def __repr__(self) -> str:  # no letter text in crash output
        return f"LetterScreen(call_id={self.call_id})"
