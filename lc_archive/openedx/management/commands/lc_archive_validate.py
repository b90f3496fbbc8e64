"""``manage.py lc_archive_validate FILE``: check a v1 or v2 archive completely (structure, every document,
every reference, media hashes) without writing anything; lists every problem. It accepts what
``lc_archive_load`` accepts: warnings (content openedx-core accepts but that is likely broken, such as
OLX naming a static file the version lacks) are listed, and fail it only with ``--strict``."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ....errors import ArchiveInvalid, LcArchiveError
from ....usecases.validate import validate
from ...text import escape_controls

__all__ = ["Command"]


class Command(BaseCommand):  # type: ignore[misc]
    """Validate an archive (no database access)."""

    help = "Check a learning package zip file (v1 or v2) without restoring it."

    def add_arguments(self, parser: ArgumentParser) -> None:
        """The archive, and ``--strict``."""
        parser.add_argument("file_name", help="The path of the zip file to check.")
        parser.add_argument("--strict", action="store_true", help="Fail on warnings too")

    def handle(self, *args: Any, **options: Any) -> None:
        """Validate; every problem on its own line, escaped."""
        file_name = options["file_name"]
        try:
            summary = validate(file_name, strict=options["strict"])
        except ArchiveInvalid as exc:
            lines = [escape_controls(str(p)) for p in exc.problems]
            raise CommandError(f"{len(lines)} problem(s) in {file_name}:\n" + "\n".join(lines)) from exc
        except (LcArchiveError, OSError) as exc:
            raise CommandError(f"{file_name}: {escape_controls(str(exc))}") from exc
        for warning in summary.warnings:
            self.stderr.write(escape_controls(str(warning)))
        types = ", ".join(f"{n} {escape_controls(t)}" for t, n in summary.types.items())
        self.stdout.write(self.style.SUCCESS(
            f"{file_name} is valid: {summary.format} format {summary.format_version}, package "
            f"{escape_controls(summary.package_ref)} ({types or 'empty'}; {summary.collections} collections)"))
