"""Every private Textual internal p2pcall relies on, in one place (written against Textual 8.2).

Textual offers no public way to do the things below; each says why we need it. Code elsewhere
reaches these internals only through this module, and tests/unit/test_textual_compat.py checks each
one (it exists, takes what we pass, behaves as relied on), so a Textual upgrade that changes
one fails there, by name, before the feature built on it starts failing now and then.

Methods of Textual classes that p2pcall classes override under their private names are listed
in `OVERRIDDEN`: an override of a method that no longer exists would silently never run.

Importing this module imports Textual: only the TUI imports it (never the CLI commands).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from textual._xterm_parser import XTermParser as _XTermParser

if TYPE_CHECKING:
    from textual.app import App
    from textual.drivers.linux_driver import LinuxDriver
    from textual.message_pump import MessagePump
    from textual.notifications import Notification
    from textual.screen import Screen

# -- the terminal's input reader (p2pcall.paste_guard, p2pcall.alt_keys) ------------------

# The reader that turns terminal bytes into keys and pastes. Textual exports no hook to filter
# input before it: the paste guard (ESC inside a paste stays text) and the Alt+letter rewrite
# (ESC m in a burst is Alt+M, not "^m") subclass it and wrap `feed`.
XTermParser = _XTermParser


def use_input_parser(parser_class: type[_XTermParser]) -> None:
    """Make the Linux driver read input through `parser_class`.

    `LinuxDriver.run_input_thread` builds its parser from the module's global `XTermParser`
    each time it starts: replacing that name is the only way to put ours in its place.
    """
    from textual.drivers import linux_driver

    linux_driver.XTermParser = parser_class  # type: ignore[misc]  # a class put in its place


# -- the Linux driver (p2pcall.terminal_guard) ----------------------------------------------


class TerminalOutput(Protocol):
    """What the driver's output thread uses of its file."""

    def write(self, text: str, /) -> int: ...
    def flush(self) -> None: ...
    def fileno(self) -> int: ...
    def isatty(self) -> bool: ...


def driver_output(driver: LinuxDriver) -> TerminalOutput:
    """The file the driver's output thread writes the screen to (the terminal)."""
    output = driver._file
    if output is None:  # typed Optional (sys.__stderr__), but a terminal app always has one
        raise RuntimeError("Textual's driver has no output file")
    return output


def replace_driver_output(
    driver: LinuxDriver, wrap: Callable[[TerminalOutput], TerminalOutput]
) -> None:
    """Put `wrap(file)` where the driver's output goes. Done before application mode starts:
    `start_application_mode` hands `_file` to the output thread it creates. The guard's file
    drops what a hung-up terminal cannot take, so that thread never dies with the queue full."""
    driver._file = wrap(driver_output(driver))  # type: ignore[assignment]  # a file-like


def suspend_as_textual_does(driver: LinuxDriver, signum: int, frame: object) -> None:
    """Textual's own SIGTSTP handler (Ctrl+Z). The guard installs its own handler in the place
    of the one `LinuxDriver.__init__` installs and then hands a real suspend on to this."""
    driver._sigtstp_application(signum, frame)


def resume_as_textual_does(driver: LinuxDriver, signum: int, frame: object) -> None:
    """Textual's own SIGCONT handler (restarts application mode). The guard calls it only for
    a SIGCONT that follows its own suspend: a hang-up sends SIGCONT too."""
    driver._sigcont_application(signum, frame)


def driver_app(driver: LinuxDriver) -> Any:
    """The app a driver was made for: the driver keeps it only as `_app`."""
    return driver._app


# -- unhandled errors (p2pcall.safe_exit, p2pcall.key_order) -----------------------------


def report_unhandled_error(app: App[Any], error: Exception) -> None:
    """Hand an error to Textual's handler for unhandled errors, as Textual's own tasks do.

    The key dispatcher (p2pcall.key_order) runs in a task of ours, not Textual's: an error in
    a key's handling must still end the app the way any other handler's error does (through
    `_fatal_error`, which p2pcall.safe_exit overrides to save drafts and print no note text).
    """
    app._handle_exception(error)


def error_being_reported(app: App[Any]) -> BaseException | None:
    """The first unhandled error, which Textual records before calling `_fatal_error` (and
    re-raises at the end of `run_test`). `_fatal_error` itself is not given the error."""
    return app._exception


def close_app_now(app: App[Any]) -> None:
    """End the app's message loop at once, as Textual's `_fatal_error` does after an error:
    `exit()` would first handle every message still queued."""
    app._close_messages_no_wait()


