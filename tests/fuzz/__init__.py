"""dualdiff's own fuzzer: generated numpy programs under every transform, checked against
plain numpy and finite differences, each batch in a worker subprocess so that crashes and
hangs are recorded with a reproducer. Entry point: `python -m tests.fuzz` (see README.md)."""
