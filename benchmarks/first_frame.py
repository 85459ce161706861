"""Time to first frame: p2pcall against a minimal Textual app, each in a fresh process.

Every sample launches a new interpreter (as a user launching the app would), builds the
app, runs it headless at 80x24 and quits right after the first frame: the app's on_mount
schedules call_after_refresh(...), which records the time and exits (p2pcall quits the way
Ctrl+Q does, so its database thread is told to stop). The minimal app is an App with one
Static and a Footer. Samples alternate: minimal, p2pcall, minimal, p2pcall, ...

Timestamps (all time.perf_counter; on Linux that is CLOCK_MONOTONIC, shared by every
process, so the child's stamps can be subtracted from the parent's):
  spawn         parent, just before subprocess.run: includes interpreter start-up
  script top    child, first line of this file, before any other import
  first paint   child, the first compositor update of the app's screen (App._display)
  first frame   child, the call_after_refresh callback: the screen has painted and is idle
  parent wall   parent, around subprocess.run: start, first frame, quit, interpreter exit

--diagnose adds a third app, p2pcall with DatabaseThread.start replaced by a no-op (in the
child only), to show what starting the database thread in on_mount costs the first frame.

Usage: python benchmarks/first_frame.py [--runs N] [--json] [--diagnose]
"""

import time

_T_TOP = time.perf_counter()  # first thing in the child: before any other import

import os  # noqa: E402
import sys  # noqa: E402

HEAVY_MODULES = ("sqlalchemy", "sqlmodel", "pendulum", "platformdirs")
MUST_BE_ABSENT = ("sqlalchemy", "sqlmodel", "pendulum")
TARGET_RATIO = 1.15
KINDS = ("minimal", "p2pcall")
DIAGNOSTIC_KIND = "p2pcall-nodb"  # --diagnose: p2pcall whose database thread never starts
TARGET_SCREEN = {"minimal": "Screen", "p2pcall": "HomeScreen", DIAGNOSTIC_KIND: "HomeScreen"}


# -- child: one launch --------------------------------------------------------------------


def _module_state(name: str) -> str:
    module = sys.modules.get(name)
    if module is None:
        return "absent"
    spec = getattr(module, "__spec__", None)
    if spec is not None and getattr(spec, "_initializing", False):
        return "importing"  # another thread is part-way through importing it
    return "imported"


def _child(kind: str, data_dir: str, out_path: str) -> None:
    import json
    from pathlib import Path

    result: dict[str, object] = {"kind": kind, "t_top": _T_TOP, "paints": 0}
    target = TARGET_SCREEN[kind]

    def paint_hook(screen: object, renderable: object) -> None:
        # App._display is private: used only to time the first paint and count paints.
        if renderable is not None and type(screen).__name__ == target and "t_frame" not in result:
            result.setdefault("t_paint", time.perf_counter())
            result["paints"] += 1  # type: ignore[operator]

    def at_first_frame(app: object) -> None:
        result["t_frame"] = time.perf_counter()
        result["screen"] = type(app.screen).__name__  # type: ignore[attr-defined]
        result["modules"] = {name: _module_state(name) for name in HEAVY_MODULES}

    if kind == "minimal":
        from textual.app import App, ComposeResult
        from textual.widgets import Footer, Static

        class Bench(App[None]):
            def compose(self) -> ComposeResult:
                yield Static("Hello from a minimal Textual app.")
                yield Footer()

            def on_mount(self) -> None:
                self.call_after_refresh(self._first_frame)

            def _first_frame(self) -> None:
                at_first_frame(self)
                self.exit()

            def _display(self, screen, renderable):  # type: ignore[no-untyped-def]
                paint_hook(screen, renderable)
                return super()._display(screen, renderable)

        result["t_imported"] = time.perf_counter()
        app = Bench()
    else:
        import p2pcall.app
        from p2pcall.app import P2PCallApp

        if kind == DIAGNOSTIC_KIND:
            from p2pcall.worker import DatabaseThread

            DatabaseThread.start = lambda self: None  # type: ignore[method-assign]

        class Bench(P2PCallApp):  # type: ignore[no-redef]
            # CSS_PATH is resolved against the defining class's module: keep the app's own.
            CSS_PATH = str(Path(p2pcall.app.__file__).parent / P2PCallApp.CSS_PATH)

            # Textual runs every class's on_mount along the MRO: P2PCallApp.on_mount still
            # starts the database thread.
            def on_mount(self) -> None:
                self.call_after_refresh(self._first_frame)

            async def _first_frame(self) -> None:
                at_first_frame(self)
                await self.action_quit()  # what Ctrl+Q does: stop the DB thread, exit

            def _display(self, screen, renderable):  # type: ignore[no-untyped-def]
                paint_hook(screen, renderable)
                return super()._display(screen, renderable)

        result["t_imported"] = time.perf_counter()
        app = Bench(Path(data_dir) / "data")

    app.run(headless=True, size=(80, 24))
    result["t_end"] = time.perf_counter()
    if "t_frame" not in result or app.return_code:
        sys.exit(f"{kind}: the app ended without reaching its first frame")
    result["clock"] = time.get_clock_info("perf_counter").implementation
    Path(out_path).write_text(json.dumps(result))


