"""The signature block and practice details every letter uses, and their TOML form.

Set once (settings screen or the config file); every field is optional and a letter leaves
a blank for what is not set. Parsing and writing are pure: `p2pcall.config` reads and writes
the file.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

# (attribute, label shown in settings, what a blank in a letter asks for)
PRACTICE_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("name", "Your name", "your name"),
    ("credentials", "Credentials", "your credentials, e.g. MD, board certification"),
    ("specialty", "Specialty", "your specialty"),
    ("npi", "NPI", "your NPI"),
    ("practice", "Practice", "practice name"),
    ("address", "Address", "practice address"),
    ("phone", "Phone", "direct telephone"),
    ("fax", "Fax", "fax number"),
)
MAX_LENGTH = 300
SECTION = "signature"


@dataclass(frozen=True)
class Practice:
    name: str = ""
    credentials: str = ""
    specialty: str = ""
    npi: str = ""
    practice: str = ""
    address: str = ""  # may hold several lines
    phone: str = ""
    fax: str = ""

    def get(self, key: str) -> str:
        return str(getattr(self, key))

    @property
    def empty(self) -> bool:
        return not any(self.get(f.name).strip() for f in fields(self))


class PracticeError(ValueError):
    """The settings cannot be read or saved; the message says why in one line."""


def practice_from_toml(data: dict[str, Any]) -> Practice:
    """The [signature] table of the config; unknown keys are ignored, wrong types refused."""
    table = data.get(SECTION, {})
    if not isinstance(table, dict):
        raise PracticeError(f"[{SECTION}] in the settings file is not a table.")
    values: dict[str, str] = {}
    for key, label, _ in PRACTICE_FIELDS:
        value = table.get(key, "")
        if not isinstance(value, str):
            raise PracticeError(f"{label} in the settings file is not text.")
        if len(value) > MAX_LENGTH:
            raise PracticeError(f"{label} in the settings file is longer than {MAX_LENGTH}.")
        values[key] = value.replace("\r\n", "\n").strip()
    return Practice(**values)


def _toml_string(value: str) -> str:
    """A TOML basic string: every character that needs it escaped, controls as \\uXXXX."""
    out = ['"']
    for char in value:
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def practice_to_toml(practice: Practice) -> str:
    lines = [
        "# p2pcall settings: the signature block and practice details used by every letter.",
        "# Any value may be left empty; letters then leave a blank to fill in.",
        "",
        f"[{SECTION}]",
    ]
    lines += [f"{key} = {_toml_string(practice.get(key))}" for key, _, _ in PRACTICE_FIELDS]
    return "\n".join(lines) + "\n"
