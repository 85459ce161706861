"""One rule for every key: a key takes effect only after every key typed before it has.

Why this module exists. Textual 8.2 reads a key in `App.on_event` and, in the App's task:
- runs a *priority* binding at once (`App._check_bindings(key, priority=True)`), or else
- posts the key to the focused widget's message queue (`Widget._forward_event`) and goes on
  to read the next key straight away.
The widget handles the key later, in its own task. What it does not handle itself bubbles up,
one parent's queue at a time, back to the App, whose `_on_key` only then runs the ordinary
bindings; `Input` handles letters in `_on_key` but Backspace, arrows, Home/End and Enter as
such bindings. So a later key overtakes an earlier one in three ways:
- a priority binding runs ahead of letters still queued for the widget (the addendum dialog's
  Enter saved "This reason is for"; Ctrl+Q quit before the note's last words were in);
- a letter is inserted by the widget while the Backspace or Left typed before it is still on
  its way up to the App ("fent" + Backspace "a" gave "fent"; "abcd" + Left Left "X" gave
  "abcdX"): a plain `Input` in a six-line app does it too (README, notes for maintainers);
- a key read before the screen change, focus move or dialog answer it follows has happened
  goes to the old screen or field.

Closed here, at one place: the App no longer hands keys (and pastes, which are typing too)
to Textual as it reads them. It queues them, and one dispatcher task takes them in order:
it gives a key to Textual's own handling (`App.on_event`, unchanged: bindings, focus, widgets
all behave as documented), then waits until the key has taken full effect before taking the
next one. "Full effect" is: every message queue of the app and of the screens on its stack
is drained (the key itself, its bubbling, the messages its handlers posted, a pushed screen
mounted and focused, a dismissed dialog's answer delivered), the workers screens started have
finished (the command palette's search), a scroll it started has landed, a layout it
caused is done (sizes and scroll limits the next key may use), and no `hold` is open (a
database answer the next keys act on: the call being opened, the history rows to pick from).

A key is never stuck: a hold and a drain each give up after a bound (a slow machine gets
more than enough), and the dispatcher survives an error in a key's handling.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeGuard

from textual import events

from p2pcall.textual_compat import (
    finish_scrolls,
    lay_out_now,
    layout_pending,
    pump_drained,
    report_unhandled_error,
)

if TYPE_CHECKING:
    from textual.app import App
    from textual.message_pump import MessagePump

    _AppMixin = App[Any]  # what the mixin below is mixed into, for the type checker
else:
    _AppMixin = object

HOLD_SECONDS = 15.0  # a call loading from a busy database (SQLite busy_timeout is 10 s)
DRAIN_SECONDS = 5.0  # a key's effects take milliseconds; this only keeps the keyboard alive
BARRIER_SECONDS = 0.5  # per round: a widget being torn down may never answer

# What the dispatcher takes, in order: a key or paste, or a callable queued behind them.
Typed = events.Key | events.Paste | Callable[[], Any]


def is_typing(event: events.Event) -> TypeGuard[events.Key | events.Paste]:
    """A key or paste read from the terminal (not one Textual forwards or bubbles itself)."""
    return isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded


class KeyOrder:
    """The app's single key dispatcher. `deliver` is Textual's own `App.on_event`."""

    def __init__(self, app: App[Any], deliver: Callable[[events.Event], Any]) -> None:
        self._app = app
        self._deliver = deliver
        self._queue: asyncio.Queue[Typed] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._holds: dict[object, float] = {}  # token -> loop time it lapses
        self._hold_changed = asyncio.Event()
        self._busy = False

    # -- what the app calls ---------------------------------------------------------------

    def take(self, item: Typed) -> None:
        """Queue a key, paste or callable behind everything typed so far."""
        self._queue.put_nowait(item)
        if self._task is None:
            # Started from the app's task, so it runs with the app as the active app.
            self._task = asyncio.create_task(self._run(), name="p2pcall key order")

    def hold(self, seconds: float = HOLD_SECONDS) -> object:
        """Keep later keys waiting (e.g. while a call loads) until `release(token)`."""
        token = object()
        self._holds[token] = asyncio.get_running_loop().time() + seconds
        return token

    def release(self, token: object) -> None:
        self._holds.pop(token, None)
        self._hold_changed.set()

    @property
    def idle(self) -> bool:
        """Nothing typed is waiting or being handled."""
        return self._queue.empty() and not self._busy

    def stop(self) -> None:
        """The app is closing: keys still waiting are dropped (quit took what was before)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None

    # -- the dispatcher -------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            self._busy = True
            try:
                await self.settle()
                if callable(item):
                    result = item()
                    if inspect.isawaitable(result):
                        await result
                else:
                    await self._deliver(item)
                await self.settle()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                report_unhandled_error(self._app, error)
            finally:
                self._busy = False

    async def settle(self) -> None:
        """Wait until no hold is open and every message queue of the app has drained."""
        await self._wait_for_holds()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DRAIN_SECONDS
        while loop.time() < deadline:
            busy = [pump for pump in self._pumps() if not pump_drained(pump)]
            if busy:
                await _barrier(busy)
                continue
            working = self._workers()
            if working:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._app.workers.wait_for_complete(working), BARRIER_SECONDS
                    )
                continue
            if await finish_scrolls(self._app):
                continue  # where it lands is where the next key acts
            screen = layout_pending(self._app)
            if screen is None:
                return
            # Sizes and scroll limits come from the layout: Down right after a screen is shown
            # must scroll the laid-out screen, not one that cannot scroll yet. Laid out now,
            # as the screen's own frame timer would (and as Textual's Pilot does), rather than
            # waiting up to a frame for it. A repaint alone is left to the timer.
            lay_out_now(screen)
            await asyncio.sleep(0)

    def _workers(self) -> list[Any]:
        """Workers a screen or widget started (the palette's search): part of a key's effect.
        The app's own long-lived database thread is not."""
        app = self._app
        return [w for w in app.workers if not w.is_finished and w.node is not app]

    async def _wait_for_holds(self) -> None:
        loop = asyncio.get_running_loop()
        while self._holds:
            now = loop.time()
            self._holds = {token: end for token, end in self._holds.items() if end > now}
            if not self._holds:
                return
            self._hold_changed.clear()
            wait = min(self._holds.values()) - now
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._hold_changed.wait(), wait)

    def _pumps(self) -> Iterable[MessagePump]:
        app = self._app
        yield app
        for screen in app.screen_stack:
            yield from screen.walk_children(with_self=True)


