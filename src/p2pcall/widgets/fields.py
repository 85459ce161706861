"""A compact form built from field specs; values autosave, and each commit is logged."""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.css.query import NoMatches
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static, TextArea

from p2pcall.domain.fields import FieldKind, FieldSpec
from p2pcall.domain.text import one_line
from p2pcall.widgets.literal import LiteralInput

DECLINED = "declined to give"
FOCUS_MARK = "\u25b6"  # ▶ before the label of the field with focus: a shape, not only a colour
# The focused field's whole value is shown under the form in up to this many lines.
FULL_VALUE_LINES = 4
MOVED_MESSAGE_SECONDS = 6.0  # "✓ Name kept · now in the note field", once focus left the form


class FieldEdited(Message):
    """A field changed. `final` when the user left it or picked a choice (logged)."""

    def __init__(self, key: str, value: str, declined: bool, final: bool) -> None:
        super().__init__()
        self.key = key
        self.value = value
        self.declined = declined
        self.final = final


class FieldRow(Horizontal):
    def __init__(self, spec: FieldSpec, value: str, declined: bool) -> None:
        super().__init__(classes="field-row")
        self.spec = spec
        self.value = value
        self.declined = declined

    focused = False

    def compose(self) -> ComposeResult:
        spec = self.spec
        yield Label(self._label_text(), classes="field-label")
        if spec.kind is FieldKind.CHOICE and spec.choices is not None:
            yield Select(
                [(member.label, member.value) for member in spec.choices],
                value=self.value if spec.choices.parse(self.value) else Select.NULL,
                prompt="\u2014",
                compact=True,
                id=f"f-{spec.key}",
            )
        else:
            yield LiteralInput(
                self.value,
                placeholder=spec.placeholder,
                compact=True,
                id=f"f-{spec.key}",
                select_on_focus=False,
            )

    def on_mount(self) -> None:
        self._show_declined()

    @property
    def editor(self) -> Widget:
        return self.query_one(f"#f-{self.spec.key}")

    def toggle_declined(self) -> None:
        if not self.spec.declinable:
            self.app.notify(f"{self.spec.label}: this field has no 'declined' option.")
            return
        self.declined = not self.declined
        if self.declined:
            self.value = ""
            editor = self.editor
            if isinstance(editor, Input):
                editor.value = ""
            elif isinstance(editor, Select):
                editor.clear()
        self._show_declined()
        self.post_message(FieldEdited(self.spec.key, self.value, self.declined, final=True))

    def _show_declined(self) -> None:
        self.set_class(self.declined, "-declined")
        editor = self.editor
        if isinstance(editor, Input):
            editor.placeholder = (
                f"\u2014 {DECLINED} \u2014" if self.declined else self.spec.placeholder
            )
        self.query_one(".field-label", Label).update(self._label_text())

    def _label_text(self) -> str:
        mark = FOCUS_MARK if self.focused else " "
        return mark + self.spec.label + (" \u2717" if self.declined else "")

    def show_focus(self, focused: bool) -> None:
        if focused != self.focused:
            self.focused = focused
            for label in self.query(".field-label").results(Label):  # none once unmounting
                label.update(self._label_text())

    def shown_value(self) -> str:
        """The value as the user reads it: a choice's label, control characters visible."""
        editor = self.editor
        if isinstance(editor, Select):
            if self.spec.choices is None or not self.value:
                return ""
            member = self.spec.choices.parse(self.value)
            return member.label if member else self.value
        return one_line(self.value)

    def value_is_cut(self) -> bool:
        """True when the editor is too narrow to show the whole value."""
        room = self.editor.scrollable_content_region.width
        if isinstance(self.editor, Select):
            room -= 2  # the ▼ arrow
        return room > 0 and cell_len(self.shown_value()) + 1 > room

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if event.value == self.value:
            return
        self.value = event.value
        if self.declined and event.value:
            self.declined = False
            self._show_declined()
        self.post_message(FieldEdited(self.spec.key, self.value, self.declined, final=False))

    def on_input_blurred(self, event: Input.Blurred) -> None:
        event.stop()
        self.post_message(FieldEdited(self.spec.key, self.value, self.declined, final=True))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        # Enter keeps the value and moves on, and says so under the form: a silent move had
        # a user type "female" into the next field (Diagnosis) believing it went elsewhere.
        event.stop()
        self.post_message(FieldEdited(self.spec.key, self.value, self.declined, final=True))
        landed = self.screen.focus_next()
        for form in self.ancestors:
            if isinstance(form, FieldForm):
                form.moved_by_enter(self, landed)
                break

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        value = "" if event.value is Select.NULL else str(event.value)
        if value == self.value:
            return
        self.value = value
        if value and self.declined:
            self.declined = False
            self._show_declined()
        self.post_message(FieldEdited(self.spec.key, self.value, self.declined, final=True))


