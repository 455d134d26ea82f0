"""What a bench run leaves behind: the formatted figures, the machine it ran on, and the
tables printed as the run goes and written at the end to <name>.md and <name>.json."""
import _peers  # noqa: F401  (first: it pins every library to one thread)

import datetime  # noqa: E402
import importlib.metadata  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import shlex  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent

WRONG = 1e-8        # a relative error above this is flagged as a wrong number

# ---------------------------------------------------------------------------------------
# formatting
# ---------------------------------------------------------------------------------------


def fmt_time(t):
    if t is None:
        return "-"
    if t < 1e-6:
        return f"{t * 1e9:.0f} ns"
    if t < 1e-3:
        return f"{t * 1e6:.3g} µs"
    if t < 1:
        return f"{t * 1e3:.3g} ms"
    return f"{t:.3g} s"


def fmt_ratio(r):
    if r is None:
        return "-"
    if r >= 100:
        return f"{r:,.0f}×"
    return f"{r:.3g}×"


def fmt_bytes(b):
    if b is None:
        return "-"
    if b < 1 << 20:
        return f"{b / 1024:.0f} KiB"
    return f"{b / (1 << 20):.1f} MiB"


def fmt_err(e):
    if e is None:
        return "-"
    if e != e:
        return "nan"
    if e == 0:
        return "0"
    return f"{e:.1e}"


# ---------------------------------------------------------------------------------------
# tables of method records (forward_vs_reverse.py, arrays.py)
# ---------------------------------------------------------------------------------------

def detail_rows(recs, size_label, with_mem):
    """(headers, rows): one row per record of _timing.run_case, with time, ratios, error
    and, with_mem, peak memory."""
    rows = []
    for r in recs:
        size = r["size"] if not isinstance(r["size"], tuple) else "×".join(map(str, r["size"]))
        if "error" in r:
            row = [r["method"], size, "ERROR", r["error"][:60], "", ""]
        elif "skipped" in r:
            row = [r["method"], size, f"skipped: {r['skipped']}", "", "", ""]
        else:
            row = [r["method"], size, fmt_time(r["t"]), fmt_ratio(r["ratio"]),
                   fmt_ratio(r.get("ratio_own")) if "ratio_own" in r else "",
                   fmt_err(r.get("rel_err")) + ("" if r.get("rel_err", 0) <= WRONG
                                                else " **WRONG**")]
        if with_mem:
            row += [fmt_bytes(r.get("mem_rss")), fmt_bytes(r.get("mem_traced"))]
        rows.append(row)
    headers = ["method", size_label, "time", "× numpy f", "× own f", "rel. error"]
    if with_mem:
        headers += ["peak RSS Δ", "tracemalloc peak"]
    return headers, rows


def pivot(recs, sizes, base_times):
    """methods × sizes matrix of the ratio to numpy f."""
    labels = list(dict.fromkeys(r["method"] for r in recs))
    cells = {(r["method"], r["size"]): r for r in recs}
    rows = [["numpy f (time)"] + [fmt_time(base_times.get(s)) for s in sizes]]
    for lab in labels:
        row = [lab]
        for s in sizes:
            r = cells.get((lab, s))
            row.append("" if r is None else "ERROR" if "error" in r else
                       "skipped" if "skipped" in r else fmt_ratio(r["ratio"]))
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------
# machine info
# ---------------------------------------------------------------------------------------

def command_line():
    """The exact command that produced a results file."""
    try:
        script = os.path.relpath(sys.argv[0], REPO_DIR)
    except ValueError:
        script = sys.argv[0]
    return " ".join(["python", shlex.quote(script)] + [shlex.quote(a) for a in sys.argv[1:]])


def _version(dist):
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas():
    try:
        cfg = np.__config__.CONFIG["Build Dependencies"]["blas"]
        return f"{cfg.get('name')} {cfg.get('version')}"
    except Exception:
        return None


def machine_info(dd):
    peers = {}
    for dist in ("torch", "jax", "jaxlib", "autograd", "fastdual", "num-dual", "matplotlib"):
        v = _version(dist)
        if v is not None:
            peers[dist] = v
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numpy_blas": _blas(),
        "dualdiff": getattr(dd, "__version__", None),
        "dualdiff_path": str(Path(dd.__file__).resolve().parent),
        "peers": peers,
        "threads": {k: os.environ.get(k) for k in
                    ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "XLA_FLAGS",
                     "OPENBLAS_CORETYPE")},
    }


# ---------------------------------------------------------------------------------------
# the report
# ---------------------------------------------------------------------------------------

