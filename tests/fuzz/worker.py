"""A worker process: runs the cases it is given and reports each on stdout as it goes.

Protocol (one JSON object per line): the parent writes {"cases": [...], "generate":
{"seed": s, "indices": [...], "only": [...]}, "repeat": n, "bare": b} to stdin; the worker
runs the given cases, then generates and runs the indexed ones, printing {"case": {...}}
for each case it generated, {"start": id} before running a case, {"call": source} before
each dualdiff call, and {"done": id, "result": {...}, "rss_kb": ..., "secs": ...} after
it. If the process dies, the last "start" without a "done" names the case that was running
(the last "generating" without a "case", the index whose generation died), and
faulthandler's traceback on stderr names the line of f. Generation happens here, not in
the scheduler, because drawing a program runs numpy and dualdiff on plain values: the
scheduler never imports dualdiff. "repeat" runs each case that many times and "bare" only
makes the transform calls (the memory probes).
"""
import faulthandler
import json
import os
import sys
import time


def rss_kb():
    """Resident set size of this process in KiB (Linux)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    except OSError:
        return 0


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    faulthandler.enable()                   # a crash prints the Python stack to stderr
    job = json.loads(sys.stdin.readline())
    from fuzz import oracle
    from fuzz.oracle import run_case
    oracle.CALL_HOOK[0] = lambda src: emit({"call": src})
    import dualdiff
    emit({"dualdiff": os.path.dirname(dualdiff.__file__)})
    repeat = int(job.get("repeat", 1))
    if job.get("bare"):
        return bare(job["cases"], repeat, oracle)
    for case in job.get("cases", []):
        run(case, repeat, run_case)
    gen = job.get("generate")
    if gen:
        from fuzz.program import generate
        for i in gen["indices"]:
            emit({"generating": i})
            try:
                case = generate(gen["seed"], i, gen.get("only"))
            except Exception as e:            # a bug of the generator: reported, not fatal
                emit({"generator_error": i, "error": f"{type(e).__name__}: {e}"[:300]})
                continue
            emit({"case": case})
            run(case, repeat, run_case)


def run(case, repeat, run_case):
    emit({"start": case["id"]})
    t = time.perf_counter()
    samples = []
    for i in range(repeat):
        result = run_case(case)
        if repeat > 1 and i in (repeat // 4, repeat - 1):
            samples.append(rss_kb())
    emit({"done": case["id"], "result": result, "rss_kb": rss_kb(),
          "secs": time.perf_counter() - t, "samples": samples})


def bare(cases, repeat, oracle):
    """Only the transform calls, `repeat` times each (the memory probes: nothing of the
    fuzzer's own bookkeeping should sit between dualdiff and the RSS readings)."""
    from fuzz.program import call_source
    for case in cases:
        emit({"start": case["id"]})
        ns = oracle.build(case, plain=False)
        src = compile(call_source(case), "<call>", "eval")
        t = time.perf_counter()
        samples = []
        result = {"outcome": "ok"}
        for i in range(repeat):
            try:
                eval(src, ns)
            except Exception as e:
                result = {"outcome": "error", "detail": f"{type(e).__name__}: {e}"}
            if i in (repeat // 4, repeat - 1):
                samples.append(rss_kb())
        emit({"done": case["id"], "result": result, "rss_kb": rss_kb(),
              "secs": time.perf_counter() - t, "samples": samples})


if __name__ == "__main__":
    main()
