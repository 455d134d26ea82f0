"""The fuzzer's command line and scheduler: generates cases, runs them in batches in worker
subprocesses, isolates crashers and hangs, groups failures into classes and writes a
standalone reproducer for each failure.

    python -m tests.fuzz --seed 1 --budget 60 [--cases N] [--only grad,hessian] [--jobs 2]
    python tests/fuzz/run.py ...            (the same)
    python -m tests.fuzz --case 1-42        (replay one case in this process, verbosely)

Environment (see README.md): DUALDIFF_FUZZ_PYTHON (worker interpreter),
DUALDIFF_FUZZ_PYTHONPATH (where workers import dualdiff from), DUALDIFF_FUZZ_LD_PRELOAD
(LD_PRELOAD of the workers only, e.g. libasan for a sanitizer build).
"""
import argparse
import collections
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

if __package__ in (None, ""):                     # run as a script: python tests/fuzz/run.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "fuzz"

from .program import generate, reproducer, truncations            # noqa: E402
from .oracle import FAILING                                       # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
ROOT = os.path.dirname(TESTS)
CLASSES = ["ok", "expected_error", "clear_error", "refused", "known", "unclear_error", "wrong",
           "leaked", "crash", "hang", "internal"]
SEVERITY = ["crash", "hang", "wrong", "leaked", "unclear_error", "refused", "internal", "known"]
CASE_TIMEOUT = 60.0          # a case running longer than this alone is a hang
MALLOC_DEBUG = "/usr/lib/x86_64-linux-gnu/libc_malloc_debug.so.0"


# ---------------------------------------------------------------------------------------
# worker processes
# ---------------------------------------------------------------------------------------

def worker_env(debug_malloc=False):
    env = dict(os.environ)
    path = os.environ.get("DUALDIFF_FUZZ_PYTHONPATH", ROOT)
    env["PYTHONPATH"] = os.pathsep.join([TESTS, path] + ([env["PYTHONPATH"]]
                                                          if env.get("PYTHONPATH") else []))
    preload = os.environ.get("DUALDIFF_FUZZ_LD_PRELOAD")
    if preload:
        env["LD_PRELOAD"] = preload
        env.setdefault("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=1")
    elif debug_malloc and os.path.exists(MALLOC_DEBUG):
        # glibc's checking allocator: heap corruption aborts at the free that meets it,
        # usually inside the case that caused it (isolating reruns only: it is slower)
        env["LD_PRELOAD"] = MALLOC_DEBUG
        env["MALLOC_CHECK_"] = "3"
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(k, "1")             # the workers already use every core
    env.pop("DUALDIFF_TEST_SEED", None)
    return env


