"""python -m tests.fuzz: the fuzzer's command line (tests/fuzz/run.py)."""
import sys

from .run import main

sys.exit(main())
