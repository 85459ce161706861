"""Section B with the reviewer across calls: suggestions while the name is typed, one key to
link the call (or record a new reviewer), undo the link, and the linked one's track record.

Every lookup runs in the database thread and never blocks typing. Suggestions are asked for
one at a time: while one lookup is under way, later keys only mark the name as changed, and
a result is shown only if it is for the name as it now stands (so a burst of keys never shows
suggestions for a name the user has typed past). Linking runs in the database thread too,
queued behind what was typed before it: Alt+L pressed in a burst links the reviewer the
finished name suggests, as if the user had waited.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import events, on
from textual.binding import Binding

from p2pcall import queries
from p2pcall.domain.reviewers import FROM_FIELDS, Reviewer, ReviewerDetails, TrackRecord, name_key
from p2pcall.domain.sections import Section
from p2pcall.host import host
from p2pcall.screens.section import SectionScreen
from p2pcall.widgets.fields import FieldEdited
from p2pcall.widgets.reviewer_panel import ReviewerPanel

if TYPE_CHECKING:
    from p2pcall.session import CallSession

NAME_KEY = "reviewer_name"


class ReviewerSectionScreen(SectionScreen):
    BINDINGS = [
        Binding(
            "alt+l",
            "link_reviewer",
            "Link",
            id="reviewer-link",
            tooltip="Link this call to the reviewer shown (or record a new reviewer)",
        ),
        Binding(
            "alt+j",
            "next_suggestion",
            "Next match",
            id="reviewer-next",
            show=False,  # named under the fields while suggestions are shown
            tooltip="Next known reviewer matching the name",
        ),
        Binding(
            "alt+u",
            "unlink_reviewer",
            "Undo link",
            id="reviewer-unlink",
            show=False,  # named under the fields while a reviewer is linked
            tooltip="Undo the link of this call to a reviewer",
        ),
        Binding(
            "alt+h",
            "earlier_calls",
            "Earlier calls",
            id="reviewer-earlier",
            show=False,  # named under the fields beside the track record
            tooltip="The linked reviewer's earlier calls",
        ),
    ]

    def __init__(self, session: CallSession) -> None:
        super().__init__(session, Section.B)
        self.suggestions: list[Reviewer] = []
        self.suggested_for: str | None = None  # the name the shown suggestions are for
        self.selected = 0
        self.linked: Reviewer | None = None
        self.record: TrackRecord | None = None
        self._asking = False  # a lookup is under way
        self._link_pending = False  # a link or unlink is queued: its answer decides

    @property
    def panel(self) -> ReviewerPanel:
        return self.query_one(ReviewerPanel)

    def _call_id(self) -> int:
        return self.session.call.id

    def _value(self, key: str) -> str:
        # The editor's value, not the saved one: it is current as soon as a key reaches it.
        found = self.query(f"#f-{key}")
        if found:
            value = getattr(found.first(), "value", "")
            return value if isinstance(value, str) else ""
        return self.session.call.values.get(key, "")

    def _typed(self) -> str:
        return self._value(NAME_KEY)

    # Textual runs the Mount / FieldEdited handlers of every class in the MRO: the section
    # screen's own handlers run besides these ones (after them), without a super() call.
    @on(events.Mount)
    async def _show_reviewer_panel(self) -> None:
        # Above the notes, beside the fields: the fields keep their height and width.
        await self.query_one("#notes-pane").mount(ReviewerPanel(id="reviewer-panel"), before=0)
        call_id = self._call_id()
        self._link_pending = True
        host(self).db.read(
            lambda store: queries.linked_reviewer(store, call_id),
            self._show_link,
            self._lookup_failed,
        )

    # -- suggestions ---------------------------------------------------------------------------

    def on_field_edited(self, event: FieldEdited) -> None:
        if event.key == NAME_KEY:
            self._ask()

    def _ask(self) -> None:
        if self.linked is not None or self._link_pending:
            return
        if self._asking:
            return  # the answer comes back to _suggested, which asks again if the name moved on
        typed = self._typed()
        if self.suggested_for is not None and name_key(typed) == name_key(self.suggested_for):
            return
        if not typed.strip():
            self.suggestions, self.suggested_for, self.selected = [], typed, 0
            self.panel.clear()
            return
        self._asking = True
        host(self).db.read(
            lambda store: (typed, store.suggest_reviewers(typed)),
            self._suggested,
            self._lookup_failed,
        )

    def _suggested(self, answer: tuple[str, list[Reviewer]]) -> None:
        self._asking = False
        typed, found = answer
        if self.linked is not None or self._link_pending:
            return
        if name_key(typed) != name_key(self._typed()):
            self._ask()  # typed past it: ask for the name as it stands now
            return
        self.suggestions, self.suggested_for, self.selected = found, typed, 0
        self.panel.show_suggestions(typed, found, 0)

    def _lookup_failed(self, error: str) -> None:
        self._asking = False
        self._link_pending = False
        self.notify(f"Reviewer lookup failed: {error}", severity="error", timeout=6)

    def action_next_suggestion(self) -> None:
        if self.linked is not None or self.suggested_for is None or not self._typed().strip():
            return
        if name_key(self.suggested_for) != name_key(self._typed()):
            return  # the list shown is not for this name yet; its answer resets the choice
        self.selected = (self.selected + 1) % (len(self.suggestions) + 1)
        self.panel.show_suggestions(self.suggested_for, self.suggestions, self.selected)

    # -- linking -------------------------------------------------------------------------------

    def action_link_reviewer(self) -> None:
        if self.linked is not None:
            self.notify(
                f"Already linked to {self.linked.name}. Alt+U undoes the link first.",
                timeout=4,
            )
            return
        if self._link_pending:
            return
        typed = self._typed()
        if not typed.strip():
            self.notify("Type the reviewer's name first (Name, in this section).", timeout=4)
            return
        chosen: int | None = None
        new = False
        current = self.suggested_for is not None and name_key(self.suggested_for) == name_key(typed)
        if current:
            if self.selected < len(self.suggestions):
                chosen = self.suggestions[self.selected].id
            else:
                new = True
        details = ReviewerDetails.from_call_values({key: self._value(key) for key in FROM_FIELDS})
        self._link_pending = True
        call_id = self._call_id()
        host(self).db.submit(
            lambda store: queries.link_reviewer(store, call_id, typed, chosen, new, details),
            self._show_link,
            self._link_failed,
        )

    def _show_link(self, state: tuple[Reviewer, TrackRecord] | None) -> None:
        self._link_pending = False
        if state is None:
            self.linked = self.record = None
            self.suggested_for = None
            self._ask()
            return
        self.linked, self.record = state
        self.panel.show_linked(*state)
        self.refresh_bindings()

    def _link_failed(self, error: str) -> None:
        self._link_pending = False
        self.notify(f"Not linked: {error}", severity="error", timeout=6)

    def action_unlink_reviewer(self) -> None:
        if self.linked is None or self._link_pending:
            return
        call_id = self._call_id()
        name = self.linked.name
        self._link_pending = True

        def undone(_: Any) -> None:
            self._link_pending = False
            self.linked = self.record = None
            self.suggested_for = None
            self.panel.clear()
            self.notify(f"Link to {name} undone.", timeout=3)
            self.refresh_bindings()
            self._ask()

        host(self).db.submit(lambda store: store.unlink_call(call_id), undone, self._link_failed)

    def action_earlier_calls(self) -> None:
        if self.linked is None or self.record is None or not self.record.earlier_calls:
            self.notify("No earlier calls with a linked reviewer to show.", timeout=3)
            return
        from p2pcall.screens.earlier_calls import EarlierCallsScreen

        self.app.push_screen(EarlierCallsScreen(self.linked, self.record.earlier_call_ids))
