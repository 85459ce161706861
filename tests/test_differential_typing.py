"""Typed slowly or in one burst, the same keys give the same records and the same screen.

Hand-written scripts visit every screen; Hypothesis writes more over the app's keys and a
small alphabet. See tests/typing_harness.py for how each run is made and compared. A
failure prints the script (and Hypothesis its seed and the shrunk script) to replay it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from typing_harness import Script, differences, exported_files, run_pilot

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
        "end call dialog left, typing goes on",
        "home",
        "n<f2>abc<ctrl+g><up><escape>def<enter><ctrl+g><escape><escape><f5>e",
    ),
    Script.of(
        "wrap-up left for later",
        "home",
        "n<f1>n1<enter><ctrl+g><enter><escape><escape>r<f1>back",
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
    assert not diff, f"typed key by key and in one burst differ for {script}:\n{diff}"


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
async def test_slow_and_burst_give_the_same_result(script: Script, tmp_path: Path) -> None:
    await check(script, tmp_path)


# -- generated scripts ---------------------------------------------------------------------------

APP_KEYS = [
    "n", "r", "h", "d", "slash", "e", "l", "x", "o",
    "f1", "f2", "f3", "f8", "ctrl+n", "ctrl+b", "ctrl+f", "ctrl+r", "ctrl+t", "ctrl+l",
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
