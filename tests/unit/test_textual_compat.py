"""What p2pcall relies on inside Textual (p2pcall.textual_compat), checked one by one.

Each test fails when a Textual upgrade changes one of the private things we use: the name is
gone, it takes other arguments, or it no longer does what we rely on. Fix textual_compat (and
the feature named in the failing test) before anything else.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import signal
import sys
from typing import Any

import pytest
from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.drivers import linux_driver
from textual.drivers.linux_driver import LinuxDriver
from textual.widgets import Input, SelectionList, Static

from p2pcall import textual_compat as compat
from pilot_helpers import wait_until


def _load(dotted: str) -> Any:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize(
    ("owner", "method", "parameters", "ours"),
    compat.OVERRIDDEN,
    ids=[f"{owner.rpartition('.')[2]}.{method}" for owner, method, _, _ in compat.OVERRIDDEN],
)
def test_the_private_methods_we_override_still_exist(
    owner: str, method: str, parameters: tuple[str, ...], ours: str
) -> None:
    found = inspect.getattr_static(_load(owner), method, None)
    assert found is not None, f"{owner}.{method} is gone: {ours} overrides it for nothing"
    assert tuple(inspect.signature(found).parameters) == parameters


def test_input_draws_its_private_value_property() -> None:
    # LiteralInput overrides `_value` to draw control characters as symbols.
    assert isinstance(inspect.getattr_static(Input, "_value"), property)


async def test_what_the_value_property_returns_is_what_input_draws() -> None:
    class Drawn(Input):
        @property
        def _value(self) -> Text:
            return Text("drawn by us")

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield Drawn(value="stored")

    app = Host()
    async with app.run_test(size=(40, 5)) as pilot:
        await pilot.pause()
        field = app.query_one(Drawn)
        assert "drawn by us" in "".join(s.text for s in field.render_line(0))
        assert field.value == "stored"


# -- the input reader ---------------------------------------------------------------------


def test_the_reader_turns_bytes_into_keys_and_pastes() -> None:
    parser = compat.XTermParser(False)  # LinuxDriver makes it as XTermParser(self._debug)
    keys = list(parser.feed("a"))
    assert [type(e) for e in keys] == [events.Key] and keys[0].character == "a"
    pasted = list(parser.feed("\x1b[200~two\nlines\x1b[201~"))
    assert [e.text for e in pasted if isinstance(e, events.Paste)] == ["two\nlines"]
    # An ESC inside a paste starts a key sequence (the reason for p2pcall.paste_guard): the
    # guard's stand-in must reach the Paste event as text.
    pasted = list(parser.feed("\x1b[200~a\ue01bb\x1b[201~"))
    assert [e.text for e in pasted if isinstance(e, events.Paste)] == ["a\ue01bb"]


def test_the_linux_driver_builds_its_reader_from_the_module_global() -> None:
    assert linux_driver.XTermParser is compat.XTermParser
    assert "XTermParser" in LinuxDriver.run_input_thread.__code__.co_names

    class Mine(compat.XTermParser):
        pass

    try:
        compat.use_input_parser(Mine)
        assert linux_driver.XTermParser is Mine
    finally:
        compat.use_input_parser(compat.XTermParser)


# -- the Linux driver -----------------------------------------------------------------------


@pytest.fixture
def restore_job_control_signals():
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTSTP, signal.SIGCONT)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


async def test_the_driver_internals_the_terminal_guard_uses(restore_job_control_signals) -> None:
    app: App[None] = App()
    driver = LinuxDriver(app)
    assert compat.driver_app(driver) is app
    # It answers SIGTSTP / SIGCONT with these two methods, taking (signum, frame) ...
    assert signal.getsignal(signal.SIGTSTP) == driver._sigtstp_application
    assert signal.getsignal(signal.SIGCONT) == driver._sigcont_application
    assert "driver._sigtstp_application(signum, frame)" in inspect.getsource(
        compat.suspend_as_textual_does
    )
    inspect.signature(driver._sigtstp_application).bind(signal.SIGTSTP, None)
    inspect.signature(driver._sigcont_application).bind(signal.SIGCONT, None)
    # ... writes the screen to `_file` through the output thread it starts ...
    assert compat.driver_output(driver) is sys.__stderr__
    assert "WriterThread(self._file)" in inspect.getsource(LinuxDriver.start_application_mode)
    wrapped: list[Any] = []
    compat.replace_driver_output(driver, lambda file: wrapped.append(file) or file)
    assert wrapped == [sys.__stderr__]
    # ... and reads in `run_input_thread`, whose errors reach the thread's wrapper.
    assert "self.run_input_thread()" in inspect.getsource(LinuxDriver._run_input_thread)


# -- unhandled errors -------------------------------------------------------------------------


class Failing(App[None]):
    """Overrides `_fatal_error` as p2pcall.safe_exit does; fails on "x" or from a task of ours."""

    BINDINGS = [("x", "fail", "")]

    def __init__(self) -> None:
        super().__init__()
        self.reported: list[BaseException | None] = []

    def action_fail(self) -> None:
        raise ValueError("in a handler")

    def fail_in_our_task(self) -> None:
        async def ours() -> None:
            try:
                raise KeyError("in our task")
            except KeyError as error:
                compat.report_unhandled_error(self, error)

        asyncio.get_running_loop().create_task(ours())

    def _fatal_error(self) -> None:
        self.reported.append(compat.error_being_reported(self))
        compat.close_app_now(self)


async def test_an_error_in_a_handler_reaches_the_fatal_error_hook_with_the_error() -> None:
    app = Failing()
    with pytest.raises(ValueError, match="in a handler"):  # run_test re-raises it
        async with app.run_test() as pilot:
            await pilot.press("x")
            await wait_until(pilot, lambda: app.reported, timeout=10)
    assert [type(e) for e in app.reported] == [ValueError]
    assert app.return_code == 1


async def test_an_error_reported_from_our_own_task_ends_the_app_the_same_way() -> None:
    app = Failing()
    with pytest.raises(KeyError, match="in our task"):
        async with app.run_test() as pilot:
            app.fail_in_our_task()
            await wait_until(pilot, lambda: app.reported, timeout=10)
            await pilot.pause()
    assert [type(e) for e in app.reported] == [KeyError]
    assert app.return_code == 1


# -- messages -------------------------------------------------------------------------------


async def test_notifications_can_be_listed_and_dropped_one_by_one() -> None:
    app: App[None] = App()
    async with app.run_test() as pilot:
        app.notify("first")
        app.notify("second")
        await wait_until(pilot, lambda: len(compat.shown_messages(app)) == 2, timeout=10)
        assert [n.message for n in compat.shown_messages(app)] == ["first", "second"]
        compat.drop_message(app, compat.shown_messages(app)[0])
        assert [n.message for n in compat.shown_messages(app)] == ["second"]
        await pilot.pause()


# -- handlers along the class hierarchy -------------------------------------------------------


async def test_a_subclass_handler_runs_first_and_can_keep_the_base_handler_from_running() -> None:
    # LiteralInput, LiteralTextArea and NoteField rely on this for keys and pastes,
    # p2pcall.message_lines for notifications (its handler runs before App's adds one).
    seen: list[str] = []

    class NoX(Input):
        def _on_key(self, event: events.Key) -> None:
            seen.append(f"{event.key}:{self.value}")
            if event.key == "x":
                event.prevent_default()

    class Counting(App[None]):
        def compose(self) -> ComposeResult:
            yield NoX()

        def _on_notify(self, event: Any) -> None:
            seen.append(f"notify:{len(compat.shown_messages(self))}")

    app = Counting()
    async with app.run_test() as pilot:
        await pilot.press("y", "x", "z")
        assert app.query_one(NoX).value == "yz"
        assert seen == ["y:", "x:y", "z:y"]
        app.notify("one")
        await wait_until(pilot, lambda: compat.shown_messages(app), timeout=10)
        assert seen[-1] == "notify:0"


# -- waiting until a key has taken effect -------------------------------------------------------


async def test_an_idle_pump_counts_as_drained_and_a_busy_one_does_not() -> None:
    drained_while_handling: list[bool] = []

    class Probe(App[None]):
        BINDINGS = [("p", "probe", "")]

        def action_probe(self) -> None:
            drained_while_handling.append(compat.pump_drained(self))

    app = Probe()
    async with app.run_test() as pilot:
        await pilot.pause()
        await wait_until(pilot, lambda: compat.pump_drained(app), timeout=10)
        await wait_until(pilot, lambda: compat.pump_drained(app.screen), timeout=10)
        await pilot.press("p")
        assert drained_while_handling == [False]
    assert compat.pump_drained(app)  # closed


async def test_a_pending_layout_is_seen_and_run_at_once() -> None:
    app: App[None] = App()
    async with app.run_test() as pilot:
        await pilot.pause()
        screen = app.screen
        screen.refresh(layout=True)
        assert compat.layout_pending(app) is screen
        with app.batch_update():
            assert compat.layout_pending(app) is None  # Textual lays out after the batch
        compat.lay_out_now(screen)
        assert compat.layout_pending(app) is None
        ran: list[str] = []
        screen.refresh()  # a repaint pending: callbacks wait for the frame that paints it
        screen.call_after_refresh(ran.append, "after the refresh")
        for _ in range(10_000):  # until the screen has taken it (its own task), not a frame
            if compat.layout_pending(app) is screen or ran:
                break
            await asyncio.sleep(0)
        assert not ran and compat.layout_pending(app) is screen  # waiting for a frame
        compat.lay_out_now(screen)  # the frame that runs it
        await wait_until(pilot, lambda: ran == ["after the refresh"])
        assert compat.layout_pending(app) is None


async def test_a_scroll_under_way_lands_at_once_when_finished() -> None:
    class Tall(App[None]):
        animation_level = "none"  # as the app: the scroll still waits for a frame

        def compose(self) -> ComposeResult:
            with VerticalScroll(id="form"):
                yield Static("\n".join(str(n) for n in range(100)))

    app = Tall()
    async with app.run_test(size=(20, 10)) as pilot:
        await pilot.pause()
        form = app.query_one("#form", VerticalScroll)
        assert await compat.finish_scrolls(app) is False  # nothing under way
        form.scroll_to(y=30, immediate=True)  # animated, as Textual's scroll actions are
        assert form.scroll_y == 0  # not yet: it lands on the animator's next frame
        assert await compat.finish_scrolls(app) is True
        assert form.scroll_y == 30
        assert await compat.finish_scrolls(app) is False


# -- widgets ------------------------------------------------------------------------------------


async def test_selection_list_draws_each_box_with_the_toggle_button_glyph() -> None:
    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield SelectionList[str](("one", "1", True), ("two", "2", False))

    app = Host()
    async with app.run_test(size=(30, 6)) as pilot:
        await pilot.pause()
        listing = app.query_one(SelectionList)
        for y in (0, 1):
            segments = list(listing.render_line(y))
            assert segments[1].text == compat.toggle_box_inner()
