"""Keys typed while a screen is still appearing go to that screen, in order, once it is shown.

Textual hands each key to whatever has focus at the moment the key is read. Right after a
screen is pushed or switched to, nothing on it has focus yet, so keys typed in that instant
(F2 then "patient is...", typed as one burst after a stall or over a slow link) reach the bare
screen and are dropped. The app holds them instead and replays them once the new screen has
been resumed, focused and painted. A timer releases them regardless, so the keyboard can never
stay stuck.
"""

from __future__ import annotations

from typing import Any

from textual import events
from textual.app import App
from textual.message import Message

SAFETY_SECONDS = 2.0  # re-checked, not a deadline: a slow machine may take longer to mount
LOADING_SECONDS = 15.0  # a call loading from a busy database (busy_timeout is 10 s)


class KeysReleased(Message):
    def __init__(self, token: object) -> None:
        super().__init__()
        self.token = token


class KeyHoldingApp(App[None]):
    _hold_token: object | None = None
    _held: list[events.Key]

    def _hold_keys(self, seconds: float | None = LOADING_SECONDS) -> object:
        """Hold keys from now until `_release_keys(token)` (or after `seconds`)."""
        token = object()
        self._hold_token = token
        if not hasattr(self, "_held"):
            self._held = []
        if seconds is not None:
            self.set_timer(seconds, lambda: self._release_keys(token))
        return token

    def _release_keys(self, token: object) -> None:
        self.post_message(KeysReleased(token))

    def _hold_until_shown(self) -> None:
        screen = self.screen
        token = self._hold_keys(None)

        def safety() -> None:
            # Only let go early if the screen is gone or shown; a slow mount is waited for.
            if not self.is_running:
                return
            if self.screen_stack and self.screen_stack[-1] is screen and not screen.is_mounted:
                self.set_timer(SAFETY_SECONDS, safety)
            else:
                self._release_keys(token)

        self.set_timer(SAFETY_SECONDS, safety)
        # Queued behind the new screen's mount and resume (which give it focus).
        screen.call_after_refresh(self._release_keys, token)

    def push_screen(self, *args: Any, **kwargs: Any) -> Any:
        result = super().push_screen(*args, **kwargs)
        self._hold_until_shown()
        return result

    def switch_screen(self, *args: Any, **kwargs: Any) -> Any:
        result = super().switch_screen(*args, **kwargs)
        self._hold_until_shown()
        return result

    async def on_event(self, event: events.Event) -> None:
        if (
            isinstance(event, events.Key)
            and not event.is_forwarded
            and self._hold_token is not None
        ):
            self._held.append(event)
            return
        await super().on_event(event)

    async def on_keys_released(self, message: KeysReleased) -> None:
        if message.token is not self._hold_token:
            return  # an older hold: a newer screen is still appearing
        self._hold_token = None
        if not self.screen_stack:
            self._held.clear()  # the app is closing
            return
        # Replayed here, in the app's own queue, so no later key can overtake them. A replayed
        # key that shows another screen starts a new hold for the keys after it.
        while self._held and self._hold_token is None and self.screen_stack:
            await super().on_event(self._held.pop(0))
