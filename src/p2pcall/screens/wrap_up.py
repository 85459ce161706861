"""Wrap-up after ending a call: outcome, commitments, follow-ups with due dates, documents.

The checklist comes from ``domain.followups.suggest_followups``; every computed date names its
rule and citation and reminds the user to check the notice. Ctrl+S saves the ticked items and
finishes the call. Nothing here touches the database except through ``app.db``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Label, SelectionList, Static
from textual.widgets.selection_list import Selection

from p2pcall.domain.fields import spec_for
from p2pcall.domain.followups import (
    CHECK_NOTICE,
    PROMISED_REASON,
    DateEntryError,
    PlannedFollowUp,
    Suggestion,
    WrapUpPlan,
    due_text,
    end_of_day,
    parse_typed_date,
    suggest_followups,
)
from p2pcall.domain.text import one_line
from p2pcall.domain.timefmt import clock_time, now_utc
from p2pcall.domain.vocab import FollowUpAction, NoteKind
from p2pcall.widgets.fields import FieldEdited, FieldForm
from p2pcall.widgets.keybar import KeyBar
from p2pcall.widgets.literal import LiteralInput
from p2pcall.widgets.ticklist import TickList

if TYPE_CHECKING:
    from p2pcall.domain.models import Call, Note

# The call fields the deadlines depend on, editable from the wrap-up (key e).
DEADLINE_FIELDS = ("plan_type", "review_type", "urgency", "denial_date", "denial_received")
TITLE_WIDTH = 46


class UserDate:
    """A date the user set for one checklist line, and why."""

    def __init__(self, due: datetime, reason: str) -> None:
        self.due = due
        self.reason = reason


class WrapUpScreen(Screen[None]):
    BINDINGS = [
        Binding(
            "ctrl+s",
            "finish",
            "Save & finish",
            id="wrap-finish",
            priority=True,
            tooltip="Save the ticked follow-ups and finish the call record",
        ),
        Binding(
            "o",
            "set_date",
            "Set date",
            id="wrap-set-date",
            tooltip="Set or override the due date of the highlighted follow-up (with a reason)",
        ),
        Binding(
            "e",
            "edit_dates",
            "Plan & dates",
            id="wrap-edit-dates",
            tooltip="Edit plan type, review type, urgency and the denial dates",
        ),
        Binding(
            "l",
            "letters",
            "Letters",
            id="wrap-letters",
            tooltip="Letters: confirmation, expedited appeal, records request, complaint",
        ),
        Binding(
            "escape",
            "leave",
            "Later",
            id="wrap-leave",
            tooltip="Leave without saving follow-ups (press twice)",
        ),
    ]

    def __init__(self, call: Call, notes: list[Note]) -> None:
        super().__init__(name="wrap-up")
        self.call = call
        # A corrected commitment is listed as corrected, not twice.
        corrected = {n.corrects for n in notes if n.corrects is not None}
        self.commitments = [
            n for n in notes if n.kind is NoteKind.COMMITMENT and n.id not in corrected
        ]
        self.plan: WrapUpPlan = WrapUpPlan()
        self.user_dates: dict[str, UserDate] = {}
        self.ticked: dict[str, bool] = {}
        self._leave_armed = False
        self._saving = False

    # -- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="wrap-title", classes="section-title")
        yield Static(id="wrap-problems", classes="warning")
        with VerticalScroll(id="wrap-commitments"):
            yield Static(self._commitments_content(), id="commitment-list")
        yield Static(id="wrap-letter-hint", classes="warning")
        yield Static(
            Content("Follow-ups: Space ticks, o date, e plan & dates, l letters, Ctrl+S saves"),
            classes="hint",
        )
        yield TickList(id="checklist")
        yield Static(id="wrap-detail")
        yield KeyBar()

    def on_mount(self) -> None:
        self._recompute()
        self.query_one(SelectionList).focus()
        self._show_letter_hint()

    def _show_letter_hint(self) -> None:
        """Offer the request for records when a document asked for in G went unanswered."""
        from p2pcall.domain.vocab import DocStatus

        keys = ("doc_decision", "doc_criteria", "doc_credentials")
        open_asks = [
            k for k in keys if self.call.value(k) in (DocStatus.REFUSED, DocStatus.REQUESTED)
        ]
        hint = self.query_one("#wrap-letter-hint", Static)
        hint.update(
            Content(
                "A document asked for in G was refused or not answered: l, Request for records."
            )
            if open_asks
            else Content("")
        )
        hint.display = bool(open_asks)

    def action_letters(self) -> None:
        from p2pcall.screens.letters import LetterScreen

        self.app.flush_all()  # type: ignore[attr-defined]
        kind = "records-request" if self.query_one("#wrap-letter-hint").display else "confirmation"
        self.app.push_screen(LetterScreen(self.call.id, kind))

    def _commitments_content(self) -> Content:
        if not self.commitments:
            return Content("No commitments were marked during the call (Ctrl+T on a note).")
        parts: list[Content | str | tuple[str, str]] = [
            ("Commitments on the call (put them in the written confirmation):", "bold")
        ]
        for note in self.commitments:
            late = "LATE ENTRY " if note.late else ""
            parts += [
                "\n",
                (f"\u2022 {clock_time(note.saved_at, self.call.tz)} ", "$text-muted"),
                (late, "bold $warning"),
                one_line(note.body, 200),
            ]
        return Content.assemble(*parts)

    # -- the checklist -------------------------------------------------------------------

    def _recompute(self) -> None:
        """Suggestions from the call as it is now; ticks and user dates survive by key."""
        self.plan = suggest_followups(self.call, now=now_utc())
        for suggestion in self.plan.suggestions:
            self.ticked.setdefault(suggestion.key, suggestion.selected)
            if suggestion.promised and suggestion.key not in self.user_dates:
                self.user_dates[suggestion.key] = UserDate(suggestion.promised, PROMISED_REASON)
        self._show_header()
        checklist = self.query_one(SelectionList)
        highlighted = checklist.highlighted
        checklist.clear_options()
        checklist.add_options(
            [
                Selection(self._prompt(s), s.key, self.ticked[s.key], id=s.key)
                for s in self.plan.suggestions
            ]
        )
        if self.plan.suggestions:
            checklist.highlighted = min(highlighted or 0, len(self.plan.suggestions) - 1)
        self._show_detail()

    def _show_header(self) -> None:
        call = self.call
        outcome = call.outcome.label if call.outcome else "no outcome"
        who = " \u00b7 ".join(
            one_line(call.value(k), 20) for k in ("patient_ref", "insurer") if call.value(k)
        )
        facts = [
            spec_for(k).display(call.value(k)).split(" (")[0]
            for k in ("plan_type", "urgency")
            if call.value(k)
        ]
        self.query_one("#wrap-title", Static).update(
            Content(
                " \u00b7 ".join(
                    part for part in (f"Wrap-up call #{call.id}", who, outcome, *facts) if part
                )
            )
        )
        problems = self.query_one("#wrap-problems", Static)
        problems.update(Content("\n".join(f"\u26a0 {p}" for p in self.plan.problems)))
        problems.display = bool(self.plan.problems)

    def _due_of(self, suggestion: Suggestion) -> datetime | None:
        user = self.user_dates.get(suggestion.key)
        return user.due if user else suggestion.computed_due

    def _prompt(self, suggestion: Suggestion) -> Content:
        title = suggestion.action.label
        if suggestion.action is FollowUpAction.CHASE_DOCUMENTS:
            title = f"Chase: {suggestion.note}"
        title = one_line(title, TITLE_WIDTH).ljust(TITLE_WIDTH)
        due = self._due_of(suggestion)
        if due is None:
            when: tuple[str, str] = ("no date", "$text-muted")
        else:
            when = (due_text(due, self.call.tz)[:15], "")
        mark = "*" if suggestion.key in self.user_dates else " "
        return Content.assemble(title, " ", when, (mark, "bold $warning"))

    def _highlighted(self) -> Suggestion | None:
        index = self.query_one(SelectionList).highlighted
        if index is None or not 0 <= index < len(self.plan.suggestions):
            return None
        return self.plan.suggestions[index]

    def _show_detail(self) -> None:
        detail = self.query_one("#wrap-detail", Static)
        suggestion = self._highlighted()
        if suggestion is None:
            detail.update("")
            return
        detail.update(self._detail_content(suggestion))

    def _detail_content(self, s: Suggestion) -> Content:
        tz = self.call.tz
        lines: list[tuple[str, str]] = []
        if s.why:
            lines.append((s.why, "italic"))
        user = self.user_dates.get(s.key)
        if s.deadline is not None:
            d = s.deadline
            lines.append(
                (
                    f"Computed: {due_text(d.due, tz)} \u00b7 {d.clock_text} \u00b7 "
                    f"rule {d.rule.id}",
                    "",
                )
            )
        if user is not None:
            lines.append(
                (f"Your date: {due_text(user.due, tz)} \u2014 {one_line(user.reason, 80)}", "bold")
            )
        if s.deadline is not None:
            lines.append((s.deadline.reminder, "$text-muted"))
        else:
            if user is None:
                lines.append((s.problem or "No rule in the table dates this: o sets a date.", ""))
            lines.append((CHECK_NOTICE, "$text-muted"))
        if s.caveat:
            lines.append((s.caveat, "$warning"))
        parts: list[str | tuple[str, str]] = []
        for index, line in enumerate(lines):
            parts += (["\n"] if index else []) + [line]
        return Content.assemble(*parts)

    def on_selection_list_selection_highlighted(
        self, event: SelectionList.SelectionHighlighted[str]
    ) -> None:
        event.stop()
        self._show_detail()

    def on_selection_list_selection_toggled(
        self, event: SelectionList.SelectionToggled[str]
    ) -> None:
        event.stop()
        key = event.selection.value
        self.ticked[key] = key in event.selection_list.selected

    def _refresh_prompt(self, suggestion: Suggestion) -> None:
        checklist = self.query_one(SelectionList)
        index = self.plan.suggestions.index(suggestion)
        checklist.replace_option_prompt_at_index(index, self._prompt(suggestion))
        self._show_detail()

    # -- actions -------------------------------------------------------------------------

    def action_set_date(self) -> None:
        suggestion = self._highlighted()
        if suggestion is None:
            return

        def done(result: UserDate | str | None) -> None:
            if result == "clear":
                self.user_dates.pop(suggestion.key, None)
            elif isinstance(result, UserDate):
                self.user_dates[suggestion.key] = result
                if not self.ticked.get(suggestion.key):
                    self.ticked[suggestion.key] = True
                    self.query_one(SelectionList).select(suggestion.key)
            else:
                return
            self._refresh_prompt(suggestion)

        self.app.push_screen(DueDateScreen(suggestion, self.call.tz), done)

    def action_edit_dates(self) -> None:
        self.app.push_screen(DeadlineFieldsScreen(self.call), lambda _: self._recompute())

    def action_leave(self) -> None:
        if not self._leave_armed:
            self._leave_armed = True
            self.notify(
                "Follow-ups are not saved yet. Press Esc again to leave without them, or "
                "Ctrl+S to save.",
                severity="warning",
                timeout=6,
            )
            return
        self.app.leave_call()  # type: ignore[attr-defined]

    def planned(self) -> list[PlannedFollowUp]:
        """The ticked lines as follow-ups to store: computed and user dates side by side."""
        planned = []
        for s in self.plan.suggestions:
            if not self.ticked.get(s.key):
                continue
            user = self.user_dates.get(s.key)
            planned.append(
                PlannedFollowUp(
                    action=s.action,
                    rule_id=s.deadline.rule.id if s.deadline else None,
                    computed_due=s.computed_due,
                    due_override=user.due if user else None,
                    override_reason=user.reason if user else "",
                    note=s.note,
                )
            )
        return planned

    def action_finish(self) -> None:
        if self._saving:
            return
        self._saving = True
        self.app.finish_wrap_up(self.call.id, self.planned(), self._not_saved)  # type: ignore[attr-defined]

    def _not_saved(self, error: str) -> None:
        self._saving = False
        self.notify(f"Follow-ups not saved: {error}", severity="error", timeout=8)


class DueDateScreen(ModalScreen[UserDate | str | None]):
    """Set the due date of one follow-up; a reason is required over a computed date."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="due-date-cancel")]

    def __init__(self, suggestion: Suggestion, tz: str) -> None:
        super().__init__()
        self.suggestion = suggestion
        self.tz = tz

    def compose(self) -> ComposeResult:
        s = self.suggestion
        computed = (
            f"Computed: {due_text(s.computed_due, self.tz)} (rule {s.deadline.rule.id})."
            if s.deadline is not None and s.computed_due is not None
            else "No computed date."
        )
        empty = "back to the computed one" if s.deadline is not None else "no date"
        with Vertical(id="due-date-dialog", classes="record-dialog"):
            yield Static(Content(f"Due date: {s.action.label}"), classes="section-title")
            yield Static(
                Content(f"{computed} Empty date: {empty}. {CHECK_NOTICE}"),
                classes="points",
            )
            yield Label("Date (YYYY-MM-DD)")
            yield LiteralInput(placeholder="e.g. 2026-12-01", id="due-date", compact=True)
            yield Label("Why (e.g. the notice gives another date)")
            yield LiteralInput(id="due-reason", compact=True)
            yield Static(id="due-error", classes="warning")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#due-date", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        day = self._typed_day()
        if day is False:
            self.query_one("#due-date", Input).focus()
            return
        if event.input.id == "due-date" and day is not None:
            self.query_one("#due-error", Static).update("")
            self.query_one("#due-reason", Input).focus()
            return
        self._submit(day)

    def _typed_day(self) -> date | bool | None:
        """The typed date, None when empty, False (with the reason shown) when unusable."""
        try:
            return parse_typed_date(self.query_one("#due-date", Input).value, "Due date")
        except DateEntryError as exc:
            self.query_one("#due-error", Static).update(Content(str(exc)))
            return False

    def _submit(self, day: date | None) -> None:
        reason = self.query_one("#due-reason", Input).value.strip()
        error = self.query_one("#due-error", Static)
        if day is None:
            self.dismiss("clear")
            return
        if self.suggestion.deadline is not None and not reason:
            error.update(Content("Say why you change the computed date (it is kept beside it)."))
            self.query_one("#due-reason", Input).focus()
            return
        self.dismiss(UserDate(end_of_day(day, self.tz), reason or "date set by you"))


class DeadlineFieldsScreen(ModalScreen[None]):
    """The call fields the deadlines count from, edited after the call (saved as late edits)."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Done", id="deadline-fields-done")]

    def __init__(self, call: Call) -> None:
        super().__init__()
        self.call = call

    def compose(self) -> ComposeResult:
        with Vertical(id="deadline-fields-dialog", classes="record-dialog"):
            yield Static(Content("Plan and denial dates"), classes="section-title")
            yield Static(
                Content(
                    "Deadlines count from these. Dates as YYYY-MM-DD, from the notice. Changes "
                    "are saved as made after the call. Esc when done."
                ),
                classes="points",
            )
            yield FieldForm(
                tuple(spec_for(key) for key in DEADLINE_FIELDS),
                self.call.values,
                self.call.declined,
                id="deadline-fields",
            )
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(FieldForm).focus_first()

    def on_field_edited(self, event: FieldEdited) -> None:
        event.stop()
        self.app.edit_field(event.key, event.value, event.declined, final=event.final)  # type: ignore[attr-defined]
