"""What screens may ask of the app, typed: the database thread and the call's comings and goings.

Screens are built by Textual and reach their app as `self.app`, typed as a plain `App`.
`host(self)` gives the same app as a `CallHost`: the few things the app does for screens
(start, open and leave calls, move between a call's screens, the database thread). Screens
never import `p2pcall.app` (it imports them); `P2PCallApp` is checked against this protocol
by mypy (see `p2pcall.app._is_host`) and by tests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from p2pcall.session import CallSession
    from p2pcall.store import Store
    from p2pcall.worker import DatabaseThread, JobKind


class CallHost(Protocol):
    db: DatabaseThread

    @property
    def live(self) -> CallSession | None: ...

    def ask_store(
        self,
        run: Callable[[Store], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[str], None] | None = None,
        what: str = "",
        kind: JobKind = "read",
    ) -> None: ...

    def records_open(self, retry: Callable[[], None] | None = None) -> bool: ...

    def refresh_home(self) -> None: ...

    def show_due(self) -> None: ...

    def new_call(self) -> None: ...

    def prepare_call(self) -> None: ...

    def open_call(self, call_id: int) -> None: ...

    def goto(self, target: str) -> None: ...

    def ask_end_call(self) -> None: ...

    def leave_call(self) -> None: ...

    def flush_all(self) -> None: ...


def host(node: DOMNode) -> CallHost:
    """The app `node` runs in, as the screens know it."""
    return cast("CallHost", node.app)
