"""`python -m compiler.remote worker [...]` starts a render worker; `python -m compiler.remote machines` lists them."""
from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    if argv[:1] == ["worker"]:
        from .worker import main as worker_main

        return worker_main(argv[1:])
    if argv[:1] == ["machines"]:
        from .executor import print_machines

        return print_machines(argv[1:])
    print("usage: python -m compiler.remote worker [--store URL] [--cache DIR] ... | machines [--json]", file=sys.stderr)
    return 2


sys.exit(main(sys.argv[1:]))
