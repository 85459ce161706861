"""Save at most once a `delay` while text keeps changing, and once more when it stops."""

from __future__ import annotations

from collections.abc import Callable

from textual.message_pump import MessagePump
from textual.timer import Timer


class Throttle:
    def __init__(self, owner: MessagePump, delay: float, action: Callable[[], None]) -> None:
        self._owner = owner
        self._delay = delay
        self._action = action
        self._timer: Timer | None = None

    @property
    def pending(self) -> bool:
        return self._timer is not None

    def poke(self) -> None:
        if self._timer is None:
            self._timer = self._owner.set_timer(self._delay, self._fire)

    def flush(self) -> None:
        """Run now if a save is waiting (leaving a screen, quitting)."""
        if self._timer is not None:
            self._timer.stop()
            self._fire()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _fire(self) -> None:
        self._timer = None
        self._action()
