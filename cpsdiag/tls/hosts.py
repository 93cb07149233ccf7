"""Is a host name or address well formed? (What ``--host`` and the host of ``--tls URL`` accept.)

Checked before any lookup, so that a typing error is named as such; whether
the name resolves is the network's answer, reported where it happens.
"""

from __future__ import annotations

import ipaddress

from cpsdiag.errors import UsageError
from cpsdiag.net.url import MAX_HOST_LENGTH, bad_label
from cpsdiag.printable import shown


def check_host(host: str) -> str:
    """``host`` unchanged when it is an IP address or a well-formed host name; else a UsageError saying why."""
    if not host:
        raise UsageError("an empty host name")
    if len(host) > MAX_HOST_LENGTH:
        raise UsageError(f"a host name of {len(host)} characters (at most {MAX_HOST_LENGTH})")
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    try:
        ascii_name = host.encode("idna").decode("ascii")      # an internationalised name in its DNS form
    except UnicodeError:
        raise UsageError(f"{shown(host)} is not a valid host name") from None
    bad = bad_label(ascii_name)
    if bad is not None:
        raise UsageError(f"{shown(host)} is not a valid host name (the part {shown(bad)})")
    return host
