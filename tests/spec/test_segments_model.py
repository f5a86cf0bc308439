"""Model-checks the append-and-seal protocol (specs/segments.pml) with spin.

Each configuration is verified exhaustively (spin -a, gcc -DSAFETY, ./pan): the correct
protocol must give ``errors: 0`` over its whole state space; each deliberately broken
variant (``-DBUG_...``) must give a violation, which shows the properties can fail; and
each coverage point (``-DCOVER=n``) must be reached, which shows the configurations do
exercise the interesting interleavings (second seals, retries that find their message
sealed, reads concurrent with seals, ...). The tools come from Debian's packages
(``scripts/ensure-test-tools.sh spin gcc``, run by ``make test``); without them the
module skips, saying so.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

MODEL = Path(__file__).resolve().parents[2] / "specs" / "segments.pml"

SPIN = shutil.which("spin")
GCC = shutil.which("gcc")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        SPIN is None or GCC is None,
        reason="spin and gcc are needed to model-check specs/segments.pml: run "
        "`scripts/ensure-test-tools.sh spin gcc` (as root it installs them from Debian)",
    ),
]

# pan refuses to grow past this (MB) rather than exhaust a shared machine's memory; a
# configuration that reaches it fails below (an incomplete search proves nothing).
# -DCOLLAPSE stores states compressed, losslessly (about a third of the memory).
MEMLIM_MB = 1024
PAN_FLAGS = ["-DSAFETY", "-DCOLLAPSE", f"-DMEMLIM={MEMLIM_MB}"]

# The correct protocol. Every configuration has crashes at every step and retries.
CORRECT = {
    # 2 writers x 2 messages, lost answers, a reader concurrent with the seals
    "reader": "-DREADER -DLOST -DBUDGET=3",
    # 2 writers x 3 messages, lost answers: seals in one epoch race each other
    "two-writers-three-messages": "-DNM=3 -DLOST -DBUDGET=3",
    # 3 writers (2 + 1 + 1 messages), lost answers
    "three-writers": "-DNW=3 -DNM_REST=1 -DLOST -DBUDGET=3",
    # the same without crashes: then no dead segment is left behind
    "three-writers-no-crash": "-DNW=3 -DNM_REST=1 -DLOST -DBUDGET=3 -DNOCRASH",
    # 2 writers x 2 messages, lost answers, one concurrent clear
    "clear": "-DCLEAR -DLOST -DBUDGET=3",
    # the same without crashes: then nothing dead is left behind either
    "clear-no-crash": "-DCLEAR -DLOST -DBUDGET=3 -DNOCRASH",
    # clear that also deletes the empty tail it wrote (safe; may leave a dead segment)
    "clear-then-delete-tail": "-DCLEAR -DLOST -DBUDGET=3 -DCLEAR_DELETE_TAIL",
    # 2 writers x 2 messages, lost answers, the orphan sweeper
    "sweeper": "-DSWEEP -DLOST -DBUDGET=3",
}

# Broken variants: spin must find a violation in each, of the property named (the text
# of the first failed assertion as spin prints it), not of a capacity bound of the model.
DOUBLED = "assert((c<=1))"                          # a message twice in the history
LOST = "assert(((acked[m]!=(1+nclears))||(c==1)))"  # an acknowledged message missing
GAP = "assert((pos==tail.start))"                   # a segment the tail names is gone
OVERLAP = "assert((rst==pos))"                      # segments overlap or leave a gap
BROKEN = {
    "nondeterministic-seal": ("-DNM=3 -DBUG_NONDETERMINISTIC_SEAL", OVERLAP),
    "unconditional-tail-write": ("-DBUG_UNCONDITIONAL_TAIL", LOST),
    "reader-lists-segments-first": ("-DREADER -DBUG_READ_SEGMENTS_FIRST",
                                    "assert((pos==R.start))"),
    "clear-deletes-tail-first": ("-DCLEAR -DBUG_CLEAR_TAIL_FIRST", GAP),
    # clear as first drafted: delete the tail, spare the epoch a second read shows
    "clear-spares-the-live-epoch": ("-DCLEAR -DBUG_CLEAR_SPARE_LIVE", GAP),
    "retry-dedup-in-newest-segment-only": ("-DNM=3 -DLOST -DBUG_DEDUP_NEWEST_ONLY", DOUBLED),
    "retry-dedup-in-tail-only": ("-DLOST -DBUG_DEDUP_TAIL_ONLY", DOUBLED),
    "sweeper-without-fence": ("-DSWEEP -DBUG_SWEEP_UNFENCED", GAP),
}

# Coverage points (see COVER in the model) and a configuration above that must reach each.
COVERAGE = {
    "second-seal": CORRECT["reader"] + " -DCOVER=1",
    "retry-finds-message-sealed": CORRECT["reader"] + " -DCOVER=2",
    "writer-deletes-dead-segment": CORRECT["clear"] + " -DCOVER=3",
    "read-concurrent-with-seal": CORRECT["reader"] + " -DCOVER=4",
    "seal-finds-segment-written": CORRECT["two-writers-three-messages"] + " -DCOVER=5",
    "clear-deletes-segment": CORRECT["clear"] + " -DCOVER=6",
    "sweeper-deletes-segment": CORRECT["sweeper"] + " -DCOVER=7",
}


@dataclass(frozen=True)
class Verification:
    errors: int
    states: int
    seconds: float
    output: str


def verify(flags: str, workdir: Path, *, optimise: bool = True) -> Verification:
    """Generate, compile and run the verifier for one configuration of the model.

    Runs expected to stop at their first violation skip gcc's optimiser (``optimise``
    False): compiling pan.c is most of their cost."""
    shutil.copy(MODEL, workdir / MODEL.name)
    macros = flags.split()
    subprocess.run([SPIN, "-a", *macros, MODEL.name], cwd=workdir, check=True,
                   capture_output=True, text=True)
    subprocess.run([GCC, "-O2" if optimise else "-O0", *PAN_FLAGS, "-o", "pan", "pan.c"],
                   cwd=workdir, check=True, capture_output=True, text=True)
    run = subprocess.run(["./pan", "-m10000"], cwd=workdir, capture_output=True, text=True,
                         timeout=300)
    out = run.stdout + run.stderr
    errors = re.search(r"errors: (\d+)", out)
    states = re.search(r"(\d+) states, stored", out)
    seconds = re.search(r"elapsed time ([\d.e+-]+) seconds", out)
    assert errors, out
    assert states, out
    return Verification(int(errors.group(1)), int(states.group(1)),
                        float(seconds.group(1)) if seconds else 0.0, out)


def counterexample(flags: str, workdir: Path) -> str:
    """The trail of the violation found, as the model's printf lines (for the report)."""
    replay = subprocess.run([SPIN, "-t", *flags.split(), MODEL.name], cwd=workdir,
                            capture_output=True, text=True)
    return "\n".join(line.strip() for line in replay.stdout.splitlines()
                     if line.strip().startswith(("W", "clear", "sweep", "spin:")))


