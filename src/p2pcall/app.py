"""The Textual app: paints at once, opens the store in a thread, runs the call screens."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen

from p2pcall.key_order import OrderedKeysApp
from p2pcall.message_lines import NewestMessages
from p2pcall.safe_exit import SafeExit
from p2pcall.screens.home import HomeScreen, home_lines, zone_notice
from p2pcall.screens.names import INFO_SCREEN, SECTION_LETTERS, section_screen_name
from p2pcall.worker import DatabaseThread, JobFinished, StoreFailed, StoreOpened

if TYPE_CHECKING:
    from p2pcall.domain.sections import Section
    from p2pcall.domain.vocab import NoteKind, Outcome

# Call screens and the domain are imported when a call opens, not before the first frame.
RETRY_SECONDS = 3.0


def _freeze_startup_objects() -> None:
    import gc

    gc.collect()
    gc.freeze()


class P2PCallApp(SafeExit, NewestMessages, OrderedKeysApp, App[None]):
    CSS_PATH = "styles/app.tcss"
    TITLE = "p2pcall"
    BINDINGS = [
        Binding(
            "ctrl+q",
            "quit",
            "Quit",
            id="quit",
            priority=True,
            tooltip="Leave p2pcall. An unfinished call stays open and can be resumed.",
        ),
    ]

    save_state: reactive[tuple[str, str]] = reactive(("busy", "opening records\u2026"))
    note_counts: reactive[dict[str, int]] = reactive(dict, always_update=True)

    def __init__(self, data_dir: Path) -> None:
        super().__init__()
        self.data_dir = data_dir
        self.db = DatabaseThread(self, data_dir)
        self.live: Any = None  # LiveCall while a call is open
        self.store_ready = False
        self._failed_notes: list[tuple[Any, ...]] = []
        self._field_throttles: dict[str, Any] = {}
        self._quit_armed = False

    # -- command palette: every action, with its key --------------------------------------

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        own = [klass.__dict__.get("BINDINGS", []) for klass in type(screen).__mro__]
        for binding in [b for bindings in own for b in bindings]:
            if not isinstance(binding, Binding) or binding.id is None or not binding.description:
                continue
            keys = " or ".join(key.strip() for key in binding.key.split(","))
            title = binding.tooltip or binding.description
            yield SystemCommand(
                f"{title} ({keys})",
                binding.tooltip or binding.description,
                partial(screen.run_action, binding.action),
            )
        from p2pcall.screens.export import export_commands

        yield from export_commands(self, screen)

    # -- start-up ----------------------------------------------------------------------

    def get_default_screen(self) -> Screen[Any]:
        # Home is the base screen: pushing it over a blank default costs a whole extra frame.
        return HomeScreen()

    def on_mount(self) -> None:
        # After the first frame: importing SQLAlchemy in the thread would hold the GIL
        # while the UI thread is trying to paint.
        self.call_after_refresh(self.db.start)
        self.install_exit_signals()  # a closed terminal saves drafts and exits cleanly
        self.set_interval(RETRY_SECONDS, self._retry_failed_notes)

    def on_store_opened(self, message: StoreOpened) -> None:
        self.store_ready = True
        self.save_state = ("ok", "records open")
        self.refresh_home()
        # SQLAlchemy's import leaves ~hundreds of thousands of long-lived objects; full
        # collections kept walking them (100-250 ms pauses mid-typing). Collect once, on the
        # idle home screen, and move them out of the collector's way.
        self.call_after_refresh(_freeze_startup_objects)

    def on_store_failed(self, message: StoreFailed) -> None:
        from p2pcall.screens.problem import ProblemScreen

        self.store_ready = False
        self.save_state = ("error", "records not open")
        self.push_screen(ProblemScreen(message.reason, str(self.data_dir)))

    def on_job_finished(self, message: JobFinished) -> None:
        self.db.pending -= 1
        job = message.job
        if message.error is not None:
            self.save_state = ("error", f"\u26a0 NOT SAVED: {message.error}")
            if job.on_error:
                job.on_error(message.error)
            else:
                self.notify(message.error, severity="error", timeout=8)
            return
        if job.on_done:
            job.on_done(message.result)

    def records_open(self) -> bool:
        """True once the store is open; otherwise tell the user and say no."""
        if not self.store_ready:
            self.notify("Still opening your records; try again in a moment.", timeout=3)
        return self.store_ready

    def refresh_home(self) -> None:
        home = next((s for s in self.screen_stack if isinstance(s, HomeScreen)), None)
        if home is not None and self.store_ready:
            from p2pcall.screens.due import load_due

            self.ask_store(home_lines, home.show_calls)
            self.ask_store(load_due, home.show_due)
            self.db.submit(zone_notice, home.show_zone_notice)

    def show_due(self) -> None:
        from p2pcall.screens.due import DueScreen

        if not self.records_open():
            return
        if not isinstance(self.screen, DueScreen):
            self.push_screen(DueScreen())

    # -- a call's life ---------------------------------------------------------------------

    def new_call(self) -> None:
        if not self.records_open():
            return
        from p2pcall.domain.models import CallRecord
        from p2pcall.domain.timefmt import local_tz_name

        tz = local_tz_name()
        self._load_then_enter(lambda store: CallRecord(store.start_call(tz)), INFO_SCREEN)

    def prepare_call(self) -> None:
        """A call prepared ahead: call info first; the clock starts at F9 when connected."""
        if not self.records_open():
            return
        from p2pcall.domain.models import CallRecord
        from p2pcall.domain.timefmt import local_tz_name

        tz = local_tz_name()
        self._load_then_enter(lambda store: CallRecord(store.prepare_call(tz)), INFO_SCREEN)

    def connect_call(self) -> None:
        """The reviewer is on the line: stamp the connected time (once)."""
        live = self.live
        if live is None:
            return
        if live.call.started_at is not None:
            from p2pcall.domain.timefmt import clock_time

            self.notify(
                f"Connected at {clock_time(live.call.started_at, live.call.tz)}; that stays.",
                timeout=4,
            )
            return
        if live.call.ended_at is not None:
            self.notify("This call has ended: it can no longer be marked connected.", timeout=5)
            return
        from p2pcall.domain.timefmt import now_utc

        call_id = live.call.id
        # Stamped at the key press and shown at once: keys typed right after F9 (Ctrl+G in
        # the same burst) already see the call as connected.
        at = now_utc()
        live.call.started_at = at

        def done(call: Any) -> None:
            from p2pcall.domain.timefmt import clock_time

            live.call.started_at = call.started_at
            self._saved()
            self.notify(f"Connected at {clock_time(call.started_at, call.tz)}.", timeout=3)

        def failed(error: str) -> None:
            live.call.started_at = None
            self.notify(f"Connected time not saved: {error}", severity="error", timeout=8)

        self._saving()
        self.db.submit(lambda store: store.connect_call(call_id, at), done, failed)

    def open_call(self, call_id: int) -> None:
        self._load_then_enter(lambda store: store.load_call(call_id), None)

    def _load_then_enter(self, load: Any, first: str | None) -> None:
        # Keys typed while the call loads belong to the call's first screen: they wait.
        self.ask_store(load, lambda record: self.enter_call(record, first))

    def ask_store(
        self,
        run: Callable[[Any], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[str], None] | None = None,
        label: str = "",
    ) -> None:
        """A database question whose answer the next keys act on (rows to pick from, a call
        to open, a file written): keys typed meanwhile wait for the answer, so Enter picks
        from the rows asked for before it. Saving never does this: notes, drafts and fields
        are written while typing goes on."""
        token = self.key_order.hold()

        def done(result: Any) -> None:
            try:
                on_done(result)
            finally:
                self.key_order.release(token)

        def failed(error: str) -> None:
            try:
                if on_error is not None:
                    on_error(error)
                else:
                    self.notify(error, severity="error", timeout=8)
            finally:
                self.key_order.release(token)

        self.db.submit(run, done, failed, label)

    def enter_call(self, record: Any, first: str | None) -> None:
        from p2pcall.live import LiveCall
        from p2pcall.screens.call_info import CallInfoScreen
        from p2pcall.screens.section import SectionScreen

        if self.live is not None:
            return
        self.live = LiveCall(record)
        self.note_counts = self.live.counts()
        from p2pcall.domain.sections import Section

        self.install_screen(CallInfoScreen(), INFO_SCREEN)
        from p2pcall.screens.reviewer_section import ReviewerSectionScreen

        for section in Section:
            screen = ReviewerSectionScreen() if section is Section.B else SectionScreen(section)
            self.install_screen(screen, section_screen_name(section.value))
        if first is None:
            drafted = sorted(self.live.drafts)
            first = section_screen_name(drafted[0].value if drafted else "A")
        self.push_screen(first)
        if self.live.call.finalized:
            self.notify(
                "This call is finalized. A note you save now is an addendum: it asks for a "
                "reason and is marked as added after the call.",
                timeout=6,
            )
        elif self.live.call.ended_at is not None:
            self.notify(
                "This call has ended. Anything you add now is marked as added after the call.",
                timeout=6,
            )

    def goto(self, target: str) -> None:
        if self.live is None:
            return
        name = INFO_SCREEN if target == "info" else section_screen_name(target)
        if self.screen.name != name:
            self.switch_screen(name)

    def _call_screens(self) -> list[Any]:
        from p2pcall.screens.section import SectionScreen

        names = [INFO_SCREEN] + [section_screen_name(s) for s in SECTION_LETTERS]
        screens = [self.get_screen(name) for name in names if self.is_screen_installed(name)]
        return [s for s in screens if isinstance(s, SectionScreen)]

    def flush_all(self) -> None:
        for screen in self._call_screens():
            if screen.is_mounted:
                screen.flush_draft()
        for throttle in self._field_throttles.values():
            throttle.flush()

    def ask_end_call(self) -> None:
        from p2pcall.domain.text import count
        from p2pcall.domain.timefmt import call_length, now_utc
        from p2pcall.screens.end_call import EndCallScreen

        live = self.live
        if live.call.finalized:  # nothing to stamp: its end and outcome are part of the record
            self.notify(f"Call #{live.call.id} closed; its record is finalized.", timeout=4)
            self.leave_call()
            return
        self.flush_all()
        unsent = [
            screen.section.value
            for screen in self._call_screens()
            if screen.is_mounted and screen.composer.text.strip()
        ]
        end = live.call.ended_at or now_utc()
        if live.call.started_at is None:
            length = "never marked connected"
        else:
            length = call_length(live.call.started_at, end) + " long"
        notes = count(len(live.notes), "note")
        if live.call.ended_at is None:
            stamp_note = "The end time is stamped when you confirm."
            if live.call.started_at is None:
                stamp_note += " The record will have no connected time (F9 marks it first)."
        else:
            from p2pcall.domain.timefmt import clock_time

            stamp_note = (
                f"It ended at {clock_time(live.call.ended_at, live.call.tz)}; that stays. "
                "Confirm or change the outcome, then the wrap-up follows."
            )
        summary = f"Call #{live.call.id}: {length}, {notes}. {stamp_note}"
        from p2pcall.domain.vocab import Outcome

        # An ended call keeps its recorded outcome unless the user picks another.
        default = live.call.outcome or Outcome.parse(live.call.value("coverage_status"))
        self.push_screen(EndCallScreen(summary, unsent, default), self._end_call)  # type: ignore[arg-type]

    def _end_call(self, outcome: Outcome | None) -> None:
        if outcome is None:
            return
        call_id = self.live.call.id
        # The keys after the outcome belong to the wrap-up it opens.
        self.ask_store(lambda store: store.end_call(call_id, outcome), self._call_ended)

    def _call_ended(self, call: Any) -> None:
        from p2pcall.screens.wrap_up import WrapUpScreen

        live = self.live
        if live is None:
            return
        # Keep one Call object: the wrap-up's field edits go through edit_field on live.call.
        live.call.ended_at = call.ended_at
        live.call.outcome = call.outcome
        self.push_screen(WrapUpScreen(live.call, list(live.notes)))

    def finish_wrap_up(
        self, call_id: int, planned: list[Any], on_error: Callable[[str], None]
    ) -> None:
        """Store the ticked follow-ups (never twice), then leave the call."""
        from p2pcall.store.followups import save_wrap_up

        self.flush_all()

        def saved(followups: list[Any]) -> None:
            count = len(followups)
            self.notify(
                f"Call #{call_id}: {count} follow-up{'s' if count != 1 else ''} saved. "
                "d on the home screen shows what is due.",
                timeout=5,
            )
            # Finishing the wrap-up finalizes the record; a retry after an error is safe
            # (no follow-up is stored twice, finalizing twice changes nothing).
            self.finalize_call(call_id, lambda _call: self.leave_call(), on_error)

        # Keys after Ctrl+S belong to wherever finishing leads (home), or back to the wrap-up.
        self.ask_store(lambda store: save_wrap_up(store, call_id, planned), saved, on_error)

    def leave_call(self) -> None:
        self.flush_all()
        while len(self.screen_stack) > 1:
            self.pop_screen()
        for name in [INFO_SCREEN] + [section_screen_name(s) for s in SECTION_LETTERS]:
            if self.is_screen_installed(name):
                self.uninstall_screen(name)
        self.live = None
        self._field_throttles.clear()
        self.note_counts = {}
        self.refresh_home()

    # -- saving ------------------------------------------------------------------------

    def _saving(self) -> None:
        self.save_state = ("busy", "\u2026 saving")

    def _saved(self, _: Any = None) -> None:
        from p2pcall.domain.timefmt import clock_time, now_utc

        if self.db.pending == 0 and not self._failed_notes:
            self.save_state = ("ok", f"\u2713 saved {clock_time(now_utc())}")

    def save_note(
        self,
        section: Section,
        kind: NoteKind,
        body: str,
        started_at: datetime,
        item: Any,
        *,
        reason: str = "",
    ) -> None:
        call_id = self.live.call.id
        live = self.live

        def done(note: Any) -> None:
            live.drafts.pop(section, None)
            self._note_saved(live, note, item)

        def failed(error: str) -> None:
            item.mark("failed")
            self._failed_notes.append(
                (call_id, section, kind, body, started_at, reason, done, failed)
            )
            self.notify(
                f"Note not saved: {error} It is kept on screen and retried every few seconds.",
                severity="error",
                timeout=8,
            )

        self._saving()
        self.db.submit(
            lambda store: store.add_note(call_id, section, kind, body, started_at, reason=reason),
            done,
            failed,
        )

    def _note_saved(self, live: Any, note: Any, item: Any) -> None:
        """A note (or correction) is committed: keep the live call in step, mark it saved."""
        from p2pcall.domain.timefmt import clock_time

        live.notes.append(note)
        if live is self.live:
            self.note_counts = live.counts()
        item.late = note.late
        item.mark("saved", clock_time(note.saved_at, live.call.tz), note.id)
        self._saved()

    def _retry_failed_notes(self) -> None:
        if not self._failed_notes or not self.store_ready:
            return
        waiting, self._failed_notes = self._failed_notes, []
        for call_id, section, kind, body, started_at, reason, done, failed in waiting:
            self.db.submit(
                lambda store, c=call_id, s=section, k=kind, b=body, t=started_at, r=reason: (
                    store.add_note(c, s, k, b, t, reason=r)
                ),
                done,
                failed,
            )

    def correct_note(self, note_id: int, body: str, started_at: datetime, item: Any) -> None:
        """Save a correction (a new note pointing at the original) off the UI thread."""
        live = self.live

        def done(note: Any) -> None:
            self._note_saved(live, note, item)

        def failed(error: str) -> None:
            item.mark("failed")
            self.notify(f"Correction not saved: {error}", severity="error", timeout=8)

        self._saving()
        self.db.submit(lambda store: store.correct_note(note_id, body, started_at), done, failed)

    def finalize_call(
        self, call_id: int, then: Any = None, on_error: Callable[[str], None] | None = None
    ) -> None:
        """Finalize a call's record and show its chain head; `then(call)` after, if given.

        Finalizing an already finalized call is a no-op in the store, so a retry is safe.
        `on_error(message)` replaces the default error notice (the wrap-up stays open).
        """

        def done(call: Any) -> None:
            from p2pcall.domain.chain import short

            if self.live is not None and self.live.call.id == call.id:
                self.live.call.finalized_at = call.finalized_at
                self.live.call.chain_head = call.chain_head
                self.refresh_chain_head()
            # Short: a 15-second toast with the full head covered half the screen at 80x24.
            # The full head is on the call's detail and in every export.
            self.notify(
                f"Call #{call.id} finalized. Chain head {short(call.chain_head)}\u2026 "
                "(in full on its detail and exports): keep a copy outside this computer.",
                timeout=8,
            )
            self._saved()
            if then is not None:
                then(call)

        self._saving()
        self.ask_store(lambda store: store.finalize_call(call_id), done, on_error)

    def refresh_chain_head(self) -> None:
        from p2pcall.widgets.callbar import ChainHead

        for screen in self.screen_stack:
            for widget in screen.query(ChainHead):
                widget.refresh_head()

    def save_draft(self, section: Section, kind: NoteKind, body: str, started_at: datetime) -> None:
        if self.live is None:
            return
        call_id = self.live.call.id
        self._saving()
        self.db.submit(
            lambda store: store.save_draft(call_id, section, kind, body, started_at), self._saved
        )

    def edit_field(self, key: str, value: str, declined: bool, *, final: bool) -> None:
        from p2pcall.throttle import Throttle

        live = self.live
        if live is None:
            return
        if live.call.finalized:
            self.notify(
                "This call is finalized: its fields cannot change. Add an addendum note instead.",
                severity="warning",
                timeout=6,
            )
            return
        if value:
            live.call.values[key] = value
        else:
            live.call.values.pop(key, None)
        if declined:
            live.call.declined.add(key)
        else:
            live.call.declined.discard(key)
        call_id = live.call.id

        def write(log: bool) -> None:
            current = live.call.values.get(key, "")
            is_declined = key in live.call.declined
            self._saving()
            self.db.submit(
                lambda store: store.set_field(call_id, key, current, declined=is_declined, log=log),
                self._saved,
            )

        throttle = self._field_throttles.get(key)
        if throttle is None:
            throttle = self._field_throttles[key] = Throttle(self, 1.0, lambda: write(False))
        if final:
            throttle.cancel()
            write(True)
        else:
            throttle.poke()

    # -- leaving -------------------------------------------------------------------------

    async def action_quit(self) -> None:
        if self._failed_notes and not self._quit_armed:
            self._quit_armed = True
            self.notify(
                f"{len(self._failed_notes)} note(s) are NOT saved. Press Ctrl+Q again to quit "
                "anyway, or wait for the retry.",
                severity="error",
                timeout=8,
            )
            return
        self.flush_all()
        self.db.stop()
        self.exit()
