"""``python -m lc_archive`` runs the CLI."""

import sys

from .cli import main

sys.exit(main())