def _md_table(headers, rows):
    out = ["| " + " | ".join(headers) + " |",
           "|" + "|".join("---" if i == 0 else "--:" for i in range(len(headers))) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def _text_table(headers, rows):
    cols = list(zip(*([headers] + [[str(c) for c in r] for r in rows])))
    widths = [max(len(c) for c in col) for col in cols]
    lines = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w)
                       for i, (h, w) in enumerate(zip(headers, widths)))]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        lines.append("  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                               for i, (c, w) in enumerate(zip(r, widths))))
    return "\n".join(lines)


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.floating, np.integer)):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    return x


class Report:
    """One script's results: tables, targets and notes are printed as they come and written
    by finish() to <outdir>/<name>.md and .json, with the machine and the command."""

    def __init__(self, name, title, args, dd):
        self.name, self.title, self.args = name, title, args
        self.meta = machine_info(dd)
        self.meta["command"] = command_line()
        self.meta["mode"] = args.mode
        self.meta["timing"] = dict(args.cfg)
        self.started = time.perf_counter()
        self.sections = []          # (title, intro, headers, rows(formatted), raw records)
        self.notes = []
        self.targets = []
        self.files = []
        print(f"# {title}  [{args.mode} mode]")
        print(f"# {self.meta['cpu']}, {self.meta['cores']} cores, Python {self.meta['python']}, "
              f"numpy {self.meta['numpy']}, dualdiff {self.meta['dualdiff']}; peers: "
              + (", ".join(f"{k} {v}" for k, v in self.meta["peers"].items()) or "none"),
              flush=True)

    def note(self, text):
        print(text, flush=True)
        self.notes.append(text)

    def table(self, title, headers, rows, raw, intro=None):
        self.sections.append((title, intro, headers, rows, raw))
        print(f"\n## {title}")
        if intro:
            print(intro)
        print(_text_table(headers, rows), flush=True)

    def target(self, what, limit, measured, met, detail=""):
        """measured: formatted value; met: True/False/None (None = could not measure)."""
        self.targets.append(dict(target=what, measured=measured, limit=limit,
                                 met=met, detail=detail))

    def add_file(self, path):
        self.files.append(str(path))

    def finish(self):
        outdir = Path(self.args.outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        self.meta["wall_time_s"] = round(time.perf_counter() - self.started, 1)
        if self.targets:
            headers = ["target", "limit", "measured", "status"]
            rows = [[t["target"], t["limit"], t["measured"],
                     "n/a" if t["met"] is None else "met" if t["met"] else "MISSED"]
                    for t in self.targets]
            print("\n## targets")
            print(_text_table(headers, rows))
        md = [f"# {self.title}", "",
              f"`{self.meta['command']}` — {self.meta['mode']} mode, {self.meta['date']}, "
              f"{self.meta['wall_time_s']} s wall", "",
              f"Machine: {self.meta['cpu']}, {self.meta['cores']} cores, load average at start "
              f"{self.meta['load_avg_at_start'][0]}; {self.meta['platform']}; Python "
              f"{self.meta['python']}, numpy {self.meta['numpy']} ({self.meta['numpy_blas']}), "
              f"dualdiff {self.meta['dualdiff']}; peers: "
              + (", ".join(f"{k} {v}" for k, v in self.meta["peers"].items()) or "none")
              + ". One thread everywhere.", "",
              f"Timing: each cell is the median of {self.meta['timing']['repeats']} samples of "
              f">= {self.meta['timing']['min_time'] * 1e3:g} ms, interleaved with its baseline; "
              "ratios are medians of per-round ratios.", ""]
        if self.targets:
            md += ["## Targets", "", _md_table(
                ["target", "limit", "measured", "status"],
                [[t["target"], t["limit"], t["measured"],
                  "n/a" if t["met"] is None else "met" if t["met"] else "**MISSED**"]
                 for t in self.targets]), ""]
        for title, intro, headers, rows, _ in self.sections:
            md += [f"## {title}", ""]
            if intro:
                md += [intro, ""]
            md += [_md_table(headers, rows), ""]
        if self.notes:
            md += ["## Notes", ""] + [f"- {n}" for n in self.notes] + [""]
        for f in self.files:
            md += [f"![{Path(f).stem}]({Path(f).name})", ""]
        (outdir / f"{self.name}.md").write_text("\n".join(md))
        data = dict(meta=self.meta, targets=self.targets, notes=self.notes, files=self.files,
                    sections=[dict(title=t, intro=i, headers=h, rows=r, raw=raw)
                              for t, i, h, r, raw in self.sections])
        (outdir / f"{self.name}.json").write_text(json.dumps(_jsonable(data), indent=1))
        print(f"\nwrote {outdir / (self.name + '.md')} and .json "
              f"({self.meta['wall_time_s']} s)")