# -- parent: sampling and report ----------------------------------------------------------


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "min": min(values),
        "median": _percentile(values, 0.5),
        "p90": _percentile(values, 0.9),
    }


def _one_sample(kind: str) -> dict[str, object]:
    import json
    import shutil
    import subprocess
    import tempfile

    tmp = tempfile.mkdtemp(prefix="p2pcall-ff-")
    try:
        out = os.path.join(tmp, "result.json")
        env = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL")}
        cmd = [sys.executable, os.path.abspath(__file__), "--child", kind, tmp, out]
        t_spawn = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        t_done = time.perf_counter()
        if proc.returncode != 0 or not os.path.exists(out):
            raise RuntimeError(
                f"{kind} child failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
            )
        with open(out) as fh:
            child = json.load(fh)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    # Child stamps only compare with the parent's when both use the same system-wide clock.
    shared = child["clock"] == time.get_clock_info("perf_counter").implementation
    shared = shared and "MONOTONIC" in child["clock"]

    def ms(later: float | None, earlier: float | None) -> float | None:
        return None if later is None or earlier is None else (later - earlier) * 1000

    spawn = t_spawn if shared else None
    return {
        "kind": kind,
        "spawn_to_frame_ms": ms(child["t_frame"], spawn),
        "spawn_to_paint_ms": ms(child.get("t_paint"), spawn),
        "script_to_frame_ms": ms(child["t_frame"], child["t_top"]),
        "interpreter_start_ms": ms(child["t_top"], spawn),
        "imports_ms": ms(child["t_imported"], child["t_top"]),
        "frame_to_exit_ms": ms(child["t_end"], child["t_frame"]),
        "process_exit_ms": ms(t_done, child["t_end"] if shared else None),
        "wall_ms": (t_done - t_spawn) * 1000,
        "paints_before_frame": child["paints"],
        "screen": child["screen"],
        "modules": child["modules"],
    }


METRICS = {
    "spawn_to_frame_ms": "spawn -> first frame",
    "spawn_to_paint_ms": "spawn -> first paint",
    "script_to_frame_ms": "script top -> first frame",
    "interpreter_start_ms": "  interpreter start-up",
    "imports_ms": "  app imports",
    "frame_to_exit_ms": "first frame -> run() returns",
    "process_exit_ms": "run() returns -> process gone",
    "wall_ms": "parent wall (start..exit)",
}
RATIO_METRICS = ("spawn_to_frame_ms", "spawn_to_paint_ms", "script_to_frame_ms", "wall_ms")


def _report(
    samples: list[dict[str, object]], runs: int, kinds: tuple[str, ...]
) -> dict[str, object]:
    by_kind = {k: [s for s in samples if s["kind"] == k] for k in kinds}
    summary: dict[str, dict[str, dict[str, float]]] = {}
    for kind, rows in by_kind.items():
        summary[kind] = {
            metric: _summary([r[metric] for r in rows])  # type: ignore[misc]
            for metric in METRICS
            if all(r[metric] is not None for r in rows)
        }
    primary = "spawn_to_frame_ms" if "spawn_to_frame_ms" in summary["minimal"] else "wall_ms"
    ratios = {
        kind: {
            metric: summary[kind][metric]["median"] / summary["minimal"][metric]["median"]
            for metric in RATIO_METRICS
            if metric in summary["minimal"] and metric in summary[kind]
        }
        for kind in kinds[1:]
    }
    heavy: dict[str, dict[str, int]] = {name: {} for name in HEAVY_MODULES}
    for row in by_kind["p2pcall"]:
        for name, state in row["modules"].items():  # type: ignore[attr-defined]
            heavy[name][state] = heavy[name].get(state, 0) + 1
    return {
        "runs_per_app": runs,
        "kinds": kinds,
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "primary_metric": primary,
        "summary": summary,
        "ratio_of_medians": ratios,
        "target_ratio": TARGET_RATIO,
        "pass": ratios["p2pcall"][primary] <= TARGET_RATIO,
        "p2pcall_modules_at_first_frame": heavy,
        "heavy_modules_ok": all(
            heavy[name].get("absent", 0) == len(by_kind["p2pcall"]) for name in MUST_BE_ABSENT
        ),
        "samples_without_paint": sum(1 for s in samples if s["spawn_to_paint_ms"] is None),
        "samples": samples,
    }


