"""Wrap-up after ending a call: outcome, commitments, follow-ups with due dates, documents.

The checklist comes from ``domain.followups.suggest_followups``; every computed date names its
rule and citation and reminds the user to check the notice. Ctrl+S saves the ticked items and
finishes the call. Nothing here touches the database except through ``app.db``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Literal

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Label, SelectionList, Static
from textual.widgets.selection_list import Selection

from p2pcall.domain.deadlines import DeadlineInputError, UserDate, user_date_reason
from p2pcall.domain.fields import spec_for
from p2pcall.domain.followups import (
    CHECK_NOTICE,
    PROMISED_REASON,
    DateEntryError,
    PlannedFollowUp,
    Suggestion,
    WrapUpPlan,
    due_text,
    parse_typed_date,
    suggest_followups,
)
from p2pcall.domain.text import one_line
from p2pcall.domain.timefmt import clock_time, now_utc
from p2pcall.domain.vocab import FollowUpAction, NoteKind
from p2pcall.host import host
from p2pcall.widgets.fields import FieldEdited, FieldForm
from p2pcall.widgets.keybar import KeyBar
from p2pcall.widgets.literal import LiteralInput
from p2pcall.widgets.ticklist import TickList

if TYPE_CHECKING:
    from p2pcall.session import CallSession

# The call fields the deadlines depend on, editable from the wrap-up (key e).
DEADLINE_FIELDS = (
    "plan_type",
    "review_type",
    "urgency",
    "stage",
    "grandfathered",
    "part_b_drug",
    "denial_date",
    "denial_received",
    "sent_to_plan",
    "care_ends",
)
# A checklist line: box (4 cells), title, space, date (10), override mark, the legal limit
# beside it (" law Wed 19 May": 16), scrollbar.
LINE_EXTRAS = 4 + 1 + 10 + 1 + 16 + 2
MIN_TITLE_WIDTH = 20


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
            "y",
            "confirm_date",
            "Confirm date",
            id="wrap-confirm-date",
            tooltip="Take the date read from the reviewer's words for the highlighted line",
        ),
        Binding(
            "k",
            "keep_far_dates",
            "Keep dates",
            id="wrap-keep-dates",
            tooltip="Keep the dates far from the call as typed (stops the 'did you mean' check)",
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

    def __init__(self, session: CallSession) -> None:
        super().__init__(name="wrap-up")
        self.session = session
        self.call = session.call  # one Call object: field edits here go through the session
        self.notes = notes = list(session.notes)
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
            Content(
                "Earliest first. Space ticks, o sets a date, y takes a date read from words, "
                "e plan & dates, l letters, Ctrl+S saves"
            ),
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

        host(self).flush_all()
        kind = "records-request" if self.query_one("#wrap-letter-hint").display else "confirmation"
        self.app.push_screen(LetterScreen(self.call.id, kind))

    def _commitments_content(self) -> Content:
        if not self.commitments:
            return Content("No commitments were marked during the call (Alt+M on a note).")
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
        self.plan = suggest_followups(
            self.call, now=now_utc(), notes=self.notes, reviewer_window=self._reviewer_window()
        )
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

    def _reviewer_window(self) -> datetime | None:
        """The earliest dated commitment the user confirmed: it can move the clinical date."""
        dates = [
            user.due
            for key, user in self.user_dates.items()
            if key.startswith(FollowUpAction.REVIEWER_COMMITMENT.value + ":")
        ]
        return min(dates) if dates else None

    def _due_of(self, suggestion: Suggestion) -> datetime | None:
        user = self.user_dates.get(suggestion.key)
        return user.due if user else suggestion.computed_due

    def _prompt(self, suggestion: Suggestion) -> Content:
        title = self._title(suggestion)
        width = self._title_width()
        title = one_line(title, width).ljust(width)
        due = self._due_of(suggestion)
        if due is None and suggestion.proposed is not None:
            when: tuple[str, str] = ("confirm? y".ljust(10), "bold $warning")
        elif due is None:
            when = ("no date".ljust(10), "$text-muted")
        else:
            when = (due_text(due, self.call.tz)[:10], "")
        mark = "*" if suggestion.key in self.user_dates else " "
        legal = suggestion.legal_due
        beside: tuple[str, str] = ("", "")
        if legal is not None and (due is None or legal > due):
            beside = (f" law {due_text(legal, self.call.tz)[4:15]}", "$text-muted")
        return Content.assemble(title, " ", when, (mark, "bold $warning"), beside)

    def _title_width(self) -> int:
        # As wide as the screen allows (a fixed 46 cut "by 2 business days" at 80 columns);
        # a title still too long ends in … and is shown whole in the detail below.
        return max(MIN_TITLE_WIDTH, self.app.size.width - LINE_EXTRAS)

    @staticmethod
    def _title(suggestion: Suggestion) -> str:
        if suggestion.action is FollowUpAction.CHASE_DOCUMENTS:
            return f"Chase: {suggestion.note}"
        if suggestion.note:
            return f"{suggestion.action.label}: {suggestion.note}"
        return suggestion.action.label

    def on_resize(self) -> None:
        if self.is_mounted and getattr(self, "plan", None) is not None:
            for suggestion in self.plan.suggestions:
                self._refresh_prompt(suggestion)

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
        title = self._title(s)
        if len(one_line(title)) > self._title_width():
            lines.append((one_line(title), "bold"))  # cut in the list: here in full
        if s.why:
            lines.append((s.why, "italic"))
        user = self.user_dates.get(s.key)
        if s.proposed is not None:
            p = s.proposed
            lines.append(
                (
                    f"Read from {p.describe()}: {due_text(p.due, tz)}. y takes it, o sets another.",
                    "bold" if user is None else "",
                )
            )
        if s.clinical_due is not None:
            lines.append(
                (f"Clinical: {due_text(s.clinical_due, tz)} ({s.clinical_reason})", "bold")
            )
        if s.deadline is not None:
            d = s.deadline
            label = "Legal limit" if s.clinical_due is not None else "Computed"
            lines.append(
                (
                    f"{label}: {due_text(d.due, tz)} \u00b7 {d.clock_text} \u00b7 "
                    f"rule {d.rule.id} ({d.rule.citation})",
                    "",
                )
            )
            if d.rule.extension_days:
                lines.append(
                    (
                        f"The plan may extend once by {d.rule.extension_days} days "
                        f"({d.rule.extension_citation}) if it tells you in writing first.",
                        "$text-muted",
                    )
                )
        elif s.legal_text:
            lines.append((f"Legal limit: {s.legal_text}", ""))
        if user is not None:
            lines.append(
                (f"Your date: {due_text(user.due, tz)} \u2014 {one_line(user.reason, 80)}", "bold")
            )
            if s.legal_due is not None and user.due > s.legal_due:
                lines.append(("\u26a0 Your date is after the legal limit above.", "bold $warning"))
        if s.deadline is not None:
            lines.append((s.deadline.reminder, "$text-muted"))
            if s.deadline.rule.note:
                lines.append((s.deadline.rule.note, "$text-muted"))
        else:
            if user is None and s.clinical_due is None and s.proposed is None:
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

    def action_confirm_date(self) -> None:
        suggestion = self._highlighted()
        if suggestion is None or suggestion.proposed is None:
            self.notify("No date read from words on this line: o sets a date.", timeout=4)
            return
        phrase = suggestion.proposed
        self.user_dates[suggestion.key] = UserDate(
            phrase.due, f"said on the call: {one_line(phrase.text, 40)} (confirmed)"
        )
        if not self.ticked.get(suggestion.key):
            self.ticked[suggestion.key] = True
            self.query_one(SelectionList).select(suggestion.key)
        if suggestion.action is FollowUpAction.REVIEWER_COMMITMENT:
            self._recompute()  # the reviewer's window can bring the clinical dates forward
        else:
            self._refresh_prompt(suggestion)

    def action_keep_far_dates(self) -> None:
        from p2pcall.domain.followups import far_date_questions

        values = [value for value, _question in far_date_questions(self.call, now_utc())]
        if not values:
            self.notify("No date is far from the call.", timeout=3)
            return
        kept = [v for v in self.call.value("dates_confirmed").split(";") if v.strip()]
        self.session.edit_field("dates_confirmed", ";".join(kept + values), False, final=True)
        self._recompute()

    def action_edit_dates(self) -> None:
        self.app.push_screen(DeadlineFieldsScreen(self.session), lambda _: self._recompute())

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
        host(self).leave_call()

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
                    rule_id=s.rule.id if s.rule else None,
                    computed_due=s.computed_due,
                    legal_due=s.legal_due,
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
        host(self).flush_all()  # drafts too: finishing finalizes the record
        self.session.finish_wrap_up(self.planned(), host(self).leave_call, self._not_saved)

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

    def _typed_day(self) -> date | Literal[False] | None:
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
        user = UserDate.on_day(day, self.tz, reason or "date set by you")
        computed = self.suggestion.deadline
        try:
            user_date_reason(user.due, computed.due if computed else None, reason)
        except DeadlineInputError as exc:
            error.update(Content(str(exc)))
            self.query_one("#due-reason", Input).focus()
            return
        self.dismiss(user)


class DeadlineFieldsScreen(ModalScreen[None]):
    """The call fields the deadlines count from, edited after the call (saved as late edits)."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Done", id="deadline-fields-done")]

    def __init__(self, session: CallSession) -> None:
        super().__init__()
        self.session = session
        self.call = session.call

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
        self.session.edit_field(event.key, event.value, event.declined, final=event.final)
