"""The plugin framework: what a serializer is, where serializers come from, and plugin data.

* :mod:`.contract`: the serializer contract (component, container, collection and plugin serializers);
* :mod:`.registry` and :mod:`.entry_points`: every serializer by id, loaded from the
  ``lc_archive.serializers`` entry points (lc-archive's own included), broken plugins recorded;
* :mod:`.checks`: the second validation layer, each entity checked by its type's serializer;
* :mod:`.payloads` and :mod:`.payload_members`: plugin payloads (the JSON envelope, checks, upgrades)
  and where they travel in archives;
* :mod:`.builtin`: lc-archive's own serializers (reached only through the entry points).

Plugin authors import the contract from here: ``from lc_archive.plugins import PluginSerializer``.
"""

from .contract import (
    CollectionSerializer,
    ComponentSerializer,
    ComponentVersionView,
    ContainerSerializer,
    Issue,
    PayloadScope,
    PayloadTarget,
    PluginSerializer,
    Serializer,
    VersionCheck,
)

__all__ = [
    "CollectionSerializer",
    "ComponentSerializer",
    "ComponentVersionView",
    "ContainerSerializer",
    "Issue",
    "PayloadScope",
    "PayloadTarget",
    "PluginSerializer",
    "Serializer",
    "VersionCheck",
]
