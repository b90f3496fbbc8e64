"""Timestamps: UTC, ISO 8601 with ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["iso", "to_utc"]


def iso(when: datetime) -> str:
    """A UTC timestamp as ISO 8601 with ``Z`` (microseconds only when non-zero)."""
    return when.isoformat().replace("+00:00", "Z")


def to_utc(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC (as openedx-core's reader does); aware ones are converted.

    ``ValueError`` (a validation error, not a crash) when the converted time falls outside years
    1-9999, e.g. ``0001-01-01T00:00:00+01:00``.
    """
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"date-time {value.isoformat()} is out of range once converted to UTC") from None
