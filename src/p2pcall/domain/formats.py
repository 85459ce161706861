"""The file formats a record is exported in and a letter is written in: named once here.

Kept apart from the renderers so the command line can offer them without loading them.
"""

from __future__ import annotations

EXPORT_FORMATS = ("text", "markdown", "json")
LETTER_FORMATS = ("text", "markdown", "pdf")
