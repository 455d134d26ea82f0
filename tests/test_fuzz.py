"""The fuzzer's bounded CI run (tests/fuzz/): a fixed seed and a fixed number of generated
programs under every transform must produce no crash, hang, wrong number, unclear error or
leaked dual object, and the memory probes must not grow. On failure the test prints one
reproducer per failure class (all of them are in tests/fuzz/failures/ci/)."""
import os

import pytest

from fuzz.memory import probe_all
from fuzz.program import hand_case
from fuzz.run import Fuzzer, HERE

SEED = int(os.environ.get("DUALDIFF_FUZZ_SEED", 20240611))
CASES = 700             # about 20 s on two cores (crash isolation included)
BUDGET = 40.0           # never longer than this, whatever happens
MINIMIZE = 8.0          # seconds spent shrinking reproducers
SHOWN = 30              # reproducers printed in full


@pytest.fixture(scope="module")
def fuzz_run():
    print(f"fuzz seed {SEED} (replay: DUALDIFF_FUZZ_SEED={SEED} or "
          f"python -m tests.fuzz --seed {SEED} --cases {CASES})")
    return Fuzzer(SEED, BUDGET, max_cases=CASES, jobs=2, batch=25,
                  out=os.path.join(HERE, "failures", "ci"), minimize_time=MINIMIZE).run()


def test_generated_programs_never_crash_mislead_or_give_wrong_numbers(fuzz_run):
    fz = fuzz_run
    print(fz.summary())
    failing = {id(r) for _, r in fz.failing()}
    classes = [(k, items, best) for k, items, best in fz.classes()
               if any(id(r) in failing for _, r in items)]
    for key, items, (case, rec) in classes[:SHOWN]:
        print(f"\n{'=' * 100}\n[{key[0]}] {' | '.join(map(str, key[1:]))}  ({len(items)} cases)")
        print(fz.reproducer(case, rec))
    assert fz.records, "the fuzzer ran no case"
    assert not classes, (f"{len(classes)} failure classes in {len(fz.failing())} failing cases; "
                         f"reproducers in {fz.out}")


# Under AddressSanitizer (README, "sanitizer build": libasan preloaded) RSS holds ASan's
# shadow memory and quarantine, and ASan intercepts the synthetic heap corrupter before
# glibc's checks do: these two measure the process, not dualdiff
UNDER_ASAN = pytest.mark.skipif("libasan" in os.environ.get("LD_PRELOAD", ""),
                                reason="measures RSS and glibc's heap checks, which ASan changes")


@UNDER_ASAN
def test_memory_does_not_grow_with_repeated_calls_or_new_shapes():
    lines, grew = probe_all(quick=True)
    print("\n".join(lines))
    assert not grew, f"memory grows: {', '.join(grew)}"


@UNDER_ASAN
def test_the_fuzzer_isolates_crashers_hangs_and_heap_corruption(tmp_path):
    """The scheduler's own promises, on hand-made cases: a crash or a hang is a recorded
    failure of the case that caused it (not of its batch), a case that only dies after
    another one (heap corruption) is pinned on that other one, and the batch's remaining
    cases still run."""
    grad = {"name": "grad", "chunk": None, "argnums": 0}
    x = ["np.array([1.0, 2.0])"]

    def case(cid, expr):
        return hand_case(cid, [expr], "np.sum(v1)", grad, x)
    # the "corrupter" leaves a mark in the process; the "victim" aborts when it finds it
    mark = "__import__('builtins').__dict__.setdefault('_fuzz_mark', 1) * x"
    victim = "x if not hasattr(__import__('builtins'), '_fuzz_mark') else __import__('os').abort()"
    cases = [case("ok1", "x * 2.0"), case("corrupter", mark), case("ok2", "np.sin(x)"),
             case("victim", victim), case("ok3", "x * x"),
             case("crash", "__import__('os').abort()"),
             case("hang", "[0 for _ in iter(int, 1)]"), case("ok4", "np.cos(x)")]
    fz = Fuzzer(0, budget=60.0, max_cases=0, out=str(tmp_path), minimize=False,
                case_timeout=2.0)
    fz.requeue.extend(cases)
    fz.loop()
    got = {cid: rec["outcome"] for cid, (_, rec) in fz.records.items()}
    assert got == {"ok1": "ok", "corrupter": "crash", "ok2": "ok", "victim": "ok", "ok3": "ok",
                   "crash": "crash", "hang": "hang", "ok4": "ok"}
    assert fz.records["corrupter"][1]["context"] == "victim"
    assert fz.records["crash"][1]["check"] == "SIGABRT"
