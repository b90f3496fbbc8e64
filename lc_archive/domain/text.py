"""The one text rule: what every supported store can hold, checked before anything is written.

SQLite keeps whatever it is given: a NUL inside text, a 10,000-character value in a ``VARCHAR(150)``.
PostgreSQL refuses both, at write time, in the middle of a restore. What ``validate`` accepts must
restore on every supported store, so the rule is the strictest of them, and it is checked in
validation, for every string of every document (keys and values, extension tables included, see
:func:`text_problem`), and for each stored field against its column's length (the ``MAX_*`` constants,
which the store's schema uses for its columns, so the two cannot drift apart).

* No NUL (U+0000): PostgreSQL's ``text`` and ``varchar`` cannot hold one.
* No lone surrogate (U+D800-U+DFFF): not Unicode text; neither store can encode it as UTF-8.
* At most the column's length, in characters (PostgreSQL's ``varchar(n)`` counts characters).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

__all__ = [
    "MAX_CODE",
    "MAX_DESCRIPTION",
    "MAX_MEDIA_TYPE",
    "MAX_MESSAGE",
    "MAX_TITLE",
    "MAX_TYPE_NAME",
    "MAX_USER",
    "check_store_text",
    "text_problem",
    "text_problems",
]

MAX_USER: Final = 150
"""A user name (``created_by``, ``published_by``): openedx-core's ``User.username`` is 150 characters."""
MAX_TITLE: Final = 500
"""A package, version or collection title."""
MAX_MESSAGE: Final = 500
"""A publish message."""
MAX_CODE: Final = 255
"""A component, container or collection code."""
MAX_TYPE_NAME: Final = 100
"""A component namespace or type."""
MAX_MEDIA_TYPE: Final = 255
"""A media file's media type."""
MAX_DESCRIPTION: Final = 10_000
"""A package or collection description (stored as unbounded text; the format caps it)."""


def text_problem(value: str) -> str | None:
    """Why a supported store cannot hold the text ``value`` (whatever its field), or None."""
    if "\x00" in value:
        return "holds a NUL character (U+0000), which PostgreSQL cannot store"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "holds a lone surrogate (not Unicode text), which no store can encode"
    return None


def check_store_text(value: str) -> str:
    """``value`` if every store can hold it (:func:`text_problem`), else ``ValueError`` saying why."""
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(f"must not hold that: it {problem}")
    return value


def text_problems(document: Any, path: str = "$") -> Iterator[tuple[str, str]]:
    """``(path, why)`` for every key and string of a parsed document (dicts, lists, scalars) that
    breaks :func:`text_problem`; iterative, so any nesting is fine."""
    stack: list[tuple[Any, str]] = [(document, path)]
    while stack:
        node, at = stack.pop()
        if isinstance(node, str):
            problem = text_problem(node)
            if problem is not None:
                yield at, problem
        elif isinstance(node, dict):
            for key, item in node.items():
                problem = text_problem(key) if isinstance(key, str) else None
                if problem is not None:
                    yield at, f"key {key!r} {problem}"
                stack.append((item, f"{at}.{key}"))
        elif isinstance(node, list):
            stack.extend((item, f"{at}[{i}]") for i, item in enumerate(node))
