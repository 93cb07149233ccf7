"""Certificate layer: card certificate parsing, IGC-Santé code tables, bundled anchors, chain validation.

Modules: ``codes`` (tables), ``extensions`` (private extensions), ``holder`` and
``issuer`` (names), ``certinfo`` (``parse_certificate``, ``load_certificates``),
``anchors`` (pinned bundled CAs), ``chain`` (``validate_chain``). Nothing is
imported here, so that importing one module stays cheap.
"""
