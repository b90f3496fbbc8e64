"""lc-archive's Django app for openedx-core sites (the ``openedx`` extra): add ``"lc_archive.openedx"``
to ``INSTALLED_APPS`` for the management commands; :mod:`lc_archive.openedx.api` is the drop-in for
openedx-core's backup/restore API that Studio calls. See docs/openedx.md.
"""