# -- messages (p2pcall.message_lines) ---------------------------------------------------------


def shown_messages(app: App[Any]) -> list[Notification]:
    """The app's notifications now shown, oldest first. Textual offers no way to drop the
    oldest ones: only `clear_notifications`, which drops them all."""
    return list(app._notifications)


def drop_message(app: App[Any], notification: Notification) -> None:
    """Remove one notification, without a repaint (Textual's own handler repaints next)."""
    app._unnotify(notification, refresh=False)


# -- waiting until a key has taken effect (p2pcall.key_order) ---------------------------------


def pump_drained(pump: MessagePump) -> bool:
    """True when the pump has nothing queued and sits waiting for its next message.

    An empty queue alone is not enough: the message taken last may still be being handled
    (and may post more). Textual's queue has no count of unfinished messages, but a pump
    that is waiting for one is awaiting its queue's `ready_event`; one that is handling a
    message, running its idle handlers or `call_next` callbacks, or not started yet, is not.
    Textual has no public "idle" test for a message pump.
    """
    if pump._closing or pump._closed:
        return True
    queue: Any = pump._message_queue
    waiting = bool(getattr(queue.ready_event, "_waiters", None))
    return waiting and queue.empty() and pump._pending_message is None and not pump._next_callbacks


def layout_pending(app: App[Any]) -> Screen[Any] | None:
    """The current screen, if a layout, a scroll update or a callback waiting for its next
    refresh is pending on it; else None.

    Sizes and scroll limits come from the layout, which Textual runs on the screen's next
    frame; the next key may need them (Down right after a screen is shown must scroll the
    laid-out screen). `call_after_refresh` callbacks run after that frame too: a focus move
    brings the field into view that way, and the next key must find it scrolled. Not while
    the app batches updates: the layout waits for the batch.
    """
    try:
        screen: Any = app.screen
    except Exception:  # no screen yet, or the app is closing
        return None
    pending = screen._layout_required or screen._scroll_required or screen._callbacks
    return screen if pending and screen.is_current and not app._batch_count else None


def lay_out_now(screen: Screen[Any]) -> None:
    """Run the layout the screen's frame timer would run next (as Textual's Pilot does)."""
    screen._on_timer_update()


async def finish_scrolls(app: App[Any]) -> bool:
    """Move every scroll under way to where it is going, now; True if there was one.

    A scroll (Down bubbling from a field to its form, a focus move bringing a field into
    view) is an animation even with `animation_level = "none"`: it lands on the animator's
    next frame, after the next key of a burst has already been handled (typed slowly, it
    would have landed first). Textual has no public way to complete one on the spot.
    """
    animator: Any = app.animator
    scrolls = [key for key in list(animator._animations) if key[1] in ("scroll_x", "scroll_y")]
    for key in scrolls:
        await animator._stop_running_animation(key, complete=True)
    return bool(scrolls)


# -- widgets (p2pcall.widgets) -----------------------------------------------------------------


def toggle_box_inner() -> str:
    """The box SelectionList draws for every option (ticked and unticked differ only in
    colour). TickList finds the box in a rendered line by this text to draw "X" or " "."""
    from textual.widgets._toggle_button import ToggleButton  # loaded with SelectionList

    inner: str = ToggleButton.BUTTON_INNER
    return inner


# -- private methods p2pcall overrides -------------------------------------------------------

# (Textual class, method, its parameters, the p2pcall class overriding it). Each must still
# exist with those parameters, or our override would silently never be called.
OVERRIDDEN: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    # Called with an unhandled error to show Textual's traceback, which has local variables
    # (note text): ours saves the drafts and prints a report with no values in it.
    ("textual.app.App", "_fatal_error", ("self",), "p2pcall.safe_exit.SafeExit"),
    # Where the app shuts down: the key dispatcher's task is stopped first.
    ("textual.app.App", "_shutdown", ("self",), "p2pcall.key_order.OrderedKeysApp"),
    # Where Input turns a cursor position into a screen column: measured on what we draw.
    ("textual.widgets.Input", "_position_to_cell", ("self", "position"), "LiteralInput"),
)
# Overridden as well: `Input._value`, the property giving the text Input draws. LiteralInput
# draws control characters as visible symbols, and a cut value ending in "…".
#
# Handlers named `_on_<message>` (LiteralInput, LiteralTextArea, NoteField, NewestMessages)
# rely on Textual running, for one message, the handler of each class along the MRO, the
# subclass's first, and on `prevent_default()` keeping the base classes' handlers from running.