class Batch:
    """One worker process: the cases it generated, the results of those it finished, the
    case (or generation) it was in when it died or timed out, and its stderr."""

    def __init__(self, cases, timeout, debug_malloc=False, repeat=1, bare=False, generate=None):
        python = os.environ.get("DUALDIFF_FUZZ_PYTHON", sys.executable)
        cmd = [python, "-c", "from fuzz.worker import main; main()"]
        job = json.dumps({"cases": cases, "generate": generate, "repeat": repeat,
                          "bare": bare}) + "\n"
        self.results, self.running, self.timed_out, self.where = {}, None, False, None
        self.call, self.generating = None, None
        self.cases, self.generator_errors = list(cases), {}
        p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=worker_env(debug_malloc), text=True,
                             cwd=tempfile.gettempdir(), start_new_session=True)
        try:
            out, err = p.communicate(job, timeout=timeout)
        except subprocess.TimeoutExpired:
            self.timed_out = True
            p.kill()
            out, err = p.communicate()
        self.returncode, self.stderr = p.returncode, err
        for line in out.splitlines():
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if "dualdiff" in msg:
                self.where = msg["dualdiff"]
            elif "generating" in msg:
                self.generating = msg["generating"]
            elif "case" in msg:
                self.cases.append(msg["case"])
                self.generating = None
            elif "generator_error" in msg:
                self.generator_errors[msg["generator_error"]] = msg["error"]
                self.generating = None
            elif "start" in msg:
                self.running, self.call = msg["start"], None
            elif "call" in msg:
                self.call = msg["call"]
            elif "done" in msg:
                self.results[msg["done"]] = msg
                self.running = None
        wanted = len(cases) + len((generate or {}).get("indices", ()))
        finished = len(self.results) + len(self.generator_errors)
        self.died = not self.timed_out and (p.returncode != 0 or finished < wanted)
        # indices the worker never reached
        seen = {c["id"] for c in self.cases} | {f"{generate['seed']}-{i}" for i in
                                                  self.generator_errors} if generate else set()
        self.unreached = [i for i in (generate or {}).get("indices", ())
                          if f"{generate['seed']}-{i}" not in seen and i != self.generating]

    def crash_info(self):
        """(signal name, culprit line of f or innermost frame, stderr tail)."""
        rc = self.returncode
        sig = f"signal {-rc}" if rc and rc < 0 else f"exit {rc}"
        try:
            import signal
            sig = signal.Signals(-rc).name if rc and rc < 0 else sig
        except ValueError:
            pass
        line = None
        m = re.search(r'File "<fuzz f>", line (\d+)', self.stderr)
        if m:
            line = int(m.group(1))
        frames = re.findall(r'File "([^"]+)", line (\d+) in (\w+)', self.stderr)
        inner = next((f"{os.path.basename(f)}:{fn}" for f, _, fn in frames
                      if f != "<fuzz f>" and "fuzz" not in f.split(os.sep)[-2:-1]), None)
        return sig, line, inner, "\n".join(self.stderr.strip().splitlines()[-25:])


# ---------------------------------------------------------------------------------------
# the fuzzer
# ---------------------------------------------------------------------------------------

