"""Card profiles: a folder with ``card.toml`` and PEM files describing one virtual card.

The format is documented in docs/emulator.md. Every mistake in a profile is
reported as a ProfileError naming the file and the field, because profiles are
written by people outside the project too.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .carddata import DEFAULT_CPS_DATA_SIZE, CardData, default_situations, parse_data
from .errors import ProfileError as ProfileError
from .faults import Faults, parse_faults
from .generations import GENERATIONS
from .profilefiles import profile_file, read_toml, shipped_names

ATRS = {
    ("CPS3", "contact"): bytes.fromhex("3BAC00402A001225006480000310009000"),
    ("CPS3", "contactless"): bytes.fromhex("3B8F800100 31B86404B0ECC173940180829000 0E".replace(" ", "")),
    ("CPS4", "contact"): bytes.fromhex("3BDC18FF0000122500648000040100 9000".replace(" ", "")),
}

# Key sizes each generation can hold (CPS3 declares 512/1024/2048, CPS4 is RSA-2048 only).
KEY_SIZES = {"CPS3": (1024, 2048), "CPS4": (2048,)}

TOP_KEYS = {"generation", "interface", "atr", "card_number", "pin", "puk", "pin_tries_left", "pin_max_tries",
            "auth", "signature", "faults", "holder", "description", "anchors", "data"}
KEYPAIR_KEYS = {"certificate", "key"}


@dataclass(frozen=True)
class KeyPair:
    certificate: bytes          # DER
    key: Any                    # cryptography RSAPrivateKey
    certificate_file: Path
    key_file: Path


@dataclass(frozen=True)
class Profile:
    name: str
    folder: Path
    generation: str
    interface: str
    atr: bytes
    card_number: str
    pin: str
    puk: str
    pin_tries_left: int
    pin_max_tries: int
    auth: KeyPair
    signature: KeyPair | None
    faults: Faults = field(default_factory=Faults)
    description: str = ""
    anchors: Path | None = None     # the CA certificates that issued the card's certificates, if the profile says
    data: CardData = field(default_factory=lambda: CardData(default_situations({}), bytes(DEFAULT_CPS_DATA_SIZE)))


def search_path() -> list[Path]:
    """Folders of profiles of the user's own, from CPSDIAG_CARDS (os.pathsep-separated)."""
    return [Path(p) for p in os.environ.get("CPSDIAG_CARDS", "").split(os.pathsep) if p]


def resolve(name_or_path: str) -> Path:
    """A profile folder from a path, or a bare name looked up in CPSDIAG_CARDS then in the shipped profiles.

    A shipped profile resolves to its copy in today's cached test PKI, which holds its certificates.
    """
    candidate = Path(name_or_path)
    if candidate.is_file() and candidate.name == "card.toml":
        return candidate.parent
    if candidate.is_dir() or os.sep in name_or_path or name_or_path.startswith("."):
        if not (candidate / "card.toml").is_file():
            raise ProfileError(candidate / "card.toml", None, "no such profile file")
        return candidate
    for base in search_path():
        if (base / name_or_path / "card.toml").is_file():
            return base / name_or_path
    if name_or_path in shipped_names():
        from .pkigen import cached_pki

        return cached_pki().cards / name_or_path
    known = sorted({p.parent.name for base in search_path() for p in base.glob("*/card.toml")} | set(shipped_names()))
    raise ProfileError(name_or_path, None, "unknown profile name; known: " + (", ".join(known) or "none"))


def _require(doc: dict[str, Any], key: str, kind: type, file: Path) -> Any:
    if key not in doc:
        raise ProfileError(file, key, "missing")
    value = doc[key]
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        raise ProfileError(file, key, f"must be a {kind.__name__}, got {type(value).__name__}")
    return value


def _digits(doc: dict[str, Any], key: str, file: Path, lo: int, hi: int) -> str:
    value = doc.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not re.fullmatch(rf"[0-9]{{{lo},{hi}}}", value):
        raise ProfileError(file, key, f"must be a string of {lo} to {hi} digits")
    return value


