"""``manage.py lc_archive_load FILE USERNAME [--ref REF] [--dry-run] [--strict]``: restore a learning
package from a v1 or v2 zip file; takes openedx-core's ``lp_load`` arguments, so scripts can switch by
name."""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from ...restore_api import load
from ...text import escape_controls

__all__ = ["Command"]


class Command(BaseCommand):  # type: ignore[misc]
    """Restore a learning package (lc-archive's ``lp_load``)."""

    help = "Load a learning package from a zip file (v1 or v2), all or nothing."

    def add_arguments(self, parser: ArgumentParser) -> None:
        """``lp_load``'s arguments, plus ``--ref``, ``--dry-run`` and ``--strict``."""
        parser.add_argument("file_name", help="The path of the input zip file to load.")
        parser.add_argument("username", help="The username of the user performing the load operation.")
        parser.add_argument("--ref", default=None,
                            help="package_ref of the new package (default: a staged lp-restore:... ref)")
        parser.add_argument("--dry-run", action="store_true", help="Check the archive and report; write nothing")
        parser.add_argument("--strict", action="store_true", help="Refuse archives with warnings too")

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the restore; every failure is one ``CommandError`` listing every problem."""
        file_name, username = options["file_name"], options["username"]
        if not file_name.lower().endswith(".zip"):
            raise CommandError("Input file name must end with .zip")
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {escape_controls(username)!r}")
        started = time.perf_counter()
        outcome = load(file_name, options["ref"], user, dry_run=options["dry_run"], strict=options["strict"])
        result = outcome.result
        if result["status"] == "error":
            raise CommandError(result["log_file_error"].getvalue().rstrip("\n"))
        for warning in outcome.warnings:
            self.stderr.write(escape_controls(warning))
        data = result["lp_restored_data"]
        counts = ", ".join(f"{data[k]} {k[4:]}" for k in ("num_components", "num_units", "num_subsections",
                                                         "num_sections", "num_collections"))
        elapsed = time.perf_counter() - started
        ref = escape_controls(data["package_ref"])
        if options["dry_run"]:
            self.stdout.write(f"{file_name} is valid; it would be restored as {ref} ({counts}); nothing written")
            return
        self.stdout.write(self.style.SUCCESS(
            f"{file_name} loaded successfully as {ref} ({counts}; duration: {elapsed:.2f} seconds)"))
