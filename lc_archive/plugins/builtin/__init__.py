"""lc-archive's own serializers: component types, container types, collections and code libraries.

They are registered through the ``lc_archive.serializers`` entry-point group like any plugin's (see
:data:`lc_archive.plugins.entry_points.BUILTINS`); nothing imports these modules directly.
"""
