"""One agenda section: talking points, structured fields, the notes, and the note field."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Static, TextArea

from p2pcall.domain.fields import fields_for
from p2pcall.domain.sections import Section
from p2pcall.domain.text import MAX_NOTE_CHARS, too_long
from p2pcall.domain.timefmt import clock_time, now_utc
from p2pcall.domain.vocab import NoteKind
from p2pcall.screens.base import CallScreen
from p2pcall.throttle import Throttle
from p2pcall.widgets.composer import Composer, NoteField
from p2pcall.widgets.fields import FieldForm
from p2pcall.widgets.notes import NoteItem, NotesList

if TYPE_CHECKING:
    from p2pcall.domain.models import Note
    from p2pcall.session import CallSession, NoteFailed, NoteSaved

DRAFT_EVERY_SECONDS = 1.0


class SectionScreen(CallScreen):
    BINDINGS = [
        # One key per kind (the same key again: back to a plain note). In the key bar as one
        # item; Ctrl+T still steps through the kinds.
        Binding(
            "alt+q",
            "set_kind('quote')",
            "Kind",
            key_display="Alt+q/m/n",
            id="kind-quote",
            tooltip="Next note is a quote (Alt+Q again: plain note)",
        ),
        Binding(
            "alt+m",
            "set_kind('commitment')",
            "Commitment",
            show=False,
            id="kind-commitment",
            tooltip="Next note is a commitment (Alt+M again: plain note)",
        ),
        Binding(
            "alt+n",
            "set_kind('new_info')",
            "New info",
            show=False,
            id="kind-new-info",
            tooltip="Next note is new clinical information (Alt+N again: plain note)",
        ),
        Binding(
            "ctrl+t",
            "cycle_kind",
            "Kind",
            show=False,  # the key bar shows Alt+q/m/n
            id="note-kind",
            tooltip="Kind of the next note: note, quote, commitment, new info in turn",
        ),
        Binding(
            "ctrl+l",
            "toggle_multiline",
            "Lines",
            show=False,  # named in the note field's hint; the key bar has the kinds instead
            id="multi-line",
            tooltip="Multi-line note on/off",
        ),
        Binding(
            "ctrl+s",
            "save_note",
            "Save",
            id="save-note",
            show=False,
            tooltip="Save the note",
        ),
        Binding(
            "ctrl+e",
            "correct_note",
            "Correct",
            id="correct-note",
            show=False,  # listed in the note field's hint: the 80-column footer is full
            priority=True,
            tooltip="Correct the last note of this section (the original is kept)",
        ),
        Binding(
            "escape",
            "focus_composer",
            "Note field",
            id="focus-note",
            show=False,
            tooltip="Back to the note field",
        ),
    ]

    section: Section

    def __init__(self, session: CallSession, section: Section) -> None:
        super().__init__(session, name=f"section-{section.value}", classes="section-screen")
        self.section = section
        self._draft = Throttle(self, DRAFT_EVERY_SECONDS, self._save_draft)
        self._stored_draft: str | None = None  # text already kept as the draft in the database
        # Notes shown as "saving", by the session's ticket, until NoteSaved (kept on NoteFailed:
        # a failed note is retried, and the retry answers with the same ticket).
        self._sending: dict[int, NoteItem] = {}

    def compose_body(self) -> ComposeResult:
        live = self.session
        info = self.section.info
        yield Static(Content(self.section.title), classes="section-title")
        yield Static(
            Content("\n".join(f"\u2022 {point}" for point in info.points)), classes="points"
        )
        with Horizontal(id="section-body"):
            specs = fields_for(self.section.value)
            if specs:
                yield FieldForm(specs, live.call.values, live.call.declined, id="fields")
            with Vertical(id="notes-pane"):
                yield NotesList(id="notes")
        yield Static(id="draft-notice", classes="hint")
        yield Composer(
            # The kinds are in the key bar (Alt+q/m/n); Ctrl+L and Ctrl+E are not.
            f"Note for {self.section.value}: Enter saves, Ctrl+L lines, Ctrl+E corrects",
            id="composer",
        )

    @property
    def composer(self) -> Composer:
        return self.query_one(Composer)

    def on_mount(self) -> None:
        live = self.session
        self.query_one(NotesList).show_notes(live.notes_in(self.section), live.call.tz)
        draft = live.drafts.get(self.section)
        if draft is not None:
            self._stored_draft = draft.body
            self.composer.restore(draft.body, draft.kind, draft.started_at)
            notice = self.query_one("#draft-notice", Static)
            notice.add_class("-shown")
            notice.update(
                Content(
                    "Recovered text you had not saved (last kept "
                    f"{clock_time(draft.updated_at, live.call.tz)}). "
                    "It is not part of the record until you save it."
                )
            )

    def on_screen_resume(self) -> None:
        self.composer.field.focus()

    def on_screen_suspend(self) -> None:
        self._draft.flush()

    def flush_draft(self) -> None:
        self._draft.flush()

    # -- note field ----------------------------------------------------------------------

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if not isinstance(event.text_area, NoteField):
            return
        composer = self.composer
        if not composer.text and composer.started_at is None:
            return  # just cleared by a save, which already dropped the draft
        if composer.text == self._stored_draft:
            return  # the recovered draft, put back as it was stored: nothing new to keep
        self._stored_draft = None
        if composer.text and composer.started_at is None:
            composer.started_at = now_utc()
        self._draft.poke()

    def _save_draft(self) -> None:
        composer = self.composer
        self.session.save_draft(
            self.section, composer.kind, composer.text, composer.started_at or now_utc()
        )

    def on_note_field_submitted(self, event: NoteField.Submitted) -> None:
        event.stop()
        self._save(*event.taken)

    def action_save_note(self) -> None:
        if not self.composer.text.strip():
            self._save("", self.composer.kind, None)
        else:
            self._save(*self.composer.take())

    def _save(self, body: str, kind: NoteKind, started: datetime | None) -> None:
        if not body.strip():
            self.notify("Nothing to save yet: type the note first.", timeout=3)
            return
        if len(body) > MAX_NOTE_CHARS:
            # Typed past the limit: put it back (the draft still has it) rather than lose it.
            self.composer.restore(body, kind, started or now_utc())
            self.notify(too_long("The note", len(body), MAX_NOTE_CHARS), severity="error")
            return
        started_at = started or now_utc()
        if self.session.call.finalized:
            self._ask_addendum_reason(body, kind, started_at)
            return
        self._commit(body, kind, started_at, "")

    def _commit(self, body: str, kind: NoteKind, started_at: datetime, reason: str) -> None:
        self._draft.cancel()
        self.query_one("#draft-notice", Static).remove_class("-shown")
        # Sent before the note is drawn: the database works while the list is laid out.
        ticket = self.session.save_note(self.section, kind, body, started_at, reason)
        item = NoteItem(body, kind, clock_time(now_utc()), late=bool(reason), reason=reason)
        self._sending[ticket] = item
        self.query_one(NotesList).add(item)

    def note_saved(self, message: NoteSaved) -> None:
        """The App hands over the session's answer for a note of this section."""
        item = self._sending.pop(message.ticket, None)
        if item is not None:
            note = message.note
            item.late = note.late
            item.mark("saved", clock_time(note.saved_at, self.session.call.tz), note.id)

    def note_failed(self, message: NoteFailed) -> None:
        item = self._sending.get(message.ticket)
        if not message.retried:
            self._sending.pop(message.ticket, None)
        if item is not None:
            item.mark("failed")

    def _ask_addendum_reason(self, body: str, kind: NoteKind, started_at: datetime) -> None:
        from p2pcall.screens.record_modals import AddendumReasonScreen

        def answered(reason: str | None) -> None:
            if reason:
                self._commit(body, kind, started_at, reason)
            else:  # cancelled: the text goes back into the note field, nothing is lost
                self.composer.restore(body, kind, started_at)
                self.notify("Not saved: an addendum needs a reason.", timeout=4)

        self.app.push_screen(AddendumReasonScreen(body), answered)

    def action_correct_note(self) -> None:
        # What Ctrl+E offers are the saved notes: with notes still being saved (Enter, then
        # Ctrl+E at once), open it once the database has answered them; the keys typed
        # meanwhile wait, and then go to the dialog.
        self.session.after_saves(self._open_correction)

    def _open_correction(self) -> None:
        from p2pcall.domain.corrections import correctable
        from p2pcall.screens.record_modals import CorrectNoteScreen

        live = self.session
        if live.call.finalized:
            self.notify(
                "This call is finalized: notes can no longer be corrected. Type an addendum "
                "instead (it asks for a reason).",
                severity="warning",
                timeout=6,
            )
            return
        candidates = correctable(live.notes_in(self.section))
        if not candidates:
            self.notify("No saved note in this section to correct yet.", timeout=3)
            return
        opened = now_utc()

        def corrected(answer: tuple[int, str] | None) -> None:
            self.composer.field.focus()
            if answer is None:
                return
            note_id, body = answer
            original: Note = next(n for n in candidates if n.id == note_id)
            item = NoteItem(body, original.kind, clock_time(now_utc()), corrects=note_id)
            self.query_one(NotesList).add(item)
            self._sending[self.session.correct_note(original, body, opened)] = item

        self.app.push_screen(CorrectNoteScreen(candidates, live.call.tz), corrected)

    def action_cycle_kind(self) -> None:
        self.composer.kind = self.composer.kind.next()
        self._draft.poke()

    def action_set_kind(self, value: str) -> None:
        kind = next(k for k in NoteKind if k.value == value)
        self.composer.kind = NoteKind.NOTE if self.composer.kind is kind else kind
        self._draft.poke()

    def action_toggle_multiline(self) -> None:
        on = self.composer.toggle_multiline()
        self.notify(
            "Multi-line: Enter adds a line, Ctrl+S saves." if on else "One line: Enter saves.",
            timeout=2,
        )
        self.composer.field.focus()

    def action_focus_composer(self) -> None:
        self.composer.field.focus()
