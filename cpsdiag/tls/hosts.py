"""Is a host name or address well formed? (What ``--host`` and the host of ``--tls URL`` accept.)

Checked before any lookup, so that a typing error is named as such; whether
the name resolves is the network's answer, reported where it happens.
"""

from __future__ import annotations

import ipaddress
import re

from cpsdiag.errors import UsageError
from cpsdiag.printable import shown

MAX_HOST_LENGTH = 253                     # RFC 1035: a full domain name in text form
_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")


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
    labels = ascii_name.rstrip(".").split(".")
    bad = next((label for label in labels if not _LABEL.fullmatch(label)), None)
    if bad is not None:
        raise UsageError(f"{shown(host)} is not a valid host name (the part {shown(bad)})")
    return host
