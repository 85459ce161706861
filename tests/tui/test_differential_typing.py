"""Typed slowly or in one burst, the same keys give the same records and the same screen.

Hand-written scripts visit every screen; Hypothesis writes more over the app's keys and a
small alphabet. See tests/support/typing_harness.py for how each run is made and compared. A
failure prints the script (and Hypothesis its seed and the shrunk script) to replay it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pyte
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pty_terminal import Terminal, child_env, p2pcall_argv
from typing_harness import (
    Script,
    differences,
    dump_records,
    exported_files,
    mask_clock,
    parse_keys,
    run_pilot,
)

# Seconds each (real processes, terminals, kill -9): left out by `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

# Text is typed as it stands; <name> is one key (Textual's key names).
SCRIPTS = [
    # -- home, call info, sections --------------------------------------------------------
    Script.of(
        "call-info fields then notes",
        "home",
        "nQA-1<tab>Acme<tab><tab>NY<shift+tab><backspace><f1>first note<enter>second"
        "<ctrl+t><enter><f2>draft b",
    ),
    Script.of(
        # Down in a field scrolls its form; in a burst the focus moves on before the scroll
        # lands unless the key's effect includes it (found by the generated scripts).
        "a form scrolled by Down, then Shift+Tab",
        "home",
        "n<tab>aaaa-ab<down><shift+tab>1<shift+tab>b",
    ),
    Script.of(
        "editing keys in a note and a field",
        "home",
        "nabcd<left><left>X<home>Y<end>Z<ctrl+w><f1>fent<backspace>a abcd<left><left>X"
        "<ctrl+left>W<delete><end><backspace><enter>next",
    ),
    Script.of(
        "sections, kinds and multi-line",
        "home",
        "n<f1>a1<ctrl+n>b1<ctrl+b> more<enter><f3><ctrl+l>line1<enter>line2<ctrl+s>"
        "<ctrl+t><ctrl+t>cm<enter><f7>g<f8><ctrl+f>P-7<ctrl+r><tab><f4>",
    ),
    Script.of(
        "correction dialog",
        "home",
        "n<f1>Patient is 34<enter>Second<enter><ctrl+e><ctrl+e><backspace><backspace>43"
        "<enter>after<ctrl+e><escape>x",
    ),
    Script.of(
        "end call, then wrap-up",
        "home",
        "nPT-9<f2>said no<enter>unsent<ctrl+g><down><down><enter><down><space><ctrl+s>",
    ),
    Script.of(
        "wrap-up dates: plan fields and a due date set by hand",
        "home",
        "n<f2>said no<enter><ctrl+g><enter>e<down><tab>2026-11-02<escape><down>o2030-01-15"
        "<enter>reviewer promised<enter><space><down><space><ctrl+s>",
    ),
    Script.of(
        "end call dialog left, typing goes on",
        "home",
        "n<f2>abc<ctrl+g><up><escape>def<enter><ctrl+g><escape><escape><f5>e",
    ),
    Script.of(
        "wrap-up left for later",
        "home",
        "n<f1>n1<enter><ctrl+g><enter><escape><escape>r<f1>back",
    ),
    Script.of(  # found by Hypothesis: the form glided to its end, so a burst caught it midway
        "a key that scrolls the form",
        "home",
        "na<shift+tab>a<enter>a<end>",
    ),
    Script.of(
        "quit right after typing",
        "home",
        "n<f1>quick text then quit immediately<ctrl+q>lost",
    ),
    # -- records: history, search, filters, detail, export, due, addendum, resume -------------
    Script.of(
        "history search erased and retyped",
        "records",
        "/fentanyl" + "<backspace>" * 8 + "evicore<enter><enter><escape><escape><escape>",
    ),
    Script.of(  # found by Hypothesis: the screen was read before the search had run
        "history search, then keys that change nothing",
        "records",
        "/a<delete><delete>",
    ),
    Script.of(
        "history filters",
        "records",
        "h<ctrl+f>Cig<tab><tab>2000-01-01<tab>bad<backspace><backspace><backspace><ctrl+r>"
        "<escape><down><enter>",
    ),
    Script.of(
        "detail and export dialog",
        "records",
        "h<down><down><enter>e<down><down><up><ctrl+r><tab>x<backspace><escape>e<ctrl+s>"
        "<escape>l<ctrl+s><escape><escape><escape>",
    ),
    Script.of(
        "addendum to a finalized call",
        "records",
        "<down><down><enter>Fax sent<enter>This reason is forty-five characters long ok."
        "<enter>more<enter><escape><f2>x<enter>why<enter><ctrl+g>",
    ),
    Script.of(
        "due list",
        "records",
        "d<down>x<down>n<enter><escape><escape>",
    ),
    Script.of(
        "resume the unfinished call",
        "records",
        "r more<f1>A again<enter><ctrl+g><down><enter><escape>",
    ),
    Script.of(
        "command palette",
        "records",
        "<ctrl+p>due<enter><escape><ctrl+p>histo<backspace><down><up><enter><escape>",
    ),
]


async def check(script: Script, root: Path) -> None:
    home = root / "home"
    slow = await run_pilot(script, root / "slow", "slow", home)
    slow_files = exported_files(home)
    shutil.rmtree(home)
    burst = await run_pilot(script, root / "burst", "burst", home)
    diff = differences(slow, burst)
    if slow_files != exported_files(home):
        diff += f"\nexported files: {slow_files} vs {exported_files(home)}"
    log = os.environ.get("P2PCALL_TYPING_LOG")  # one line per script compared, for the figures
    if log:
        with open(log, "a") as out:
            out.write(f"{script.name}\t{len(script.keys)}\t{'differ' if diff else 'same'}\n")
    assert not diff, f"typed key by key and in one burst differ for {script}:\n{diff}"


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
async def test_slow_and_burst_give_the_same_result(script: Script, tmp_path: Path) -> None:
    await check(script, tmp_path)


# -- generated scripts ---------------------------------------------------------------------------

APP_KEYS = [
    "n", "p", "r", "h", "d", "i", "t", "u", "slash", "e", "l", "x", "o", "y", "k",
    "f1", "f2", "f3", "f8", "f9", "alt+q", "alt+m", "alt+n", "alt+l", "alt+j", "alt+u", "alt+h",
    "ctrl+n", "ctrl+b", "ctrl+f", "ctrl+r", "ctrl+t", "ctrl+l",
    "ctrl+s", "ctrl+e", "ctrl+g", "ctrl+p", "ctrl+q",
]  # fmt: skip
EDIT_KEYS = ["backspace", "delete", "left", "right", "home", "end", "ctrl+w", "ctrl+left"]
MOVES = ["tab", "shift+tab", "enter", "escape", "up", "down", "space"]
ALPHABET = ["a", "b", "Z", "1", "-"]

KEYS = st.lists(
    st.one_of(
        st.sampled_from(ALPHABET),
        st.sampled_from(EDIT_KEYS),
        st.sampled_from(MOVES),
        st.sampled_from(APP_KEYS),
    ),
    min_size=4,
    max_size=40,
)
# Each example runs the app twice; the CI budget is a few minutes for this file.
EXAMPLES = int(os.environ.get("P2PCALL_TYPING_EXAMPLES", "12"))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(setup=st.sampled_from(["home", "records"]), keys=KEYS)
async def test_generated_scripts_slow_and_burst_agree(setup: str, keys: list[str]) -> None:
    script = Script("generated", setup, ("n", *keys) if setup == "home" else tuple(keys))
    with tempfile.TemporaryDirectory(prefix="p2pcall-typing-") as root:
        await check(script, Path(root))


# -- once per run, through a real pseudo-terminal ------------------------------------------------

PTY_BYTES = {
    "enter": b"\r",
    "tab": b"\t",
    "backspace": b"\x7f",
    "left": b"\x1b[D",
    "right": b"\x1b[C",
    "home": b"\x1b[H",
    "end": b"\x1b[F",
    "f1": b"\x1bOP",
    "f2": b"\x1bOQ",
    "f3": b"\x1bOR",
    "f8": b"\x1b[19~",
}
QUIET_SECONDS = 0.3  # no output for this long: the app has drawn everything the keys caused


def pty_bytes(name: str) -> bytes:
    if name.startswith("ctrl+") and len(name) == 6:
        return bytes([ord(name[-1]) - 96])
    return PTY_BYTES.get(name, name.encode())


def quiet(term: Terminal, timeout: float = 20.0) -> None:
    """Wait until the app has stopped drawing (a condition on its output, with a bound)."""
    deadline = time.monotonic() + timeout
    size, since = term.mark(), time.monotonic()
    while time.monotonic() - since < QUIET_SECONDS:
        if time.monotonic() > deadline:
            raise AssertionError("the app never stopped drawing")
        time.sleep(0.02)
        if term.mark() != size:
            size, since = term.mark(), time.monotonic()


def pty_screen(term: Terminal) -> str:
    screen = pyte.Screen(80, 24)
    pyte.ByteStream(screen).feed(bytes(term.output))
    return mask_clock("\n".join(line.rstrip() for line in screen.display))


def type_into(term: Terminal, keys: tuple[str, ...], burst: bool) -> None:
    """Key by key (waiting for the app to draw after each), or all in one write."""
    for chunk in [keys] if burst else [(key,) for key in keys]:
        term.write(b"".join(pty_bytes(key) for key in chunk))
        quiet(term)


def pty_run(
    data_dir: Path, keys: tuple[str, ...], last: tuple[str, ...], expected: str | None = None
) -> tuple[str, dict]:
    """Type `keys`, read the screen, type `last` (which quits): the screen and the records.

    Without `expected`, key by key; with it (the key-by-key run's screen), in one burst,
    then waiting (with a bound) for the screen to settle on it: a burst can pause drawing
    for longer than a quiet spell while the call loads and its screens are first imported.
    """
    burst = expected is not None
    term = Terminal(p2pcall_argv(data_dir), child_env())
    try:
        term.wait_for("No calls yet")
        quiet(term)
        type_into(term, keys, burst)
        deadline = time.monotonic() + 20
        while burst and pty_screen(term) != expected and time.monotonic() < deadline:
            time.sleep(0.05)
        screen = pty_screen(term)
        type_into(term, last, burst)
        assert term.wait() == 0
        return screen, dump_records(data_dir)
    finally:
        term.close()


def test_through_a_real_terminal_slow_and_burst_agree(tmp_path: Path) -> None:
    keys = parse_keys(
        "nQA-1<tab>Acme<f1>fent<backspace>a abcd<left><left>X<enter><f2>said no<f8><ctrl+f>"
        "<tab><end> Heal"
    )
    last = parse_keys("th<f2> then quit<ctrl+q>")  # Ctrl+Q in the same write: nothing lost
    slow = pty_run(tmp_path / "slow", keys, last)
    burst = pty_run(tmp_path / "burst", keys, last, expected=slow[0])
    assert slow == burst, f"differ for {keys + last}:\n{slow[0]}\n---\n{burst[0]}"
    records = slow[1]
    assert [dict(row)["body"] for row in records["note"]] == ["fena abXcd"]
    assert [dict(row)["body"] for row in records["draft"]] == ["said no then quit"]
    fields = {dict(row)["key"]: dict(row)["value"] for row in records["call_field"]}
    assert (fields["patient_ref"], fields["insurer"]) == ("QA-1", "Acme Health")