def first_failed_assertion(trail: str) -> str:
    for line in trail.splitlines():
        if line.startswith("spin: text of failed assertion: "):
            return line.removeprefix("spin: text of failed assertion: ")
    return ""


@pytest.mark.parametrize("flags", CORRECT.values(), ids=CORRECT.keys())
def test_the_protocol_keeps_every_property_in_every_interleaving(
        flags: str, tmp_path: Path) -> None:
    result = verify(flags, tmp_path)
    # an exhaustive search: nothing cut short by memory or depth
    assert "MEMLIM" not in result.output, result.output
    assert "max search depth too small" not in result.output, result.output
    assert result.errors == 0, counterexample(flags, tmp_path)
    print(f"{flags}: {result.states} states, {result.seconds} s")


@pytest.mark.parametrize(("flags", "violated"), BROKEN.values(), ids=BROKEN.keys())
def test_spin_finds_the_bug_in_a_broken_variant(
        flags: str, violated: str, tmp_path: Path) -> None:
    result = verify(flags, tmp_path, optimise=False)
    assert result.errors > 0, result.output
    trail = counterexample(flags, tmp_path)
    assert first_failed_assertion(trail) == violated, trail


@pytest.mark.parametrize("flags", COVERAGE.values(), ids=COVERAGE.keys())
def test_the_configurations_reach_the_interesting_interleavings(
        flags: str, tmp_path: Path) -> None:
    cover = int(flags.rsplit("=", 1)[1])
    result = verify(flags, tmp_path, optimise=False)
    assert result.errors > 0, f"coverage point {cover} is never reached with {flags}"
    trail = counterexample(flags, tmp_path)
    assert first_failed_assertion(trail) == f"assert(({cover}!={cover}))", trail