def _keypair(doc: dict[str, Any], section: str, folder: Path, generation: str) -> KeyPair:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    file = folder / "card.toml"
    table = doc.get(section)
    if not isinstance(table, dict):
        raise ProfileError(file, section, "missing table (certificate and key file names)")
    for key in table:
        if key not in KEYPAIR_KEYS:
            raise ProfileError(file, f"{section}.{key}", "unknown key (expected 'certificate' and 'key')")
    cert_file, key_file = (profile_file(folder, table.get(key), file, f"{section}.{key}")
                           for key in ("certificate", "key"))
    try:
        cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    except ValueError as exc:
        raise ProfileError(cert_file, f"{section}.certificate", f"not a PEM certificate ({exc})") from None
    try:
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise ProfileError(key_file, f"{section}.key", f"not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ProfileError(key_file, f"{section}.key", "not an RSA key (CPS cards hold RSA keys)")
    if key.key_size not in KEY_SIZES[generation]:
        raise ProfileError(key_file, f"{section}.key",
                           f"RSA-{key.key_size} cannot live on a {generation} (allowed: {KEY_SIZES[generation]})")
    cert_key = cert.public_key()
    if not isinstance(cert_key, rsa.RSAPublicKey) or cert_key.public_numbers() != key.public_key().public_numbers():
        raise ProfileError(cert_file, f"{section}.certificate", f"public key does not match the private key in {key_file.name}")
    return KeyPair(cert.public_bytes(serialization.Encoding.DER), key, cert_file, key_file)


def load(name_or_path: str) -> Profile:
    folder = resolve(name_or_path)
    return load_folder(folder)


def load_folder(folder: Path) -> Profile:
    file = folder / "card.toml"
    doc = read_toml(folder)
    for key in doc:
        if key not in TOP_KEYS:
            raise ProfileError(file, key, "unknown key")
    generation = _require(doc, "generation", str, file)
    if generation not in GENERATIONS:
        raise ProfileError(file, "generation", "must be " + " or ".join(f'"{g}"' for g in GENERATIONS))
    interface = doc.get("interface", "contact")
    if interface not in ("contact", "contactless"):
        raise ProfileError(file, "interface", "must be \"contact\" or \"contactless\"")
    if interface == "contactless" and not GENERATIONS[generation].contactless:
        raise ProfileError(file, "interface", "only a CPS3 has a contactless (ISO 14443) interface to emulate")
    if "atr" in doc:
        text = doc["atr"]
        if not isinstance(text, str):
            raise ProfileError(file, "atr", "must be a hex string")
        try:
            atr = bytes.fromhex(text.replace(" ", "").replace(":", ""))
        except ValueError:
            raise ProfileError(file, "atr", "not hexadecimal") from None
        if not 2 <= len(atr) <= 33 or atr[0] not in (0x3B, 0x3F):
            raise ProfileError(file, "atr", "an ATR is 2 to 33 bytes starting with 3B or 3F")
    else:
        atr = ATRS[(generation, interface)]
    # Real cards have 10-digit numbers (EF.SN.ICC then holds 8 of them, layout.ef_sn_icc); up to 9 digits
    # fit in EF.SN.ICC whole, with the issuer prefix and the Luhn digit.
    card_number = _digits(doc, "card_number", file, 1, 10)
    if interface == "contactless":
        pin = _digits(doc, "pin", file, 4, 8) if "pin" in doc else ""
    else:
        pin = _digits(doc, "pin", file, 4, 8)
    puk = _digits(doc, "puk", file, 4, 16) if "puk" in doc else "12345678"
    max_tries = doc.get("pin_max_tries", 3)
    tries = doc.get("pin_tries_left", max_tries)
    for key, value in (("pin_max_tries", max_tries), ("pin_tries_left", tries)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise ProfileError(file, key, "must be an integer")
    if not 1 <= max_tries <= 15:
        raise ProfileError(file, "pin_max_tries", "must be between 1 and 15 (the counter is one nibble)")
    if not 0 <= tries <= max_tries:
        raise ProfileError(file, "pin_tries_left", f"must be between 0 and pin_max_tries ({max_tries})")
    faults = parse_faults(doc.get("faults", {}), file)
    description = doc.get("description", "")
    if not isinstance(description, str):
        raise ProfileError(file, "description", "must be a string")
    anchors = profile_file(folder, doc["anchors"], file, "anchors") if "anchors" in doc else None
    from .objectnames import labels

    contactless = interface == "contactless"
    data = parse_data(doc, file, lambda n: labels(GENERATIONS[generation], contactless, n),
                      with_situations=not contactless)
    auth = _keypair(doc, "auth", folder, generation)
    signature = None
    if interface == "contact":
        signature = _keypair(doc, "signature", folder, generation)
    elif "signature" in doc:
        raise ProfileError(file, "signature", "a contactless CPS3 carries only its technical authentication key")
    return Profile(
        name=folder.name, folder=folder, generation=generation, interface=interface, atr=atr,
        card_number=card_number, pin=pin, puk=puk, pin_tries_left=tries, pin_max_tries=max_tries,
        auth=auth, signature=signature, faults=faults, description=description, anchors=anchors, data=data,
    )
