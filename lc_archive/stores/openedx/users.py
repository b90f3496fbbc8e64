"""Authors of a restored package: archive user names matched to the site's Django users.

A name is matched by username first, then by e-mail (a name that is an e-mail address, or one the
archive gave an e-mail for); a name no user has (or an e-mail two users share) is recorded as no user
(``None``) and reported once as a warning. Users are never created.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["UserResolver"]

_BATCH = 500


class UserResolver:
    """Maps archive user names to user ids of one Django database, a batch of names at a time."""

    def __init__(self, using: str, emails: Mapping[str, str] | None = None) -> None:
        """``emails`` gives an e-mail address for some names (for example the archive's creator)."""
        self._using = using
        self._emails = dict(emails or {})
        self._ids: dict[str, int | None] = {}
        self.warnings: list[str] = []
        """One line per name that matched no user."""

    def resolve(self, names: Iterable[str | None]) -> None:
        """Look up every name not seen yet (a fixed number of queries per batch)."""
        todo = sorted({n for n in names if n and n not in self._ids})
        for start in range(0, len(todo), _BATCH):
            self._lookup(todo[start : start + _BATCH])

    def id_of(self, name: str | None) -> int | None:
        """The user id for ``name`` (resolving it now if needed), or None."""
        if not name:
            return None
        if name not in self._ids:
            self.resolve([name])
        return self._ids[name]

    def _lookup(self, names: list[str]) -> None:
        from django.contrib.auth import get_user_model

        users = get_user_model().objects.using(self._using)
        found = dict(users.filter(username__in=names).values_list("username", "id"))
        missing = [n for n in names if n not in found]
        by_email = {n: (self._emails.get(n) or (n if "@" in n else "")).lower() for n in missing}
        wanted = sorted({e for e in by_email.values() if e})
        owners: dict[str, list[int]] = {}
        if wanted:
            for email, uid in users.filter(email__in=wanted).values_list("email", "id"):
                owners.setdefault(email.lower(), []).append(uid)
        for n in names:
            if n in found:
                self._ids[n] = found[n]
                continue
            ids = owners.get(by_email[n], []) if by_email[n] else []
            if len(ids) == 1:
                self._ids[n] = ids[0]
                continue
            self._ids[n] = None
            why = "its e-mail belongs to several users" if len(ids) > 1 else "no user has that username or e-mail"
            self.warnings.append(f"user {n!r}: {why}; recorded as no user")
