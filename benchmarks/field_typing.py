"""Typing into a section field: what the readable-field work (issue 11) costs per key.

Each key typed in a field now also updates the line under the form (the field's whole value
when its box is too narrow) and the focus mark. This types --keys characters into section B's
Name field through Pilot at 80x24, one key at a time, and reports per key: the wall time from
the press until Pilot finds the app idle (it waits for screen refreshes, so it counts frames:
an extra repaint of the line shows up here as part of a frame interval), the CPU time of the
process, and the time spent in FieldForm.show_full_value itself. The same run with
show_full_value replaced by a no-op gives the cost of that line alone.

Usage: python benchmarks/field_typing.py [--keys 200] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path


async def _type(keys: int, without_full_line: bool) -> tuple[list[float], float, list[float]]:
    from p2pcall.app import P2PCallApp
    from p2pcall.screens.section import SectionScreen
    from p2pcall.widgets.fields import FieldForm

    original = FieldForm.show_full_value
    inside: list[float] = []

    def timed(self: FieldForm) -> None:
        start = time.perf_counter()
        original(self)
        inside.append((time.perf_counter() - start) * 1000)

    FieldForm.show_full_value = (  # type: ignore[method-assign]
        (lambda self: None) if without_full_line else timed
    )
    try:
        data_dir = Path(tempfile.mkdtemp()) / "data"
        app = P2PCallApp(data_dir)
        async with app.run_test(size=(80, 24)) as pilot:
            while not (app.store_ready and app.screen.query("#calls")):
                await pilot.pause(0.02)
            await pilot.press("n")
            await pilot.pause(0.3)
            await pilot.press("f2")
            while not isinstance(app.screen, SectionScreen):
                await pilot.pause(0.02)
            await pilot.press("ctrl+f")
            await pilot.pause(0.2)
            times = []
            text = ("Dr. Samantha Patel-Whitmore, MD, internal medicine " * 10)[:keys]
            cpu_start = time.process_time()
            for char in text:
                start = time.perf_counter()
                await pilot.press(char)
                times.append((time.perf_counter() - start) * 1000)
            cpu = (time.process_time() - cpu_start) * 1000 / len(text)
            await pilot.press("ctrl+q")
        return times, cpu, inside
    finally:
        FieldForm.show_full_value = original  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = {}
    for name, without in (("without it", True), ("with the full-value line", False)):
        times, cpu, inside = asyncio.run(_type(args.keys, without))
        results[name] = {
            "wall_median_ms": round(statistics.median(times), 2),
            "wall_p95_ms": round(sorted(times)[int(len(times) * 0.95) - 1], 2),
            "cpu_per_key_ms": round(cpu, 2),
            "show_full_value_median_ms": round(statistics.median(inside), 3) if inside else 0,
            "keys": len(times),
        }
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for name, f in results.items():
            print(
                f"{name:26} wall median {f['wall_median_ms']:6.2f} ms  p95 {f['wall_p95_ms']:6.2f}"
                f"  cpu/key {f['cpu_per_key_ms']:5.2f} ms"
                f"  in show_full_value {f['show_full_value_median_ms']:.3f} ms"
            )


if __name__ == "__main__":
    main()
