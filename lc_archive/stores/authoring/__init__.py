"""A small authoring API over the SQL store, with openedx-core semantics (see :mod:`.author`)."""

from ...errors import AuthoringError
from .author import Author, Transactional, open_author
from .session import Child, Clock

__all__ = ["Author", "AuthoringError", "Child", "Clock", "Transactional", "open_author"]
