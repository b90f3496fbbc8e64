"""``python tests/support/hostile OUTDIR``: write the hostile-archive set (see the package docstring)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the tests folder: find the support package

from support.hostile import main

raise SystemExit(main())
