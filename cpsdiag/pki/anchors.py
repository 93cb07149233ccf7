"""The CA certificates bundled with cpsdiag, pinned by SHA-256.

Every ``anchors/*.pem`` file must appear in :data:`PINS` with the fingerprint
recorded when the certificate was checked (shared/pki/README.md: the same
bytes were found in two independent ANS publications). A changed or extra
file is an :class:`AnchorIntegrityError`, never a silently trusted CA.

Parsing is lazy: nothing is read until :func:`bundled_anchors` is called.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Final, Iterable, Literal, Mapping

from cpsdiag.errors import MalformedDataError, UsageError

if TYPE_CHECKING:
    from cpsdiag.pki.certinfo import CertInfo

AnchorRole = Literal["root", "intermediate"]
Environment = Literal["production", "test", "legacy"]


class AnchorIntegrityError(MalformedDataError):
    """A bundled anchor file does not match its pin (tampered, replaced, corrupted or unpinned)."""


@dataclass(frozen=True, slots=True)
class Pin:
    filename: str
    short_name: str
    name: str
    sha256: str
    role: AnchorRole
    environment: Environment


# Fingerprints: shared/pki/README.md, openssl x509 -fingerprint -sha256 on each file.
PINS: Final[Mapping[str, Pin]] = {
    p.filename: p
    for p in (
        Pin("acr-el.pem", "ACR-EL", "AC RACINE IGC-SANTE ELEMENTAIRE",
            "2D:9E:22:CA:19:F7:77:C6:B7:45:25:7C:72:3E:CB:8D:F3:C3:5F:A6:F1:F6:EC:36:B8:36:00:C9:73:46:96:7F",
            "root", "production"),
        Pin("acr-st.pem", "ACR-ST", "AC RACINE IGC-SANTE STANDARD",
            "58:91:81:5E:86:45:06:C6:62:AF:B3:2F:8D:E5:B8:DE:38:BF:FA:1A:F7:21:78:0B:69:E1:9A:0C:05:03:86:C3",
            "root", "production"),
        Pin("acr-fo.pem", "ACR-FO", "AC RACINE IGC-SANTE FORT",
            "53:D3:0A:19:57:08:26:BD:E0:C0:76:25:01:F1:F1:C7:A6:59:F9:76:C6:C0:23:12:3D:F5:23:9D:F3:4A:4E:EA",
            "root", "production"),
        Pin("aci-el-pp.pem", "ACI-EL-PP", "AC IGC-SANTE ELEMENTAIRE PERSONNES",
            "19:C1:EA:EA:B4:77:B6:FB:C2:33:CD:A3:B5:3F:BD:BC:3F:4E:9B:F6:CF:69:73:E4:6F:7D:FA:EF:89:C0:6C:6C",
            "intermediate", "production"),
        Pin("aci-el-org.pem", "ACI-EL-ORG", "AC IGC-SANTE ELEMENTAIRE ORGANISATIONS",
            "D8:34:EE:5B:40:68:6B:73:57:3F:60:54:7B:F6:05:2C:6D:40:4D:94:2A:56:65:CD:B2:C0:B9:13:7B:5D:27:B2",
            "intermediate", "production"),
        Pin("aci-st-pp.pem", "ACI-ST-PP", "AC IGC-SANTE STANDARD PERSONNES",
            "6C:33:9E:BC:B3:E1:B0:10:2B:14:3C:96:94:22:5C:2A:4A:B2:EF:6F:ED:F7:D3:64:DA:8D:B3:05:E7:F7:D9:97",
            "intermediate", "production"),
        Pin("aci-st-org.pem", "ACI-ST-ORG", "AC IGC-SANTE STANDARD ORGANISATIONS",
            "C0:52:0A:2B:14:FB:68:83:6A:80:7B:F8:6A:B2:B3:E0:7D:1B:60:61:D9:1B:C9:C7:B8:6A:6F:8D:E4:B5:63:8E",
            "intermediate", "production"),
        Pin("aci-fo-pp.pem", "ACI-FO-PP", "AC IGC-SANTE FORT PERSONNES",
            "38:28:4E:4F:61:07:45:6E:70:C7:43:9C:85:DA:7D:56:4D:0F:E1:FE:1A:96:8C:9E:B6:D4:3E:1F:C0:D6:3C:3A",
            "intermediate", "production"),
        Pin("aci-fo-org.pem", "ACI-FO-ORG", "AC IGC-SANTE FORT ORGANISATIONS",
            "23:F6:96:74:00:2D:1D:D4:B0:18:BA:EC:D9:08:DC:92:68:79:42:BB:48:E5:14:0F:F8:95:E2:F5:6B:C4:9C:0D",
            "intermediate", "production"),
        Pin("acr-el-test.pem", "ACR-EL-TEST", "TEST AC RACINE IGC-SANTE ELEMENTAIRE",
            "01:32:5A:EB:19:38:71:EE:C9:0F:A8:95:56:80:4E:41:85:CB:36:2E:0C:A8:7A:3D:79:93:9C:71:18:6D:A8:05",
            "root", "test"),
        Pin("aci-el-org-test.pem", "ACI-EL-ORG-TEST", "TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS",
            "DC:52:8E:37:88:69:1B:3F:79:50:16:40:76:F9:5B:02:C6:43:34:C6:86:62:BD:ED:E5:75:0B:4E:0E:53:38:F6",
            "intermediate", "test"),
        # Historical only (expired 2014); kept so that a legacy issuer can be named, never trusted by default.
        Pin("gip-cps-anonyme.pem", "GIP-CPS-ANONYME", "GIP-CPS ANONYME",
            "14:8F:E9:68:85:08:BF:F7:A2:FC:15:74:39:99:DC:B0:AC:48:F1:3B:49:A9:91:97:AC:7A:6E:80:65:BC:67:F2",
            "root", "legacy"),
    )
}


@dataclass(frozen=True)
class Anchor:
    """A bundled CA certificate whose bytes matched their pin."""

    pin: Pin
    info: CertInfo = field(repr=False)

    @property
    def name(self) -> str:
        return self.pin.name

    @property
    def short_name(self) -> str:
        return self.pin.short_name

    @property
    def role(self) -> AnchorRole:
        return self.pin.role

    @property
    def environment(self) -> Environment:
        return self.pin.environment


def _normalise_fingerprint(text: str) -> str:
    return text.replace(":", "").replace(" ", "").upper()


def load_anchor_files(files: Iterable[tuple[str, bytes]], pins: Mapping[str, Pin] = PINS) -> tuple[Anchor, ...]:
    """Check each ``(filename, bytes)`` against ``pins`` and parse it.

    Raises :class:`AnchorIntegrityError` on an unpinned file, a missing pinned
    file, a fingerprint mismatch or a certificate whose name differs from its pin.
    """
    from cpsdiag.pki.certinfo import parse_certificate

    seen: dict[str, Anchor] = {}
    for filename, data in files:
        where = f"bundled anchor {filename}"
        pin = pins.get(filename)
        if pin is None:
            raise AnchorIntegrityError("bundled anchor", "file is not pinned", where=where)
        info = parse_certificate(data, where=where)
        # Pin the DER, not the file: PEM line wrapping or a trailing newline must not matter, one changed bit must.
        actual = _normalise_fingerprint(hashlib.sha256(info.der).hexdigest())
        if actual != _normalise_fingerprint(pin.sha256):
            raise AnchorIntegrityError(
                "bundled anchor",
                f"SHA-256 {actual} does not match the pinned {_normalise_fingerprint(pin.sha256)}",
                where=where,
            )
        if info.subject_display != pin.name:
            raise AnchorIntegrityError(
                "bundled anchor", f"subject {info.subject_display!r} where {pin.name!r} was pinned", where=where
            )
        seen[filename] = Anchor(pin=pin, info=info)
    missing = sorted(set(pins) - set(seen))
    if missing:
        raise AnchorIntegrityError("bundled anchors", f"pinned files missing: {', '.join(missing)}")
    # Keep the pin table's order: roots first, then intermediates, production before test.
    return tuple(seen[name] for name in pins)


def _read_directory(directory: Path | None) -> list[tuple[str, bytes]]:
    if directory is not None:
        return [(p.name, p.read_bytes()) for p in sorted(directory.glob("*.pem"))]
    root = resources.files("cpsdiag.pki").joinpath("anchors")
    return [(entry.name, entry.read_bytes()) for entry in sorted(root.iterdir(), key=lambda e: e.name)
            if entry.name.endswith(".pem")]


@lru_cache(maxsize=1)
def _bundled() -> tuple[Anchor, ...]:
    return load_anchor_files(_read_directory(None))


def bundled_anchors(directory: Path | None = None) -> tuple[Anchor, ...]:
    """All bundled anchors, checked against :data:`PINS`; ``directory`` overrides the package copy (tests)."""
    if directory is None:
        return _bundled()
    return load_anchor_files(_read_directory(directory))


def production_anchors() -> tuple[Anchor, ...]:
    """The IGC-Santé production roots and intermediates: cpsdiag's default trust store."""
    return tuple(a for a in _bundled() if a.environment == "production")


def igc_sante_test_anchors() -> tuple[Anchor, ...]:
    """The IGC-Santé TEST CAs that are public (ELEMENTAIRE root and ORGANISATIONS intermediate only)."""
    return tuple(a for a in _bundled() if a.environment == "test")


def anchor_by_name(name: str) -> Anchor | None:
    """The bundled anchor whose CN (or ANS short name, e.g. ``"ACR-FO"``) is ``name``."""
    wanted = name.strip().upper()
    return next((a for a in _bundled() if a.name.upper() == wanted or a.short_name == wanted), None)


def load_extra_anchors(paths: Iterable[Path]) -> list[CertInfo]:
    """The certificates of the ``--anchors`` files, trusted as given (no pin); a bad file is a UsageError."""
    from cpsdiag.pki.certinfo import read_certificate_file

    out: list[CertInfo] = []
    for path in paths:
        try:
            out.extend(read_certificate_file(path))
        except (UsageError, MalformedDataError) as exc:
            raise UsageError(f"--anchors {exc}") from None
    return out
