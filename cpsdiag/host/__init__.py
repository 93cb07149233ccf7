"""The system seam: the machine cpsdiag runs on, as an injectable ``System`` (files, commands, platform, registry).

``system.py`` is the seam, ``registry.py`` the Windows registry behind it,
``layout.py`` the fake Linux, macOS and Windows layouts tests run on. Both
``cpsdiag.env`` (the workstation inventory) and ``cpsdiag.net`` (proxy
settings) read the system through it, so it sits below both.
"""
