"""A render worker with the test-only renderers registered (run as a script by the farm tests and the bench)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import farm_renderers  # noqa: E402

farm_renderers.register()

from compiler.remote.worker import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
