"""Findings: the model (``model.py``: code, severity, step, parameters) and the catalogue of their texts.

Below both ``cpsdiag.diag`` (the card, the keys, the TLS probe) and
``cpsdiag.env`` (the workstation), which emit findings; above nothing but
``cpsdiag.i18n``. ``catalog.py`` holds every code's English templates
(``workstation.py`` the workstation's, kept apart for size), translated by
gettext when a finding is rendered.
"""