async def _barrier(pumps: list[MessagePump]) -> None:
    """Wait until each pump has handled what is in its queue now (or is gone)."""
    waits = []
    for pump in pumps:
        reached = asyncio.Event()
        if pump.call_later(reached.set):
            waits.append(reached.wait())
    if not waits:
        await asyncio.sleep(0)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*waits), BARRIER_SECONDS)


class OrderedKeysApp(_AppMixin):
    """Mixed into the app ahead of `textual.app.App`: typing goes through one `KeyOrder`."""

    _key_order: KeyOrder | None = None

    @property
    def key_order(self) -> KeyOrder:
        if self._key_order is None:
            self._key_order = KeyOrder(self, super().on_event)
        return self._key_order

    async def on_event(self, event: events.Event) -> None:
        if is_typing(event):
            self.key_order.take(event)
            return
        await super().on_event(event)

    async def _shutdown(self) -> None:
        if self._key_order is not None:
            self._key_order.stop()
        await super()._shutdown()

    def after_typed(self, callback: Callable[[], Any]) -> None:
        """Run `callback` once every key read so far has taken effect.

        Through the app's own queue first: keys the terminal driver has already posted there
        (read, but not yet taken by `on_event`) are ahead of it, so they count as read.
        """
        app: Any = self
        app.call_later(self.key_order.take, callback)
