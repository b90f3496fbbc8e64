"""The use cases, each a function with a typed result (``as_dict()`` gives the ``--json`` form):

* :mod:`.backup` (:func:`~.backup.backup` -> ``BackupResult``), :mod:`.restore` (``RestoreResult``),
  :mod:`.validate` (``validate``/``verify`` -> ``ArchiveSummary``, ``inspect`` -> ``InspectResult``),
  :mod:`.convert` (``ConvertResult``), :mod:`.diff` (``DiffResult``);
* :mod:`.selection` (selective backup), :mod:`.state` (canonical content state),
  :mod:`.scratch` (an archive restored into a throw-away store, for convert and diff).

The package is not called ``restore``/``backup`` so that ``from lc_archive import restore`` gives the
function (see the facade, :mod:`lc_archive`).
"""
