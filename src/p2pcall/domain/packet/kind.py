"""Is this text a packet, and in which format? Told from its first line alone.

Apart from the reader (read.py) so that `p2pcall verify` of a single export can ask without
loading the packet's model, renderer and summary (issue 17: read-only commands start quickly).
"""

from __future__ import annotations

TEXT_TITLE = "P2PCALL EVIDENCE PACKET"
MARKDOWN_TITLE = "# Evidence packet"


def packet_format(text: str) -> str | None:
    """'text', 'markdown' or 'json' when `text` is a p2pcall packet, else None."""
    start = text.lstrip("\ufeff")
    if start.startswith(TEXT_TITLE + "\n"):
        return "text"
    if start.startswith(MARKDOWN_TITLE + "\n"):
        return "markdown"
    if start.lstrip(" \t\r\n").startswith("{"):
        head = start[:200]
        return "json" if '"packet_version"' in head else None
    return None
