"""Where things are."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
"""The tests folder."""
REPO = TESTS.parent
"""The repository."""
PEER_DRIVER = TESTS / "support" / "peer_driver.py"
"""The script the openedx-core peer's Python runs to restore an archive and print its state."""
HOSTILE = TESTS / "support" / "hostile"
"""The package that writes the hostile-archive set (``python tests/support/hostile OUTDIR``)."""
