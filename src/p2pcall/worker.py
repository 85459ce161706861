"""The database thread: every store call runs here, in order, and reports back by message.

One long-lived thread (a Textual thread worker) owns the Store, so notes commit in the
order they were sent and SQLAlchemy is imported after the first frame, never before.

Jobs are reads or writes. Both run in the one thread, in the order they were asked for (a
read sees every write asked for before it); they differ in what a failure means: a failed
write is data NOT SAVED, a failed read is something that could not be shown ("Could not
load history: ..."). `DatabaseThread.finish` is the one place a finished job is counted and
its callback run; the app only decides how a failure is shown.
"""

from __future__ import annotations

import queue
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from textual.message import Message
from textual.worker import get_current_worker

if TYPE_CHECKING:
    from textual.app import App

    from p2pcall.store import Store


JobKind = Literal["read", "write"]
SWITCH_INTERVAL_SECONDS = 0.0002


class KeyHolds(Protocol):
    """What `ask` needs of the app's key order (p2pcall.key_order.KeyOrder)."""

    def hold(self) -> object: ...

    def release(self, token: object) -> None: ...


@dataclass
class Job:
    run: Callable[[Store], Any]
    on_done: Callable[[Any], None] | None = None
    on_error: Callable[[str], None] | None = None
    # What the job does, for a failure message: "load history" -> "Could not load history".
    what: str = field(default="")
    kind: JobKind = "write"


class StoreOpened(Message):
    def __init__(self, path: Path, server: str | None = None, role: str | None = None) -> None:
        super().__init__()
        self.path = path
        self.server = server  # "db on host as role" for a practice server, else None
        self.role = role  # on a server: clinician, coordinator or admin