class FieldForm(VerticalScroll):
    def __init__(
        self, specs: tuple[FieldSpec, ...], values: dict[str, str], declined: set[str], **kw: Any
    ) -> None:
        super().__init__(**kw)
        self.specs = specs
        self.values = values
        self.declined = declined

    def compose(self) -> ComposeResult:
        for spec in self.specs:
            yield FieldRow(spec, self.values.get(spec.key, ""), spec.key in self.declined)
        # Docked at the bottom (it does not scroll): the focused field's whole value when
        # the editor is too narrow for it, and where Enter moved the cursor.
        yield Static(classes="field-full")

    _moved: tuple[str, FieldRow | None] | None = None
    _full_text = ""  # what the line under the form shows now
    _full_height = 0

    def moved_by_enter(self, left: FieldRow, landed: Widget | None) -> None:
        row = self._row_of(landed)
        if row is not None:
            where = row.spec.label
        elif isinstance(landed, TextArea):
            where = "the note field"
        else:
            where = "the next box"
        self._moved = (f"\u2713 {left.spec.label} kept \u00b7 now in {where}", row)
        if row is None:
            self.set_timer(MOVED_MESSAGE_SECONDS, self._forget_move)
        self.show_full_value()

    def _forget_move(self) -> None:
        if self._moved is not None and self._moved[1] is None:
            self._moved = None
            self.show_full_value()

    def _row_of(self, widget: Widget | None) -> FieldRow | None:
        for row in self.query(FieldRow):
            if widget is not None and widget in row.walk_children():
                return row
        return None

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        focused = self._row_of(event.widget)
        if self._moved is not None and self._moved[1] is not focused:
            self._moved = None
        for row in self.query(FieldRow):
            row.show_focus(row is focused)
        self.show_full_value()

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        # Focus may have left the form: checked once the new focus is known.
        self.call_after_refresh(self._after_blur)

    def _after_blur(self) -> None:
        if not self.is_attached:
            return  # the screen was closed meanwhile (the call ended)
        focused = self.row_with_focus()
        if focused is None and self._moved is not None and self._moved[1] is not None:
            self._moved = None  # Enter's message was about a field the user has now left
        for row in self.query(FieldRow):
            row.show_focus(row is focused)
        self.show_full_value()

    def on_field_edited(self, event: FieldEdited) -> None:
        # Not stopped: the screen saves it. Typing updates the whole value shown below.
        self.show_full_value()

    def on_resize(self, event: events.Resize) -> None:
        self._full_text = "\0"  # same text, new width: its height may differ
        self.call_after_refresh(self.show_full_value)

    def show_full_value(self) -> None:
        """Under the form: where Enter moved to, and the focused field's value in full."""
        if not self.is_mounted or not self.is_attached:
            return
        full = next(iter(self.query(".field-full").results(Static)), None)
        if full is None:
            return  # the form is being removed with its screen (the call ended)
        try:
            lines = self._full_value_lines()
        except NoMatches:
            return  # a row being removed with its screen
        # Runs on every key typed in a field: repaint only what changed, and lay the screen
        # out again only when the line's height does (a layout per key cost ~30 ms).
        text = "\n".join(lines)
        if text == self._full_text:
            return
        content = Content(text)
        width = full.scrollable_content_region.width or self.scrollable_content_region.width
        height = len(content.wrap(max(1, width))) if text else 0
        relayout = height != self._full_height or full.display != bool(lines)
        self._full_text, self._full_height = text, height
        full.update(content, layout=relayout)
        full.display = bool(lines)

    def _full_value_lines(self) -> list[str]:
        row = self.row_with_focus()
        lines: list[str] = []
        if self._moved is not None:
            lines.append(self._moved[0])
        if row is not None and (row.value_is_cut() or (self._moved and row.value)):
            value = row.shown_value()
            room = max(10, self.scrollable_content_region.width) * FULL_VALUE_LINES
            room -= len(row.spec.label) + 2
            if len(value) > room:
                value = value[: room - 1] + "\u2026"
            lines.append(f"{row.spec.label}: {value}")
        return lines

    def focus_first(self) -> None:
        rows = self.query(FieldRow)
        if rows:
            rows.first().editor.focus()

    def row_with_focus(self) -> FieldRow | None:
        focused = self.screen.focused
        for row in self.query(FieldRow):
            if focused is not None and focused in row.walk_children():
                return row
        return None
