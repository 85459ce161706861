"""The key bar: the screen's active key bindings on one line at the bottom.

It shows what Textual's Footer shows, drawn as a single widget. Footer rebuilds one widget
per key every time focus moves, which cost ~40 ms on each screen switch (measured on the
history screen); here a focus change only redraws one line. Keys are for the keyboard, so
nothing here is clickable; the command palette (listed at the right) shows every binding.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.screen import Screen

KEY_STYLE = "bold $footer-key-foreground"
DISABLED_STYLE = "$text-disabled"


class KeyBar(Widget):
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        color: $footer-description-foreground;
        background: $footer-background;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._keys: Content = Content("")
        self._palette: Content = Content("")

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._collect()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen:
            self._collect()
            self.refresh()

    def _collect(self) -> None:
        app = self.app
        palette_key = app.COMMAND_PALETTE_BINDING if app.ENABLE_COMMAND_PALETTE else ""
        keys: list[Content] = []
        palette = Content("")
        shown_actions: set[str] = set()
        for key, (_node, binding, enabled, _tooltip) in self.screen.active_bindings.items():
            if key != palette_key and (not binding.show or binding.action in shown_actions):
                continue
            shown_actions.add(binding.action)
            item = Content.assemble(
                (app.get_key_display(binding), KEY_STYLE if enabled else DISABLED_STYLE),
                " ",
                (binding.description, "" if enabled else DISABLED_STYLE),
            )
            if key == palette_key:
                palette = item
            else:
                keys.append(item)
        self._keys = Content(" ").join(keys)
        self._palette = palette

    def render(self) -> Content:
        width = self.size.width
        keys, palette = Content(" ") + self._keys, self._palette
        if palette:
            palette = Content.styled("\u2502 ", "$text-muted") + palette + " "
        room = max(width - palette.cell_length, 0)
        return keys.truncate(room, ellipsis=True, pad=True) + palette
