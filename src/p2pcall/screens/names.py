"""Names of the installed call screens (kept tiny: the app imports it before the first frame)."""

INFO_SCREEN = "call-info"
SECTION_LETTERS = "ABCDEFG"


def section_screen_name(letter: str) -> str:
    return f"section-{letter}"
