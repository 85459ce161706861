"""Always visible during a call: clock, who the call is about, save state, agenda strip."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Static

from p2pcall.domain.sections import Section
from p2pcall.domain.text import one_line
from p2pcall.domain.timefmt import call_length, elapsed
from p2pcall.widgets.steady import SteadyStatic

SAVE_MARK_CELLS = len("\u2713 saved 00:00:00")

if TYPE_CHECKING:
    from p2pcall.session import CallSession, SaveMark


class SessionStatic(Static):
    """A Static that shows something of one open call, given when the screen is built."""

    def __init__(self, session: CallSession, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session = session


class CallClock(SessionStatic, SteadyStatic):
    def on_mount(self) -> None:
        self.tick()
        self.set_interval(1, self.tick)

    def tick(self) -> None:
        call = self.session.call
        if call.started_at is None:
            if call.ended_at is not None:
                self.show_content(
                    Content.assemble(("AFTER CALL ", "bold $warning"), "not connected")
                )
            else:
                self.show_content(Content.assemble(("\u25cc PREPARING", "bold $warning")))
        elif call.ended_at is not None:
            duration = call_length(call.started_at, call.ended_at)
            self.show_content(Content.assemble(("AFTER CALL ", "bold $warning"), duration))
        else:
            since = time.time() - call.started_at.timestamp()
            self.show_content(Content.assemble(("\u25cf LIVE ", "bold $error"), elapsed(since)))


class SaveState(SessionStatic, SteadyStatic):
    def on_mount(self) -> None:
        self.session.watch_save_mark(self.show)

    def show(self, state: SaveMark) -> None:
        level, message = state
        style = {"ok": "$success", "busy": "$text-muted", "error": "bold $error"}[level]
        # "… saving" and "✓ saved 14:02:11" take the same room: the mark flips twice per
        # note, and a change of width lays out the whole screen (its notes list included).
        pad = " " * max(0, SAVE_MARK_CELLS - cell_len(message))
        self.show_content(Content.assemble((message, style), pad))
        self.set_class(level == "error", "-error")


class LinkState(SessionStatic, SteadyStatic):
    """The practice server's connection; nothing at all on the local file."""

    def on_mount(self) -> None:
        self.session.watch_link(self.show)

    def show(self, link: str | None) -> None:
        self.display = link is not None
        if link == "offline":
            self.show_content(Content.assemble(("\u26a0 SERVER OFFLINE", "bold $error")))
        elif link is not None:
            self.show_content(Content.assemble(("\u25cf server", "$success")))
        self.set_class(link == "offline", "-error")


class OutboxCount(SessionStatic, SteadyStatic):
    """How many notes of this call wait in the outbox (hidden when none)."""

    def on_mount(self) -> None:
        self.session.outbox_count.watch(self.show)

    def show(self, count: int) -> None:
        self.display = count > 0
        if count:
            self.show_content(Content.assemble((f"{count} in outbox", "bold")))


class CallTitle(SessionStatic):
    _title: str | None = None

    def on_mount(self) -> None:
        self.refresh_title()

    def refresh_title(self) -> None:
        call = self.session.call
        parts = [f"Call #{call.id}"] + [
            one_line(call.value(key), 20) for key in ("patient_ref", "insurer") if call.value(key)
        ]
        title = " \u00b7 ".join(parts)
        if title != self._title:
            # One line in the room left (1fr): a new title never changes the layout.
            self._title = title
            self.update(Content(title), layout=False)


class ChainHead(SessionStatic):
    """FINAL and the first digits of the chain head, once the record is finalized."""

    def on_mount(self) -> None:
        self.session.chain_head.watch(self.show_head)

    def show_head(self, head: str | None) -> None:
        from p2pcall.domain.chain import short

        self.display = bool(head)
        if head:
            self.update(Content.assemble(("FINAL ", "bold"), short(head)[:9]))
            self.tooltip = f"Chain head {head}"


class CallBar(Horizontal):
    def __init__(self, session: CallSession, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session = session

    def compose(self) -> ComposeResult:
        yield CallClock(self.session, id="clock")
        yield CallTitle(self.session, id="call-title")
        yield ChainHead(self.session, id="chain-head")
        yield LinkState(self.session, id="link-state")
        yield OutboxCount(self.session, id="outbox-count")
        yield SaveState(self.session, id="save-state")


class AgendaStrip(SessionStatic, SteadyStatic):
    """A..G with note counts; the current section stands out, with its name."""

    def __init__(self, session: CallSession, current: Section | None, **kwargs: Any) -> None:
        super().__init__(session, **kwargs)
        self.current = current

    def on_mount(self) -> None:
        self.session.counts.watch(self.show)

    def on_resize(self) -> None:
        self.show(self.session.counts.value)

    def show(self, counts: dict[str, int]) -> None:
        wide = self.size.width >= 100
        parts: list[str | tuple[str, str]] = []
        for index, section in enumerate(Section, start=1):
            count = counts.get(section.value, 0)
            label = f" F{index} {section.value}"
            if wide or section is self.current:
                label += f" {section.info.short}"
            label += f" {count} " if count else " "
            style = (
                "bold reverse $accent"
                if section is self.current
                else ("$text" if count else "$text-muted")
            )
            parts.extend([(label, style), " "])
        self.show_content(Content.assemble(*parts))
