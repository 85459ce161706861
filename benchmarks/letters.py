"""Making letters: build the document model and render text, Markdown and PDF.

For the sample call of the tests (a typical call: about ten notes, every field) and for the
same call with one note at the 100,000-character limit: each of the four kinds as text and
Markdown, and the written confirmation as PDF (median of --runs, milliseconds). The letter
screen renders text on the UI thread when a letter is picked; PDF is made in the database
thread when a file is written.

Usage: python benchmarks/letters.py [--runs 9] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "support"))

from export_sample import GENERATED_AT, sample_record
from p2pcall.domain.letters import build_letter, render_markdown, render_text
from p2pcall.letterpdf import letter_pdf

KINDS = ("confirmation", "expedited-appeal", "records-request", "complaint")
PICK_TARGET_MS = 50.0  # picking a letter on the screen should feel instant


def median_ms(action, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    typical = sample_record()
    long = sample_record()
    long.notes[0] = replace(long.notes[0], body="word " * 20_000)  # 100,000 characters
    results: dict[str, float] = {}
    for name, record in (("typical", typical), ("long_note", long)):
        for kind in KINDS:
            results[f"{name}_{kind}_text"] = median_ms(
                lambda k=kind, r=record: render_text(build_letter(k, r, GENERATED_AT)), args.runs
            )
        results[f"{name}_confirmation_markdown"] = median_ms(
            lambda r=record: render_markdown(build_letter("confirmation", r, GENERATED_AT)),
            args.runs,
        )
        results[f"{name}_confirmation_pdf"] = median_ms(
            lambda r=record: letter_pdf(
                build_letter("confirmation", r, GENERATED_AT), GENERATED_AT
            ),
            max(3, args.runs // 3),
        )
    worst_pick = max(v for k, v in results.items() if k.startswith("typical") and "_text" in k)
    if args.json:
        print(json.dumps({"ms": results, "pick_target_ms": PICK_TARGET_MS}, indent=2))
    else:
        for key, value in results.items():
            print(f"{key:40} {value:8.1f} ms")
        verdict = "within" if worst_pick <= PICK_TARGET_MS else "OVER"
        print(f"slowest typical text letter {worst_pick} ms: {verdict} {PICK_TARGET_MS} ms")
    return 0 if worst_pick <= PICK_TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
