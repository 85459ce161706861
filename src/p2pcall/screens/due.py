"""What is due across every call: overdue, due today, due in the next days; mark done, open."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from p2pcall.domain.followups import (
    CHECK_NOTICE,
    DueItem,
    DueReport,
    due_source,
    due_text,
    followup_title,
)
from p2pcall.domain.text import one_line
from p2pcall.host import host
from p2pcall.queries import due_soon
from p2pcall.widgets.keybar import KeyBar

if TYPE_CHECKING:
    from p2pcall.queries import Job

_GROUP_STYLE = {"Overdue": "bold $error", "Due today": "bold $warning"}


def due_summary(report: DueReport) -> Content:
    """The home screen's compact panel: counts, and the most pressing item."""
    if report.total == 0:
        return Content.assemble(
            (f"Nothing overdue or due in the next {report.within_days} days.", "$text-muted")
        )
    counts: list[str | tuple[str, str]] = ["Follow-ups: "]
    for (heading, items), word in zip(
        report.groups, ("overdue", "today", f"in {report.within_days} days"), strict=True
    ):
        if items:
            counts += [(f"{len(items)} {word}", _GROUP_STYLE.get(heading, "")), " \u00b7 "]
    counts[-1] = "  (d: list)"
    first = (report.overdue or report.today or report.soon)[0]
    return Content.assemble(
        *counts,
        "\n",
        (f"{due_text(first.due, first.tz)[:21]}  ", "$text-muted"),
        one_line(followup_title(first.followup)),  # whole: it wraps onto the panel's last line
        (f"  call #{first.followup.call_id}", "$text-muted"),
    )


class DueScreen(Screen[None]):
    BINDINGS = [
        Binding("x", "done", "Done", id="due-mark-done", tooltip="Mark the follow-up done"),
        Binding(
            "n",
            "not_needed",
            "Not needed",
            id="due-not-needed",
            tooltip="Mark the follow-up as not needed (it leaves the list)",
        ),
        Binding(
            "r",
            "received(True)",
            "Received",
            id="due-received",
            tooltip="A promised document or commitment came today (marks the chase done)",
        ),
        Binding(
            "u",
            "received(False)",
            "Not received",
            id="due-not-received",
            tooltip="A promised document or commitment has not come: noted with today's date",
        ),
        Binding(
            "enter",
            "open_call",
            "Open call",
            id="due-open-call",
            tooltip="Open the call this follow-up belongs to",
        ),
        Binding("escape", "app.pop_screen", "Back", id="due-back", tooltip="Back to home"),
    ]

    def __init__(self) -> None:
        super().__init__(name="due")
        self.items: dict[str, DueItem] = {}

    def compose(self) -> ComposeResult:
        with Vertical(id="due"):
            yield Static(Content("What is due, across all calls"), classes="section-title")
            yield Static(Content("Loading\u2026"), id="due-status", classes="hint")
            yield OptionList(id="due-list")
            yield Static(id="due-detail")
        yield KeyBar()

    def on_mount(self) -> None:
        self.reload()

    def reload(self) -> None:
        host(self).ask_store(due_soon, self.show_report, what="list what is due")

    def show_report(self, report: DueReport) -> None:
        listing = self.query_one("#due-list", OptionList)
        highlighted = listing.highlighted
        listing.clear_options()
        self.items = {}
        options: list[Option] = []
        # A coordinator or admin on a practice server works every clinician's calls.
        every_clinician = getattr(self.app, "role", None) not in (None, "clinician")
        for heading, items in report.groups:
            if not items:
                continue
            options.append(
                Option(
                    Content.assemble(
                        (f"{heading} ({len(items)})", _GROUP_STYLE.get(heading, "bold"))
                    ),
                    disabled=True,
                )
            )
            for item in items:
                key = str(item.followup.id)
                self.items[key] = item
                options.append(Option(self._line(item, every_clinician), id=key))
        listing.add_options(options)
        if self.items:
            text = (
                "x done \u00b7 n not needed \u00b7 r received \u00b7 u not received "
                "\u00b7 Enter opens the call"
            )
        else:
            text = f"Nothing overdue or due in the next {report.within_days} days."
        if report.undated:
            text += f" ({report.undated} planned without a date.)"
        self.query_one("#due-status", Static).update(Content(text))
        enabled = [i for i, option in enumerate(options) if not option.disabled]
        if enabled:
            wanted = highlighted if highlighted in enabled else None
            listing.highlighted = (
                wanted
                if wanted is not None
                else next(
                    (i for i in enabled if highlighted is None or i >= highlighted), enabled[-1]
                )
            )
            listing.focus()
        self._show_detail()

    @staticmethod
    def _line(item: DueItem, every_clinician: bool) -> Content:
        f = item.followup
        gap = "  "
        return Content.assemble(
            (due_text(item.due, item.tz)[:21], "$text-muted"),
            gap,
            one_line(followup_title(f)),  # whole: the list wraps it (cut, it hid the end)
            "\n",
            (" " * 23 + item.call_label(with_clinician=every_clinician), "$text-muted"),
        )

    def _current(self) -> DueItem | None:
        listing = self.query_one("#due-list", OptionList)
        if listing.highlighted is None:
            return None
        option = listing.get_option_at_index(listing.highlighted)
        return self.items.get(option.id or "")

    def _show_detail(self) -> None:
        item = self._current()
        detail = self.query_one("#due-detail", Static)
        if item is None:
            detail.update("")
            return
        f = item.followup
        source = due_source(f) or "no rule: date set by hand"
        detail.update(
            Content.assemble(
                f"Due {due_text(item.due, item.tz)} \u00b7 {source}\n",
                (CHECK_NOTICE, "$text-muted"),
            )
        )

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._show_detail()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_open_call()

    def action_done(self) -> None:
        item = self._current()
        if item is not None:
            followup_id = item.followup.id
            self._mark("Done", item, lambda store: store.mark_followup_done(followup_id))

    def action_not_needed(self) -> None:
        item = self._current()
        if item is not None:
            followup_id = item.followup.id
            self._mark(
                "Not needed", item, lambda store: store.mark_followup_not_needed(followup_id)
            )

    def _mark(self, word: str, item: DueItem, change: Job[object]) -> None:
        def done(_: object) -> None:
            self.notify(f"{word}: {followup_title(item.followup)}", timeout=3)
            self.reload()
            host(self).refresh_home()

        # The next key (x or n again) acts on the list as it is after this change.
        host(self).ask_store(change, done, kind="write")

    def action_received(self, received: bool) -> None:
        """Follow-through on a promise: the document or commitment came (received: its chase
        is done) or has not (not received: the chase stays planned), dated today here. The
        track record and the insights count from these."""
        from p2pcall.domain.reviewers import PROMISE_ACTIONS
        from p2pcall.queries import mark_followup_received

        item = self._current()
        if item is None:
            return
        if item.followup.action.value not in PROMISE_ACTIONS:
            self.notify(
                "Received / not received is for documents or commitments the reviewer promised.",
                timeout=4,
            )
            return
        followup_id = item.followup.id
        self._mark(
            "Received" if received else "Not received (noted today)",
            item,
            lambda store: mark_followup_received(store, followup_id, received),
        )

    def action_open_call(self) -> None:
        item = self._current()
        if item is not None:
            host(self).open_call(item.followup.call_id)
