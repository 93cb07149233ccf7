"""The probed areas of the workstation, one module each (facts, probe, judging rules, rows, ``AREA``).

``cpsdiag.env.facts.AREAS`` lists them in order; ``cpsdiag.env.area`` says
what an area is. Shared probe helpers sit beside them in ``cpsdiag.env``:
``pkcs11`` (a PKCS#11 module's facts, kind, claims and loading), ``usb`` (the
USB bus and driver bundles), ``packages`` (package databases and versions).
"""
