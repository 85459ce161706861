"""A compact form built from field specs; values autosave, and each commit is logged."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label, Select

from p2pcall.domain.fields import FieldKind, FieldSpec
from p2pcall.widgets.literal import LiteralInput

DECLINED = "declined to give"


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

    def compose(self) -> ComposeResult:
        spec = self.spec
        yield Label(spec.label, classes="field-label")
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
        self.query_one(".field-label", Label).update(
            self.spec.label + (" \u2717" if self.declined else "")
        )

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
        event.stop()
        self.post_message(FieldEdited(self.spec.key, self.value, self.declined, final=True))
        self.screen.focus_next()

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
        self, specs: tuple[FieldSpec, ...], values: dict[str, str], declined: set[str], **kw: object
    ) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.specs = specs
        self.values = values
        self.declined = declined

    def compose(self) -> ComposeResult:
        for spec in self.specs:
            yield FieldRow(spec, self.values.get(spec.key, ""), spec.key in self.declined)

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