def _print_human(rep: dict[str, object]) -> None:
    summary: dict[str, dict[str, dict[str, float]]] = rep["summary"]  # type: ignore[assignment]
    print(
        f"Time to first frame, headless 80x24, {rep['runs_per_app']} alternating fresh "
        f"processes per app (Python {rep['python']}, {rep['cpus']} CPUs)\n"
    )
    print(f"{'(ms)':<33}{'min':>8}{'median':>8}{'p90':>8}")
    for metric, label in METRICS.items():
        for kind in rep["kinds"]:  # type: ignore[attr-defined]
            stats = summary[kind].get(metric)
            if stats is not None:
                name = label if kind == "minimal" else ""
                short = {"minimal": "min", "p2pcall": "p2p", DIAGNOSTIC_KIND: "nodb"}[kind]
                print(
                    f"{name:<29}{short:>4}"
                    f"{stats['min']:8.1f}{stats['median']:8.1f}{stats['p90']:8.1f}"
                )
    print()
    ratios: dict[str, dict[str, float]] = rep["ratio_of_medians"]  # type: ignore[assignment]
    for kind, by_metric in ratios.items():
        for metric, ratio in by_metric.items():
            label = f"{kind} / minimal, median {METRICS[metric].strip()}"
            print(f"{label:62} {ratio:5.2f}x")
    primary = str(rep["primary_metric"])
    print(
        f"target: {METRICS[primary].strip()} <= {rep['target_ratio']:.2f}x minimal  ->  "
        f"{'PASS' if rep['pass'] else 'FAIL'}"
    )
    print("\nModules in sys.modules at p2pcall's first frame (samples):")
    heavy: dict[str, dict[str, int]] = rep["p2pcall_modules_at_first_frame"]  # type: ignore[assignment]
    for name in HEAVY_MODULES:
        states = ", ".join(f"{state} {count}" for state, count in sorted(heavy[name].items()))
        rule = "must be absent" if name in MUST_BE_ABSENT else "informational"
        print(f"  {name:13} {states:30} ({rule})")
    print(f"heavy-module check  ->  {'PASS' if rep['heavy_modules_ok'] else 'FAIL'}")
    if rep["samples_without_paint"]:
        print(f"WARNING: no paint of the app's screen seen in {rep['samples_without_paint']} runs")


def main(argv: list[str] | None = None) -> int:
    import argparse
    import json

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="samples per app (default 15)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--diagnose",
        action="store_true",
        help="also run p2pcall with its database thread disabled (cost of the thread)",
    )
    args = parser.parse_args(argv)
    runs = max(1, args.runs)
    kinds = (*KINDS, DIAGNOSTIC_KIND) if args.diagnose else KINDS

    for kind in kinds:  # warm-up, discarded: byte-code caches and the OS page cache
        _one_sample(kind)
    samples = []
    total = runs * len(kinds)
    for i in range(total):
        samples.append(_one_sample(kinds[i % len(kinds)]))
        if not args.json and sys.stderr.isatty():
            print(f"\rsample {i + 1}/{total}", end="", file=sys.stderr, flush=True)
    if not args.json and sys.stderr.isatty():
        print("\r" + " " * 20 + "\r", end="", file=sys.stderr, flush=True)
    rep = _report(samples, runs, kinds)
    if args.json:
        print(json.dumps(rep, indent=2))
    else:
        _print_human(rep)
    return 0 if rep["pass"] and rep["heavy_modules_ok"] else 1


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        _child(*sys.argv[2:])
    else:
        sys.exit(main())
