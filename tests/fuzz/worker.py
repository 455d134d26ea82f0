"""A worker process: runs the cases it is given and reports each on stdout as it goes.

Protocol (one JSON object per line): the parent writes {"cases": [...], "repeat": n} to
stdin; the worker prints {"start": id} before a case and {"done": id, "result": {...},
"rss_kb": ..., "secs": ...} after it. If the process dies, the last "start" without a
"done" names the case that was running, and faulthandler's traceback on stderr names the
line of f. A "repeat" above 1 runs each case that many times (the memory probes).
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
    for case in job["cases"]:
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