class StoreFailed(Message):
    """The database could not be opened: `reason` is for the user, and holds no PHI."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class JobFinished(Message):
    def __init__(
        self,
        job: Job,
        result: Any = None,
        error: str | None = None,
        *,
        reachable: bool | None = None,
    ) -> None:
        super().__init__()
        self.job = job
        self.result = result
        self.error = error
        # After the job: did the store's last exchange with the server get through (None: a
        # local file)? A job that never reached the database leaves it as it was.
        self.reachable = reachable


_STOP = object()


@dataclass
class _Barrier:
    """Queued behind the jobs before it; set once they have all run."""

    reached: threading.Event


class DatabaseThread:
    def __init__(
        self,
        app: App[Any],
        data_dir: Path,
        *,
        database: str | None = None,
        ask_password: Callable[[str], str] | None = None,
        on_failure: Callable[[Job, str], None],
        key_holds: Callable[[], KeyHolds] | None = None,
    ) -> None:
        """`on_failure(job, error)` shows a failed job that has no `on_error` of its own;
        `key_holds` gives the key order that `ask` holds keys in."""
        self._app = app
        self._on_failure = on_failure
        self._key_holds = key_holds
        self._data_dir = data_dir
        self._database = database  # --database; None: P2PCALL_DATABASE_URL, else the file
        self._ask_password = ask_password
        self._jobs: queue.Queue[Job | object] = queue.Queue()
        self.pending = 0
        self.running = False  # the store is open and jobs are being taken
        self._started = False
        self._stopping = False
        self._closed = threading.Event()  # the thread has ended, the store closed

    def wait_closed(self, timeout: float) -> bool:
        """Block until the thread has ended (store closed); True at once if never started."""
        return not self._started or self._closed.wait(timeout)

    def start(self) -> None:
        self._started = True
        # Each time a database call returns from I/O, this thread waits for the UI thread to
        # let go of the interpreter: up to Python's 5 ms switch interval, several times per
        # save while the UI lays out the note just typed (benchmarks/pg_practice.py save:
        # Enter -> committed on the server, median 30 ms at 5 ms, 8 ms at 0.2 ms). Both ways:
        # a key read while a long read runs here waits as little. A thread only has to yield
        # this often while another one is waiting to run.
        sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
        self._app.run_worker(self._run, name="database", thread=True, exit_on_error=False)

    def submit(
        self,
        run: Callable[[Store], Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        what: str = "",
        kind: JobKind = "write",
    ) -> None:
        """Queue a job; its answer comes back as a `JobFinished` message to the app, which
        hands it to `finish`. A write unless `kind` says "read"."""
        self._put(Job(run, on_done, on_error, what, kind))

    def _put(self, job: Job) -> None:
        self.pending += 1
        self._jobs.put(job)

    def read(
        self,
        run: Callable[[Store], Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        what: str = "",
    ) -> None:
        """Queue a read: a failure is reported as "Could not <what>", never as NOT SAVED."""
        self.submit(run, on_done, on_error, what, "read")

    def ask(
        self,
        run: Callable[[Store], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[str], None] | None = None,
        what: str = "",
        kind: JobKind = "read",
    ) -> None:
        """A job whose answer the next keys act on (rows to pick from, a call to open, a file
        written): keys typed meanwhile wait for the answer, so Enter picks from the rows asked
        for before it. Saving never does this: notes, drafts and fields are written while
        typing goes on."""
        if self._key_holds is None:
            self.submit(run, on_done, on_error, what, kind)
            return
        holds = self._key_holds()
        token = holds.hold()
        job = Job(run, what=what, kind=kind)

        def done(result: Any) -> None:
            try:
                on_done(result)
            finally:
                holds.release(token)

        def failed(error: str) -> None:
            try:
                if on_error is not None:
                    on_error(error)
                else:
                    self._on_failure(job, error)
            finally:
                holds.release(token)

        job.on_done, job.on_error = done, failed
        self._put(job)

    def finish(self, message: JobFinished) -> None:
        """On the UI thread (the app's JobFinished handler): count the job as done and run
        its callback; a failed job without its own `on_error` goes to `on_failure`."""
        self.pending -= 1
        job = message.job
        if message.error is None:
            if job.on_done is not None:
                job.on_done(message.result)
        elif job.on_error is not None:
            job.on_error(message.error)
        else:
            self._on_failure(job, message.error)

    def stop(self) -> None:
        """Finish every queued job, then let the thread end."""
        self._stopping = True
        self._jobs.put(_STOP)

    def wait_idle(self, timeout: float) -> bool:
        """Block until every job submitted so far has run; False if that did not happen.

        Only for exits that cannot wait for messages (a crash, a closed terminal): the UI
        thread blocks here, while the database thread keeps working.
        """
        if self._stopping:
            # What was queued before the stop runs before the thread ends; a barrier queued
            # behind the stop would never be reached (Ctrl+Q, then the terminal closed).
            return self._started and self._closed.wait(timeout)
        if not self.running:
            return False
        barrier = _Barrier(threading.Event())
        self._jobs.put(barrier)
        return barrier.reached.wait(timeout)

    def _run(self) -> None:
        try:
            self._serve()
        finally:
            self._closed.set()

    def _serve(self) -> None:
        from p2pcall.store import StoreError
        from p2pcall.store.opening import open_store
        from p2pcall.store.store import DamagedError

        try:
            store = open_store(self._data_dir, self._database, prompt=self._ask_password)
        except StoreError as exc:
            self._app.post_message(StoreFailed(str(exc)))
            return
        except Exception as exc:  # never let PHI-bearing locals reach a traceback screen
            self._app.post_message(StoreFailed(f"Unexpected error opening the database: {exc!r}"))
            return
        server, role = getattr(store, "where", None), getattr(store, "role", None)
        self._app.post_message(StoreOpened(store.path, server, role))
        worker = get_current_worker()
        self.running = True
        try:
            while True:
                try:
                    job = self._jobs.get(timeout=0.5)
                except queue.Empty:
                    if worker.is_cancelled:
                        break  # the app is closing and nothing is queued
                    continue
                if job is _STOP:
                    break
                if isinstance(job, _Barrier):
                    job.reached.set()
                    continue
                assert isinstance(job, Job)
                try:
                    finished = self._execute(store, job, StoreError)
                except DamagedError as exc:
                    # SQLite met a damaged page: stop here, before anything else is written
                    # to the file; the app shows what it shows when opening finds damage.
                    self._app.post_message(JobFinished(job, error=str(exc)))
                    self._app.post_message(StoreFailed(str(exc)))
                    break
                self._app.post_message(finished)
        finally:
            self.running = False
            store.close()

    @staticmethod
    def _execute(store: Store, job: Job, store_error: type[Exception]) -> JobFinished:
        from p2pcall.store.store import DamagedError

        try:
            return JobFinished(job, result=job.run(store), reachable=store.reachable)
        except DamagedError:
            raise
        except store_error as exc:
            return JobFinished(job, error=str(exc), reachable=store.reachable)
        except Exception as exc:
            # The type only: exception text can quote the note being saved.
            return JobFinished(
                job,
                error=f"Unexpected {type(exc).__name__} in the database",
                reachable=store.reachable,
            )
