"""Messages (notify) on lines of their own, newest always in view.

The stylesheet puts Textual's toast rack on the screen's own layer, docked above the key bar,
so a message pushes the screen up instead of covering what the user reads (toasts hid the
addendum label and the Due screen's detail line). The rack is only so tall: with more
messages than fit, the newest went below its edge. Only the newest few are kept.
"""

from __future__ import annotations

from typing import Any

from p2pcall.textual_compat import drop_message, shown_messages

MAX_MESSAGES = 3


class NewestMessages:
    """App mixin: before Textual's own handler adds a message, drop the oldest beyond the cap."""

    def _on_notify(self, event: Any) -> None:
        # Textual runs App._on_notify after this one (handlers run along the class hierarchy).
        app: Any = self
        shown = shown_messages(app)
        for old in shown[: max(0, len(shown) - (MAX_MESSAGES - 1))]:
            drop_message(app, old)
