"""The Textual app: paints at once, opens the store in a thread, runs the call screens."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen

from p2pcall.key_order import OrderedKeysApp
from p2pcall.message_lines import NewestMessages
from p2pcall.safe_exit import SafeExit
from p2pcall.screens.home import HomeScreen
from p2pcall.screens.names import INFO_SCREEN, SECTION_LETTERS, section_screen_name
from p2pcall.worker import DatabaseThread, Job, JobFinished, JobKind, StoreFailed, StoreOpened

if TYPE_CHECKING:
    from p2pcall.domain.models import CallRecord
    from p2pcall.domain.vocab import Outcome
    from p2pcall.host import CallHost
    from p2pcall.outbox_sending import SendLine
    from p2pcall.screens.section import SectionScreen
    from p2pcall.session import CallSession, NoteFailed, NoteSaved, SaveMark, SaveStatus
    from p2pcall.store import Store

# Call screens and the domain are imported when a call opens, not before the first frame.
RETRY_SECONDS = 3.0
# Keys typed before the records are open wait this long at most (an upgrade, a full check).
STORE_OPEN_HOLD_SECONDS = 60.0


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

    def __init__(self, data_dir: Path, database: str | None = None) -> None:
        super().__init__()
        # Scrolling jumps instead of gliding: a key that scrolls has its whole effect before
        # the next key, so keys in a burst land where they land when typed slowly.
        self.animation_level = "none"
        self.data_dir = data_dir
        self.config_dir: Path | None = None  # --config-dir, set by the CLI before running
        self._database = database  # --database (None: P2PCALL_DATABASE_URL, else the file)
        self.db = DatabaseThread(
            self,
            data_dir,
            database=database,
            ask_password=self._password_from_thread,
            on_failure=self._job_failed,
            key_holds=lambda: self.key_order,
        )
        self.server: str | None = None  # the practice server's name once open, else None
        self.role: str | None = None  # the person's group on that server
        self._send_line: SendLine | None = None  # see `send_line`
        self._sending_outbox = False  # a send of the waiting notes is queued
        self._session: CallSession | None = None  # the open call
        # Ended calls whose failed notes are still being retried (nothing typed is dropped).
        self._retrying: list[CallSession] = []
        self._status: SaveStatus | None = None
        self.store_ready = False
        self._store_failed = False
        # Keys that needed the records before they were open, each holding the keys after it.
        self._waiting_for_store: list[tuple[object, Callable[[], None]]] = []
        self._quit_armed = False

    # -- what tests and the exit path read -------------------------------------------------

    @property
    def live(self) -> CallSession | None:
        """The open call's session, if a call is open."""
        return self._session

    @property
    def status(self) -> SaveStatus:
        """The save mark of the call bar (imported with the first call, not before)."""
        if self._status is None:
            from p2pcall.session import SaveStatus

            self._status = SaveStatus(self.db, self._unsaved_notes)
        return self._status

    @property
    def send_line(self) -> SendLine:
        """The notes kept in the outbox and sent in typing order (made on first use, after
        the first frame: see `p2pcall.outbox_sending`)."""
        if self._send_line is None:
            self._send_line = _send_line(self, self.data_dir)
        return self._send_line

    @property
    def save_state(self) -> SaveMark:
        return self.status.mark.value

    @property
    def note_counts(self) -> dict[str, int]:
        return self._session.note_counts() if self._session is not None else {}

    def _sessions(self) -> list[CallSession]:
        return ([self._session] if self._session is not None else []) + self._retrying

    def _unsaved_notes(self) -> int:
        """Notes not saved yet: the sessions' own, or all the outbox holds (with notes kept
        from an earlier run), whichever is more."""
        waiting = self._send_line.total() if self._send_line is not None else 0
        return max(sum(session.unsaved for session in self._sessions()), waiting)

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
        self.server = message.server
        self.role = message.role
        self.status.set(("ok", "records open"))
        if message.server is not None:
            self.status.link.set("online")
            home = next((s for s in self.screen_stack if isinstance(s, HomeScreen)), None)
            if home is not None:
                home.show_server(message.server, message.role)
        self._send_outbox(at_start=True)  # notes kept from an earlier run go first
        self.refresh_home()
        # Keys typed before the records were open now take effect, in order, after the home
        # lists (asked for just above) have arrived: `r` resumes the call those lists name.
        waiting, self._waiting_for_store = self._waiting_for_store, []
        for token, retry in waiting:
            self.ask_store(_nothing, partial(_run_after, retry), what="")
            self.key_order.release(token)
        # SQLAlchemy's import leaves ~hundreds of thousands of long-lived objects; full
        # collections kept walking them (100-250 ms pauses mid-typing). Collect once, on the
        # idle home screen, and move them out of the collector's way.
        self.call_after_refresh(_freeze_startup_objects)

    def on_store_failed(self, message: StoreFailed) -> None:
        from p2pcall.screens.problem import ProblemScreen

        self.store_ready = False
        self._store_failed = True
        for token, _retry in self._waiting_for_store:
            self.key_order.release(token)  # the problem screen says why; nothing to wait for
        self._waiting_for_store = []
        self.status.set(("error", "records not open"))
        self.push_screen(ProblemScreen(message.reason, str(self.data_dir), self._server_shown()))

    def _server_shown(self) -> str | None:
        """The practice server asked for, without secrets; None for the local file."""
        from p2pcall.paths import resolve_database_url

        url = resolve_database_url(self._database)
        if url is None:
            return None
        from p2pcall.store.postgres.connection import shown

        return shown(url)

    def on_job_finished(self, message: JobFinished) -> None:
        if message.error is not None and message.job.kind == "write":
            from p2pcall.outbox_sending import WAITING_BEHIND

            error = message.error
            if error == WAITING_BEHIND and self.status.last_error:
                error = self.status.last_error  # the mark keeps the reason the notes wait
            self.status.not_saved(error)
        if self.server is not None and message.reachable is not None:
            self.status.link.set("online" if message.reachable else "offline")
        self.db.finish(message)
        if self._status is not None:
            self._status.settle()

    def _job_failed(self, job: Job, error: str) -> None:
        """A failed job with no handler of its own: a read says what could not be done."""
        if job.kind == "read" and job.what:
            error = f"Could not {job.what}: {error}"
        self.notify(error, severity="error", timeout=8)

    def _password_from_thread(self, question: str) -> str:
        """Ask for the server's password in a dialog, from the database thread (which waits).
        EOFError (the connection then says "no password given") for Esc or a closing app."""
        import threading

        from p2pcall.screens.password import PasswordScreen

        answered = threading.Event()
        answer: list[str | None] = []

        def take(value: str | None) -> None:
            answer.append(value)
            answered.set()

        def ask() -> None:
            self.push_screen(PasswordScreen(question), callback=take)

        self.call_from_thread(ask)
        while not answered.wait(0.5):
            if not self.is_running:
                raise EOFError
        if not answer or answer[0] is None:
            raise EOFError
        return answer[0]

    def records_open(self, retry: Callable[[], None] | None = None) -> bool:
        """True once the store is open. Before that, a key that needs the records and gives
        `retry` waits for them (later keys wait behind it, as typed) and `retry` runs once
        they are open; without `retry`, or if they could not be opened, say so and say no."""
        if self.store_ready:
            return True
        if retry is not None and not self._store_failed:
            token = self.key_order.hold(STORE_OPEN_HOLD_SECONDS)
            self._waiting_for_store.append((token, retry))
            return False
        self.notify("Still opening your records; try again in a moment.", timeout=3)
        return False

    def refresh_home(self) -> None:
        home = next((s for s in self.screen_stack if isinstance(s, HomeScreen)), None)
        if home is not None and self.store_ready:
            from p2pcall import queries
            from p2pcall.screens.home import home_lines

            self.ask_store(
                lambda store: home_lines(queries.home_calls(store)),
                home.show_calls,
                what="list your calls",
            )
            self.ask_store(queries.due_soon, home.show_due, what="list what is due")
            self.db.read(queries.zone_notice, home.show_zone_notice, what="check the time zone")

    def show_due(self) -> None:
        from p2pcall.screens.due import DueScreen

        if not self.records_open(self.show_due):
            return
        if not isinstance(self.screen, DueScreen):
            self.push_screen(DueScreen())

    # -- a call's life ---------------------------------------------------------------------

    def _takes_calls(self) -> bool:
        """On a practice server only clinicians start calls: say so to anyone else."""
        if self.role in (None, "clinician"):
            return True
        self.notify(
            f"You are connected as a {self.role}: calls are started by clinicians. You can "
            "work on follow-ups (d), history (h) and exports.",
            severity="warning",
            timeout=6,
        )
        return False

    def new_call(self) -> None:
        if not self.records_open(self.new_call) or not self._takes_calls():
            return
        from p2pcall.domain.models import CallRecord
        from p2pcall.domain.timefmt import local_tz_name

        tz = local_tz_name()
        self._load_then_enter(
            lambda store: CallRecord(store.start_call(tz)), INFO_SCREEN, "write", "start a call"
        )

    def prepare_call(self) -> None:
        """A call prepared ahead: call info first; the clock starts at F9 when connected."""
        if not self.records_open(self.prepare_call) or not self._takes_calls():
            return
        from p2pcall.domain.models import CallRecord
        from p2pcall.domain.timefmt import local_tz_name

        tz = local_tz_name()
        self._load_then_enter(
            lambda store: CallRecord(store.prepare_call(tz)), INFO_SCREEN, "write", "prepare a call"
        )

    def connect_call(self) -> None:
        """The reviewer is on the line: stamp the connected time (once)."""
        if self._session is not None:
            self._session.connect()

    def open_call(self, call_id: int) -> None:
        if self.role not in (None, "clinician"):
            # Only the clinician writes a call's record: anyone else reads it (detail view).
            from p2pcall.screens.detail import DetailScreen

            self.push_screen(DetailScreen(call_id))
            return
        self._load_then_enter(lambda store: store.load_call(call_id), None, "read", "open the call")

    def _load_then_enter(
        self,
        load: Callable[[Store], CallRecord],
        first: str | None,
        kind: JobKind,
        what: str,
    ) -> None:
        # Keys typed while the call loads belong to the call's first screen: they wait.
        self.ask_store(load, lambda record: self.enter_call(record, first), what=what, kind=kind)

    def ask_store(
        self,
        run: Callable[[Store], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[str], None] | None = None,
        what: str = "",
        kind: JobKind = "read",
    ) -> None:
        """A database job whose answer the next keys act on: see `DatabaseThread.ask`."""
        self.db.ask(run, on_done, on_error, what, kind)

    def enter_call(self, record: CallRecord, first: str | None) -> None:
        from p2pcall.domain.sections import Section
        from p2pcall.screens.call_info import CallInfoScreen
        from p2pcall.screens.reviewer_section import ReviewerSectionScreen
        from p2pcall.screens.section import SectionScreen
        from p2pcall.session import CallSession

        if self._session is not None:
            return
        session = self._session = CallSession(record, self, self.db, self.status, self.send_line)
        self.install_screen(CallInfoScreen(session), INFO_SCREEN)
        for section in Section:
            screen = (
                ReviewerSectionScreen(session)
                if section is Section.B
                else SectionScreen(session, section)
            )
            self.install_screen(screen, section_screen_name(section.value))
        if first is None:
            drafted = sorted(session.drafts)
            first = section_screen_name(drafted[0].value if drafted else "A")
        self.push_screen(first)
        if session.call.finalized:
            self.notify(
                "This call is finalized. A note you save now is an addendum: it asks for a "
                "reason and is marked as added after the call.",
                timeout=6,
            )
        elif session.call.ended_at is not None:
            self.notify(
                "This call has ended. Anything you add now is marked as added after the call.",
                timeout=6,
            )

    def goto(self, target: str) -> None:
        if self._session is None:
            return
        name = INFO_SCREEN if target == "info" else section_screen_name(target)
        if self.screen.name != name:
            self.switch_screen(name)

    def _call_screens(self) -> list[SectionScreen]:
        """The open call's section screens (the info screen has no note field)."""
        from p2pcall.screens.section import SectionScreen

        names = [section_screen_name(s) for s in SECTION_LETTERS]
        screens = [self.get_screen(name) for name in names if self.is_screen_installed(name)]
        return [s for s in screens if isinstance(s, SectionScreen)]

    def flush_all(self) -> None:
        """Write every draft and field edit still waiting for its throttle."""
        for screen in self._call_screens():
            if screen.is_mounted:
                screen.flush_draft()
        if self._session is not None:
            self._session.flush_fields()

    def ask_end_call(self) -> None:
        from p2pcall.domain.text import count
        from p2pcall.domain.timefmt import call_length, now_utc
        from p2pcall.screens.end_call import EndCallScreen

        live = self._session
        if live is None:
            return
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
        stated = Outcome.parse(live.call.value("coverage_status"))
        default = live.call.outcome or (stated if isinstance(stated, Outcome) else None)
        self.push_screen(EndCallScreen(summary, unsent, default), self._end_call)

    def _end_call(self, outcome: Outcome | None) -> None:
        session = self._session
        if outcome is None or session is None:
            return
        session.end(outcome, lambda: self._call_ended(session))

    def _call_ended(self, session: CallSession) -> None:
        from p2pcall.screens.wrap_up import WrapUpScreen

        if session is self._session:
            self.push_screen(WrapUpScreen(session))

    def leave_call(self) -> None:
        self.flush_all()
        while len(self.screen_stack) > 1:
            self.pop_screen()
        for name in [INFO_SCREEN] + [section_screen_name(s) for s in SECTION_LETTERS]:
            if self.is_screen_installed(name):
                self.uninstall_screen(name)
        session, self._session = self._session, None
        if session is not None:
            session.close()
            if session.unsaved:
                self._retrying.append(session)  # its failed notes are still retried
        self.refresh_home()

    # -- saving ---------------------------------------------------------------------------

    def on_note_saved(self, message: NoteSaved) -> None:
        screen = self._section_screen(message.session, message.note.section)
        if screen is not None:
            screen.note_saved(message)

    def on_note_failed(self, message: NoteFailed) -> None:
        screen = self._section_screen(message.session, message.section)
        if screen is not None:
            screen.note_failed(message)

    def _section_screen(self, session: CallSession, section: Any) -> SectionScreen | None:
        """The screen showing `section` of `session`, if that call is still open."""
        from p2pcall.screens.section import SectionScreen

        name = section_screen_name(section.value)
        if session is not self._session or not self.is_screen_installed(name):
            return None
        screen = self.get_screen(name)
        return screen if isinstance(screen, SectionScreen) else None

    def _retry_failed_notes(self) -> None:
        if not self.store_ready:
            return
        if self._send_line is not None and self._send_line.total():
            self._send_outbox(at_start=False)
        for session in self._sessions():
            session.retry_failed_fields()
        self._retrying = [session for session in self._retrying if session.unsaved]
        if self.status.link.value == "offline" and self.db.pending == 0:
            # Nothing waits to be sent: ask the server something small, so that the call bar
            # says when it is back (any answer sets the link, see on_job_finished).
            self.db.read(lambda store: store.recent_calls(1), _nothing, lambda _error: None)

    def _send_outbox(self, *, at_start: bool) -> None:
        """Send the notes waiting in the outbox, in typing order (at start: first read it)."""
        from p2pcall.outbox_report import outbox_sent, outbox_unreadable

        if self._sending_outbox:
            return  # the last send has not answered yet: never two at once
        self._sending_outbox = True
        line = self.send_line

        def run(store: Store) -> Any:
            if at_start:
                line.load_outbox(store)
            return line.send_waiting(store)

        def done(report: Any) -> None:
            self._sending_outbox = False
            outbox_sent(self, report, self._sessions(), at_start=at_start)
            self._retrying = [session for session in self._retrying if session.unsaved]

        def failed(error: str) -> None:
            self._sending_outbox = False
            outbox_unreadable(self, error, at_start=at_start)

        self.db.submit(run, done, failed, "send the notes kept in the outbox")

    def on_outbox_trouble(self, message: OutboxTrouble) -> None:
        from p2pcall.outbox_report import outbox_write_failed

        outbox_write_failed(self, message.reason)

    def finalize_call(
        self,
        call_id: int,
        then: Callable[[Any], None] | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        """Finalize a call's record: the open call's through its session (`finalize`
        there), any other one here. Finalizing twice changes nothing, so a retry is safe."""
        from p2pcall.session import finalized_notice

        session = self._session
        if session is not None and session.call.id == call_id:
            session.finalize(then, on_error)
            return
        line = self.send_line

        def run(store: Store) -> Any:
            line.check_none_waiting(call_id)  # never finalized ahead of its own notes
            return store.finalize_call(call_id)

        def done(call: Any) -> None:
            self.notify(finalized_notice(call), timeout=8)
            self.status.saved()
            if then is not None:
                then(call)

        self.status.saving()
        self.ask_store(run, done, on_error, "finalize", "write")

    # -- leaving -------------------------------------------------------------------------

    async def action_quit(self) -> None:
        unsaved = self._unsaved_notes()
        if unsaved and not self._quit_armed:
            self._quit_armed = True
            self.notify(
                f"{unsaved} note(s) or field(s) are NOT saved to the database yet: notes are "
                "kept in the outbox on this computer and sent at the next start, a field's "
                "last value is not. Press Ctrl+Q again to quit anyway, or wait for the retry.",
                severity="error",
                timeout=8,
            )
            return
        self.flush_all()
        self.db.stop()
        self.exit()


if TYPE_CHECKING:

    def _is_host(app: P2PCallApp) -> CallHost:
        """For mypy only: the app gives screens everything `CallHost` promises."""
        return app


class OutboxTrouble(Message):
    """The outbox file could not be written (from its writer thread): `reason` has no PHI."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


def _send_line(app: P2PCallApp, data_dir: Path) -> SendLine:
    """The outbox's writer and send line (`p2pcall.outbox_sending`); its errors come back
    to the UI thread as `OutboxTrouble` messages."""
    from p2pcall.outbox_sending import OutboxWriter, SendLine

    db = app.db
    writer = OutboxWriter(
        data_dir,
        lambda reason: _post(app, OutboxTrouble(reason)),
        done=lambda: db.wait_closed(0),
    )
    return SendLine(writer)


def _post(app: P2PCallApp, message: Message) -> None:
    app.post_message(message)


def _nothing(_store: object) -> None:
    """A job that only waits its turn in the database thread."""


def _run_after(action: Callable[[], None], _answer: object) -> None:
    action()
