#!/usr/bin/env python
"""Paste the latest bench/results/*.md into bench/README.md, between the results markers.

    python bench/update_readme.py
"""
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ORDER = ["scalar_ops", "forward_vs_reverse", "arrays", "nested", "sparse", "parallel"]
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def main():
    readme = BENCH / "README.md"
    text = readme.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{readme} has no {BEGIN} ... {END} markers")
    parts = []
    for name in ORDER:
        md = BENCH / "results" / f"{name}.md"
        if not md.is_file():
            parts.append(f"### {name}\n\n(no results yet: run `python bench/{name}.py`)\n")
            continue
        lines = md.read_text().splitlines()
        out = []
        for line in lines:
            if line.startswith("#"):
                line = "##" + line          # '# title' -> '### title', '## x' -> '#### x'
            if line.startswith("![") and "](" in line:   # images live in results/
                alt, target = line[2:].split("](", 1)
                line = f"![{alt}](results/{target}"
            out.append(line)
        parts.append("\n".join(out).strip() + "\n")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(head + BEGIN + "\n\n" + "\n".join(parts) + "\n" + END + tail)
    print(f"updated {readme}")


if __name__ == "__main__":
    main()