class Fuzzer:
    def __init__(self, seed, budget, max_cases=None, only=None, jobs=2, batch=25, out=None,
                 minimize=True, minimize_time=None, case_timeout=CASE_TIMEOUT, log=print):
        self.seed, self.budget, self.max_cases, self.only = seed, budget, max_cases, only
        self.jobs, self.batch_size, self.minimize = jobs, batch, minimize
        self.minimize_time = max(20.0, 0.25 * budget) if minimize_time is None else minimize_time
        self.case_timeout = case_timeout
        self.out = out or os.path.join(HERE, "failures")
        self.log = log
        self.lock = threading.Lock()
        self.next_index = 0
        self.requeue = collections.deque()
        self.records = {}                 # case id -> (case, record)
        self.where = None
        self.t0 = time.monotonic()
        self.generator_errors = collections.Counter()

    # -- scheduling
    def time_left(self):
        return self.budget - (time.monotonic() - self.t0)

    def take(self, n):
        """Up to n things to run: cases to rerun (dicts) first, then fresh indices for the
        workers to generate."""
        with self.lock:
            cases, indices = [], []
            while self.requeue and len(cases) + len(indices) < n:
                item = self.requeue.popleft()
                (indices if isinstance(item, int) else cases).append(item)
            while len(cases) + len(indices) < n and (self.max_cases is None
                                                     or self.next_index < self.max_cases):
                indices.append(self.next_index)
                self.next_index += 1
            return cases, indices

    def loop(self):
        while self.time_left() > 0:
            cases, indices = self.take(self.batch_size)
            if not cases and not indices:
                return
            self.run_batch(cases, indices)

    def run(self):
        threads = [threading.Thread(target=self.loop) for _ in range(self.jobs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.elapsed = time.monotonic() - self.t0
        self.write_failures()                 # before anything else can go wrong
        if self.minimize:
            try:
                self.minimize_classes()
            except Exception as e:            # a bug of the fuzzer must not lose the run
                self.generator_errors[f"minimizing: {type(e).__name__}: {e}"] += 1
            self.write_failures()
        self.minimize_elapsed = time.monotonic() - self.t0 - self.elapsed
        return self

    def record(self, case, rec):
        if rec["outcome"] not in FAILING + ("refused", "internal", "known"):
            # passing cases keep only what the summary counts (long runs hold many)
            case = {"id": case["id"], "transform": case["transform"],
                    "body": [{"op": s["op"]} for s in case["body"]]}
        with self.lock:
            self.records[case["id"]] = (case, rec)

    def run_batch(self, cases, indices=()):
        gen = {"seed": self.seed, "indices": list(indices), "only": self.only} if indices else None
        b = Batch(cases, self.case_timeout + 2.0 * (len(cases) + len(indices)), generate=gen)
        self.where = self.where or b.where
        for i, err in b.generator_errors.items():
            self.generator_errors[err] += 1
        by_id = {c["id"]: c for c in b.cases}
        for cid, msg in b.results.items():
            self.record(by_id[cid], dict(msg["result"], secs=msg["secs"], rss_kb=msg["rss_kb"]))
        if not (b.died or b.timed_out):
            return
        rest = [c for c in b.cases if c["id"] not in b.results and c["id"] != b.running]
        with self.lock:
            self.requeue.extendleft(reversed(rest + b.unreached))
        if b.generating is not None:         # died drawing a program: dualdiff on plain values
            self.record(self.generation_case(b.generating),
                        self.crash_record(self.generation_case(b.generating), b))
        elif b.running is None:               # died outside any case (startup): say so
            self.record({"id": f"worker-{self.seed}-{len(self.records)}", "transform": "worker",
                         "body": []}, {"outcome": "internal", "check": "worker",
                                       "detail": b.stderr[-2000:]})
        else:
            done = [c for c in b.cases if c["id"] in b.results]
            self.isolate(by_id[b.running], done, b)

    def generation_case(self, index):
        return {"id": f"{self.seed}-{index}", "seed": self.seed, "index": index,
                "transform": "generation", "body": [], "generation": True}

    def isolate(self, case, before, batch):
        """The case that was running when its batch died or timed out: rerun it alone (with
        glibc's checking allocator) to tell a crasher or a hang from a victim of an earlier
        case's heap corruption."""
        alone = Batch([case], self.case_timeout, debug_malloc=True)
        if alone.timed_out:
            self.record(case, {"outcome": "hang", "check": "timeout", "call": alone.call,
                               "detail": f"no result after {self.case_timeout:.0f} s alone\n"
                               f"{alone.stderr[-1500:]}"})
            return
        if alone.died:
            self.record(case, self.crash_record(case, alone))
            return
        if batch.timed_out:                   # slow only with the others: keep the result
            msg = alone.results[case["id"]]
            self.record(case, dict(msg["result"], secs=msg["secs"]))
            return
        culprit = self.find_corrupter(before, case)
        if culprit is None:
            msg = alone.results[case["id"]]
            rec = dict(msg["result"], secs=msg["secs"])
            rec["note"] = "its batch crashed but neither it nor earlier cases reproduce that"
            self.record(case, rec)
            return
        ctx = Batch([culprit, case], 2 * self.case_timeout, debug_malloc=True)
        rec = self.crash_record(culprit, ctx if ctx.died else batch)
        rec["check"] = "heap corruption"
        rec["detail"] = (f"{rec['detail']}\nthe process dies in case {case['id']} run after this "
                         f"one; alone each case survives")
        rec["context"] = case["id"]
        self.record(culprit, rec)
        msg = alone.results[case["id"]]
        self.record(case, dict(msg["result"], secs=msg["secs"]))

    def find_corrupter(self, before, victim):
        """The earlier case after which `victim` crashes (halving the candidates)."""
        cands = list(before)
        t = self.case_timeout + 2.0 * len(cands)
        if not cands or not Batch(cands + [victim], t, debug_malloc=True).died:
            return None
        while len(cands) > 1:
            half = len(cands) // 2
            late, early = cands[half:], cands[:half]
            if Batch(late + [victim], t, debug_malloc=True).died:
                cands = late
            elif Batch(early + [victim], t, debug_malloc=True).died:
                cands = early
            else:
                return cands[-1]            # needs cases from both halves: keep the nearest
        return cands[0]

    def crash_record(self, case, batch):
        sig, line, inner, tail = batch.crash_info()
        rec = {"outcome": "crash", "check": sig, "call": batch.call,
               "detail": f"the process died ({sig}) in {batch.call}\n{tail}"}
        if line is not None:
            from .oracle import _line_map
            stmt = _line_map(case).get(line)
            if isinstance(stmt, int):
                rec["stmt"], rec["op"] = stmt, case["body"][stmt]["op"]
            elif stmt == "return":
                rec["op"] = "return"
        if "op" not in rec and inner:
            rec["op"] = inner
        return rec

    # -- classes of failures
    def signature(self, case, rec):
        """The grouping key of a failure: its class, the check or exception, and the
        operation it points at (the failing statement, when known)."""
        outcome = rec["outcome"]
        if outcome == "known":                # one class per reported fault (oracle.KNOWN)
            return (outcome, rec.get("known", "")[:100])
        if outcome in ("crash", "hang"):
            return (outcome, rec.get("check", ""), rec.get("op", "?"))
        if rec.get("exc"):
            msg = re.sub(r"\d+(\.\d+)?(e[-+]?\d+)?", "N", rec.get("msg", ""))
            msg = re.sub(r"'[^']*'|\"[^\"]*\"", "_", msg)
            # reprs of values (nested brackets, cut off at the first line) are not the message
            while True:
                shorter = re.sub(r"\([^()]*\)|\[[^\[\]]*\]", "_", msg)
                if shorter == msg:
                    break
                msg = shorter
            msg = re.sub(r"[(\[].*", "_", msg)[:90]
            return (outcome, rec["exc"], rec.get("op", case["transform"]), msg)
        if rec.get("check") == "value (ulps)":
            # elementary functions whose last bits differ from numpy's: one root cause,
            # whichever function a program happened to use
            return (outcome, "value (ulps)", "elementary function values")
        return (outcome, rec.get("check", ""), rec.get("culprit") or rec.get("op") or
                case["transform"])

    def failures(self):
        return [(c, r) for c, r in self.records.values()
                if r["outcome"] in FAILING + ("refused", "internal", "known")]

    def minimize_classes(self):
        """Shrink failures to the shortest program slice that still fails the same way
        (a subprocess per candidate: a candidate may crash), round robin over the coarse
        classes (outcome, check, exception, statement) until the time is up, shortest
        programs first: every class gets a minimal reproducer early, and the culprits found
        split coarse classes into root causes."""
        deadline = time.monotonic() + self.minimize_time
        groups = collections.defaultdict(list)
        for c, r in self.failures():
            if r["outcome"] in ("internal", "known") or "minimized" in r or "context" in r or \
                    c.get("generation"):
                continue
            groups[(r["outcome"], r.get("check"), r.get("exc"), r.get("op"))].append((c, r))
        queues = [sorted(items, key=lambda cr: len(cr[0]["body"]))
                  for _, items in sorted(groups.items(), key=lambda kv: -len(kv[1]))]
        while any(queues):
            for q in queues:
                if q:
                    if time.monotonic() > deadline:
                        return
                    self.minimize_one(*q.pop(0))

    def minimize_one(self, case, rec):
        for cand in truncations(case):
            b = Batch([cand], self.case_timeout)
            if b.timed_out:
                continue
            got = self.crash_record(cand, b) if b.died else b.results[cand["id"]]["result"]
            if got["outcome"] == rec["outcome"] and got.get("check") == rec.get("check") and \
                    got.get("exc") == rec.get("exc"):
                if cand["body"]:
                    got.setdefault("op", cand["body"][-1]["op"])
                got["minimized"] = True
                got["original"] = case["id"]
                self.record(cand, got)
                if "op" in got:
                    rec["culprit"] = got["op"]       # the original joins the class
                return

    # -- output
    def write_failures(self):
        if os.path.isdir(self.out):
            for name in os.listdir(self.out):
                if name.endswith((".py", ".txt")):
                    os.remove(os.path.join(self.out, name))
        os.makedirs(self.out, exist_ok=True)
        for case, rec in self.failures():
            rec["file"] = os.path.join(self.out, self.filename(case, rec))
            with open(rec["file"], "w") as fh:
                fh.write(self.reproducer(case, rec))
        with open(os.path.join(self.out, "classes.txt"), "w") as fh:
            fh.write(self.classes_text())
        with open(os.path.join(self.out, "operations.txt"), "w") as fh:
            fh.write(self.operations_text())

    def filename(self, case, rec):
        op = re.sub(r"[^A-Za-z0-9_]+", "_", str(rec.get("op", case["transform"])))[:30]
        mini = "min-" if rec.get("minimized") else ""
        return f"{mini}{rec['outcome']}-{op}-{case['id']}.py"

    def reproducer(self, case, rec):
        detail = f"{rec['outcome']}: {rec.get('check', '')}\n{rec.get('detail', '')}"
        if case.get("generation"):           # died while drawing the program
            body = "\n".join("# " + line for line in detail.splitlines())
            return (f"# dualdiff fuzz: the worker died while drawing case {case['id']} (numpy "
                    f"and dualdiff on plain values)\n{body}\nimport sys\n"
                    f"sys.path.insert(0, {TESTS!r})\nfrom fuzz.program import generate\n"
                    f"generate({case['seed']}, {case['index']})\n")
        call = rec.get("call") if rec["outcome"] in ("crash", "hang") else None
        if rec.get("context"):
            ctx_case, ctx_rec = self.records[rec["context"]]
            return (reproducer(case, detail) + "\n# ... then, in the same process:\n"
                    + reproducer(ctx_case, "the case that crashes afterwards",
                                 call=ctx_rec.get("call")))
        return reproducer(case, detail, call=call)

    def classes(self):
        groups = collections.defaultdict(list)
        for case, rec in self.failures():
            groups[self.signature(case, rec)].append((case, rec))
        def best(items):
            return min(items, key=lambda cr: (not cr[1].get("minimized"), len(cr[0]["body"]),
                                              len(json.dumps(cr[0]))))
        return sorted(((k, v, best(v)) for k, v in groups.items()),
                      key=lambda kvb: (SEVERITY.index(kvb[0][0]), -len(kvb[1])))

    def classes_text(self):
        lines = []
        for key, items, (case, rec) in self.classes():
            first = (rec.get("detail") or rec.get("msg") or "").strip().splitlines()
            lines.append(f"[{key[0]}] {' | '.join(str(k) for k in key[1:])}  x{len(items)}")
            lines.append(f"    e.g. {rec.get('file', case['id'])}")
            if first:
                lines.append(f"    {first[0][:160]}")
        return "\n".join(lines) + "\n"

    def operations_text(self):
        """Cases per operation and outcome (the coverage of the operation table)."""
        per_op = collections.defaultdict(collections.Counter)
        for case, rec in self.records.values():
            if not rec.get("minimized"):
                for op in {s["op"] for s in case["body"]}:
                    per_op[op][rec["outcome"]] += 1
        lines = [f"{'operation':<24}{'cases':>7}" + "".join(f"{c[:10]:>11}" for c in CLASSES)]
        for op, c in sorted(per_op.items(), key=lambda oc: -sum(oc[1].values())):
            lines.append(f"{op[:24]:<24}{sum(c.values()):>7}"
                         + "".join(f"{c[k]:>11}" for k in CLASSES))
        return "\n".join(lines) + "\n"

    def summary(self):
        recs = [(c, r) for c, r in self.records.values() if not r.get("minimized")]
        per = collections.defaultdict(collections.Counter)
        per_op = collections.defaultdict(collections.Counter)
        checked = 0
        for case, rec in recs:
            per[case["transform"]][rec["outcome"]] += 1
            per["total"][rec["outcome"]] += 1
            checked += rec.get("fd_checked", 0) > 0
            for op in {s["op"] for s in case["body"]}:
                per_op[op]["cases"] += 1
                per_op[op][rec["outcome"]] += 1
        out = [f"dualdiff under test: {self.where}",
               f"seed {self.seed}: {len(recs)} cases in {self.elapsed:.0f} s with {self.jobs} "
               f"workers (+{self.minimize_elapsed:.0f} s minimizing); {checked} with "
               "derivatives checked against finite differences"]
        cols = [c for c in CLASSES if per["total"][c]] or ["ok"]
        out.append(f"{'transform':<16}" + "".join(f"{c[:10]:>11}" for c in cols))
        for t in sorted(k for k in per if k != "total") + ["total"]:
            out.append(f"{t:<16}" + "".join(f"{per[t][c]:>11}" for c in cols))
        bad = sorted(((op, c) for op, c in per_op.items()
                      if sum(c[k] for k in FAILING)),
                     key=lambda oc: -sum(oc[1][k] for k in FAILING))
        if bad:
            out.append("operations in failing programs (cases using it: failing / all):")
            out.append("  " + ", ".join(f"{op} {sum(c[k] for k in FAILING)}/{c['cases']}"
                                        for op, c in bad[:30]))
        classes = self.classes()
        out.append(f"failure classes: {len(classes)}  (reproducers in {self.out})")
        out.append(self.classes_text().rstrip())
        if self.generator_errors:
            out.append(f"generator errors: {dict(self.generator_errors)}")
        return "\n".join(out)

    def failing(self):
        return [(c, r) for c, r in self.failures() if r["outcome"] in FAILING]


# ---------------------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------------------

def replay(case_id, only=None):
    """Run one case in this process and print everything about it."""
    sys.path.insert(0, os.environ.get("DUALDIFF_FUZZ_PYTHONPATH", ROOT))
    from .oracle import run_case
    seed, index = (int(s) for s in case_id.split("-"))
    case = generate(seed, index, only)
    print(reproducer(case))
    print(json.dumps(run_case(case), indent=1))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--budget", type=float, default=60.0, help="seconds of fuzzing")
    ap.add_argument("--cases", type=int, default=None, help="stop after this many cases")
    ap.add_argument("--only", default=None, help="transforms, comma separated")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes at a time")
    ap.add_argument("--batch", type=int, default=25, help="cases per worker process")
    ap.add_argument("--out", default=None, help="reproducer directory (tests/fuzz/failures)")
    ap.add_argument("--no-minimize", action="store_true")
    ap.add_argument("--memory", action="store_true", help="also run the memory probes")
    ap.add_argument("--case", default=None, help="replay SEED-INDEX in this process")
    ap.add_argument("--json", default=None, help="write every record to this file")
    ap.add_argument("--verbose", action="store_true", help="print the per-operation table")
    ap.add_argument("--rerun", default=None, metavar="JSON",
                    help="rerun the failing cases recorded by an earlier --json (after a fix)")
    a = ap.parse_args(argv)
    only = a.only.split(",") if a.only else None
    if a.case:
        replay(a.case, only)
        return 0
    fz = Fuzzer(a.seed, a.budget, a.cases, only, a.jobs, a.batch, a.out,
                minimize=not a.no_minimize)
    if a.rerun:
        with open(a.rerun) as fh:
            old = json.load(fh)
        fz.max_cases = 0
        fz.requeue.extend(r["case"] for r in old if r["record"]["outcome"] in FAILING
                          + ("refused",) and not r["case"].get("generation")
                          and "call" in r["case"])
    fz.run()
    print(fz.summary())
    if a.verbose:
        print(fz.operations_text())
    if a.memory:
        from .memory import probe_all
        lines, bad = probe_all()
        print("memory probes:\n" + "\n".join(lines))
    if a.json:
        with open(a.json, "w") as fh:
            json.dump([{"case": c, "record": r} for c, r in fz.records.values()], fh)
    return 1 if fz.failing() else 0


if __name__ == "__main__":
    sys.exit(main())
