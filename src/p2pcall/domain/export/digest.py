"""Tamper evidence for an exported file: a SHA-256 digest of its own content, in its footer.

Text and Markdown: the last line is ``SHA-256 of everything above this line: <64 hex>`` and the
digest is over the UTF-8 bytes of every line before it, newlines included (LF only). JSON: the
top-level ``digest`` object holds the SHA-256 of the canonical serialization of the document
without its ``digest`` member (see `canonical_json`), so re-indenting the file does not break it
but changing any value does.

What a matching digest proves: the file is unchanged since it was written, or whoever changed it
also recomputed the digest (anyone can: it is not a signature). Comparing with the database
(``p2pcall verify``) or with the hash-chain head printed in the export and kept elsewhere is
what ties the file to the record.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from p2pcall.domain.export.common import (
    FOOTER_PREFIX,
    MARKDOWN_TITLE,
    TEXT_TITLE,
    ExportMeta,
)

DIGEST_KEY = "digest"
ALGORITHM = "SHA-256"
CANONICAL_FORM = (
    "JSON of the document without its 'digest' member: keys sorted, no whitespace, "
    "non-ASCII as \\uXXXX escapes, UTF-8 bytes"
)
_HEX_RE = re.compile(r"^[0-9a-f]{64}$")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_json(document: dict[str, Any]) -> bytes:
    """The bytes the JSON digest is computed over: Python's json.dumps with
    sort_keys=True, separators=(",", ":"), ensure_ascii=True; the 'digest' member left out.
    Exports hold only strings, integers, booleans, null, lists and objects (no floats)."""
    rest = {key: value for key, value in document.items() if key != DIGEST_KEY}
    return json.dumps(rest, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode(
        "ascii"
    )


def seal_text(body: str) -> str:
    """Append the digest line to a text or Markdown export (body ends with a newline)."""
    if not body.endswith("\n"):
        body += "\n"
    return f"{body}{FOOTER_PREFIX}{sha256_hex(body.encode('utf-8'))}\n"


def seal_json(document: dict[str, Any]) -> dict[str, Any]:
    """The document with its ``digest`` member (placed last when serialized)."""
    sealed = {key: value for key, value in document.items() if key != DIGEST_KEY}
    sealed[DIGEST_KEY] = {
        "algorithm": ALGORITHM,
        "canonical_form": CANONICAL_FORM,
        "value": sha256_hex(canonical_json(sealed)),
    }
    return sealed


def is_json_export(text: str) -> bool:
    return text.lstrip("\ufeff \t\r\n").startswith("{")


def check_digest(text: str) -> tuple[bool, str]:
    """Does the export's own digest match its content? (ok, one line saying why or why not)."""
    if is_json_export(text):
        return _check_json(text)
    return _check_text(text)


def _check_text(text: str) -> tuple[bool, str]:
    start = text.rfind("\n" + FOOTER_PREFIX)
    if start < 0:
        return False, "no digest line found: this is not a complete p2pcall export"
    body, footer = text[: start + 1], text[start + 1 :]
    stated, _, after = footer[len(FOOTER_PREFIX) :].partition("\n")
    stated = stated.rstrip("\r")
    if after.strip():
        return False, "there is text after the digest line"
    if not _HEX_RE.match(stated):
        return False, "the digest line is damaged (expected 64 lowercase hex digits)"
    actual = sha256_hex(body.encode("utf-8"))
    if actual == stated:
        return True, f"digest matches ({ALGORITHM} {stated})"
    if "\r\n" in body and sha256_hex(body.replace("\r\n", "\n").encode("utf-8")) == stated:
        return False, "only the line endings were changed (LF to CRLF); the words are the same"
    line = _first_line_with_trailing_space(body)
    hint = f"; line {line} ends with spaces an editor may have added or kept" if line else ""
    return False, (
        f"the content was changed after export: its {ALGORITHM} is {actual}, "
        f"the footer says {stated}{hint}"
    )


def _first_line_with_trailing_space(body: str) -> int | None:
    for number, line in enumerate(body.split("\n"), start=1):
        if line != line.rstrip(" \t"):
            return number
    return None


def _check_json(text: str) -> tuple[bool, str]:
    from p2pcall.domain.export.strict_json import JSONStructureError, loads_strict

    try:  # strict: with a key twice, which one would the digest have covered?
        document = loads_strict(text)
    except JSONStructureError as exc:
        return False, str(exc)
    if not isinstance(document, dict):
        return False, "not a p2pcall JSON export (the top level is not an object)"
    digest = document.get(DIGEST_KEY)
    if not isinstance(digest, dict) or not isinstance(digest.get("value"), str):
        return False, "no digest found: this is not a complete p2pcall JSON export"
    stated = digest["value"]
    if digest.get("algorithm") != ALGORITHM or not _HEX_RE.match(stated):
        return False, "the digest member is damaged"
    actual = sha256_hex(canonical_json(document))
    if actual == stated:
        return True, f"digest matches ({ALGORITHM} {stated})"
    return False, (
        f"the content was changed after export: its {ALGORITHM} is {actual}, "
        f"the digest member says {stated}"
    )


def read_meta(text: str) -> ExportMeta | None:
    """Format, call id, generation time and redaction of an export, to re-render it; None
    when the text does not carry them (not a p2pcall export, or its header was damaged)."""
    if is_json_export(text):
        try:
            document = json.loads(text)
            export = document["export"]
            line = (
                f"p2pcall-export: version={int(document['schema_version'])} "
                f"format={export['format']} call={int(document['call']['id'])} "
                f"generated_at={export['generated_at']} "
                f"redact={'yes' if export['redacted'] is True else 'no'}"
            )
        except (ValueError, KeyError, TypeError, RecursionError, OverflowError):  # 1e999
            return None
        return ExportMeta.from_line(line)
    # Where the layout puts it, never the first line that looks like one (a field's value
    # could): text has it on line 2, Markdown on line 3 in a code span.
    lines = text.lstrip("\ufeff").split("\n", 3)
    if len(lines) < 4:
        return None
    if lines[0].startswith(TEXT_TITLE):
        meta, fmt = ExportMeta.from_line(lines[1]), "text"
    elif lines[0].startswith(MARKDOWN_TITLE) and lines[2].rstrip("\r").startswith("`"):
        meta, fmt = ExportMeta.from_line(lines[2]), "markdown"
    else:
        return None
    return meta if meta is not None and meta.format == fmt else None
