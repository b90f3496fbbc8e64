"""``manage.py lc_archive_dump PACKAGE_REF FILE [--format v1|v2] [--username U] [--origin-server S]``:
back a learning package up to a ZIP file; takes openedx-core's ``lp_dump`` arguments too."""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from ....errors import LcArchiveError
from ...api import create_zip_file
from ...settings import FORMATS

__all__ = ["Command"]


class Command(BaseCommand):  # type: ignore[misc]
    """Back a learning package up (lc-archive's ``lp_dump``)."""

    help = "Back a learning package up to a zip file (v2 by default: every version; v1: openedx-core's format)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        """``lp_dump``'s arguments, plus ``--format``."""
        parser.add_argument("package_ref", help="The package_ref of the learning package to back up")
        parser.add_argument("file_name", help="The output zip file (replaced only once complete)")
        parser.add_argument("--username", default=None, help="The user recorded as the archive's creator")
        parser.add_argument("--origin-server", "--origin_server", dest="origin_server", default=None,
                            help="The server recorded as the archive's origin")
        parser.add_argument("--format", choices=FORMATS, default=None,
                            help="Archive format (default: settings.LC_ARCHIVE_FORMAT, else v2)")

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the backup; every failure is one ``CommandError`` line."""
        ref, file_name = options["package_ref"], options["file_name"]
        if not file_name.lower().endswith(".zip"):
            raise CommandError("Output file name must end with .zip")
        user = None
        if options["username"]:
            user = get_user_model().objects.filter(username=options["username"]).first()
            if user is None:
                raise CommandError(f"no user {options['username']!r}")
        started = time.perf_counter()
        try:
            create_zip_file(ref, file_name, user=user, origin_server=options["origin_server"], format=options["format"])
        except LcArchiveError as exc:
            raise CommandError(f"Failed to back up learning package {ref!r}: {exc}") from exc
        elapsed = time.perf_counter() - started
        self.stdout.write(self.style.SUCCESS(f"{ref} written to {file_name} ({elapsed:.2f} seconds)"))
