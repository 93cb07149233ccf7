"""Helpers shared by test modules of every folder (running cpsdiag, report documents, prerequisites...).

Nothing here is imported on its own: scripts/test-install copies ``stop.py`` alone (with this file and
tests/__init__.py) into the project it runs as an unprivileged user.
"""
