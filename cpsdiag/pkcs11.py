"""The middleware path: the card's keys through a PKCS#11 module (ANS's Cryptolib CPS, OpenSC).

This is how browsers use the card, so a key test or a TLS probe through it
shows what a browser would meet. PyKCS11 is an optional dependency
(``pip install cpsdiag[pkcs11]``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cpsdiag import errors
from cpsdiag.errors import Pkcs11Error

CKR_PIN_INCORRECT = 0xA0
CKR_PIN_LOCKED = 0xA4
CKR_USER_ALREADY_LOGGED_IN = 0x100
CKF_USER_PIN_COUNT_LOW = 0x10000
CKF_USER_PIN_FINAL_TRY = 0x20000
CKF_USER_PIN_LOCKED = 0x40000


@dataclass(frozen=True)
class ModuleInfo:
    path: str
    manufacturer: str
    description: str
    version: str
    token_label: str
    token_serial: str
    token_flags: int


def _lib() -> Any:
    try:
        import PyKCS11
    except ImportError:
        raise Pkcs11Error("import", "PyKCS11 is not installed (pip install 'cpsdiag[pkcs11]')") from None
    return PyKCS11


class Pkcs11KeyOps:
    """KeyOps through a PKCS#11 module; one session on the slot holding the card."""

    def __init__(self, module: Path, card_number: str | None = None, key_ids: dict[str, bytes] | None = None):
        p = _lib()
        self.p = p
        self.lib = p.PyKCS11Lib()
        try:
            self.lib.load(str(module))
        except p.PyKCS11Error as exc:
            raise Pkcs11Error("C_Initialize", f"cannot load {module}: {exc}") from None
        slots = self.lib.getSlotList(tokenPresent=True)
        if not slots:
            raise Pkcs11Error("C_GetSlotList", f"{module} sees no token")
        # With several tokens, the one whose serial carries the card number.
        self.slot = slots[0]
        for slot in slots:
            serial = self.lib.getTokenInfo(slot).serialNumber.strip()
            if card_number and card_number in serial:
                self.slot = slot
                break
        info = self.lib.getInfo()
        token = self.lib.getTokenInfo(self.slot)
        self.info = ModuleInfo(str(module), info.manufacturerID.strip(), info.libraryDescription.strip(),
                               "%d.%d" % info.libraryVersion, token.label.strip(), token.serialNumber.strip(),
                               token.flags)
        self.session = self.lib.openSession(self.slot, p.CKF_SERIAL_SESSION)
        mechanisms = set(self.lib.getMechanismList(self.slot))
        self.schemes = tuple(s for s, m in (("pkcs1", "CKM_RSA_PKCS"), ("pss", "CKM_RSA_PKCS_PSS")) if m in mechanisms)
        self.key_ids = key_ids or {}
        self._handles: dict[str, Any] = {}

    def login(self, pin: bytes) -> None:
        p = self.p
        try:
            self.session.login(pin.decode("ascii"))
        except p.PyKCS11Error as exc:
            if exc.value == CKR_PIN_INCORRECT:
                raise errors.PinIncorrect(-1) from None     # tries left: the caller re-reads the counter
            if exc.value == CKR_PIN_LOCKED:
                raise errors.PinBlocked() from None
            if exc.value == CKR_USER_ALREADY_LOGGED_IN:
                return
            raise Pkcs11Error("C_Login", str(exc), exc.value) from None

    def _key(self, role: str) -> Any:
        if role not in self._handles:
            p = self.p
            template = [(p.CKA_CLASS, p.CKO_PRIVATE_KEY)]
            if role in self.key_ids:
                template.append((p.CKA_ID, tuple(self.key_ids[role])))
            found = self.session.findObjects(template)
            if not found:
                raise Pkcs11Error("C_FindObjects", f"no private key for the {role} certificate")
            self._handles[role] = found[0]
        return self._handles[role]

    def _sign(self, role: str, data: bytes, mechanism: Any) -> bytes:
        try:
            return bytes(self.session.sign(self._key(role), data, mechanism))
        except self.p.PyKCS11Error as exc:
            raise Pkcs11Error("C_Sign", str(exc), exc.value) from None

    def sign_pkcs1(self, role: str, digest_info: bytes) -> bytes:
        return self._sign(role, digest_info, self.p.Mechanism(self.p.CKM_RSA_PKCS, None))

    def sign_pss(self, role: str, hash_name: str, digest: bytes) -> bytes:
        from cpsdiag.card.signing import CannotSign

        p = self.p
        if "pss" not in self.schemes or hash_name not in ("sha256", "sha384", "sha512"):
            raise CannotSign(f"rsa_pss_{hash_name}")
        ckm = {"sha256": (p.CKM_SHA256, p.CKG_MGF1_SHA256), "sha384": (p.CKM_SHA384, p.CKG_MGF1_SHA384),
               "sha512": (p.CKM_SHA512, p.CKG_MGF1_SHA512)}[hash_name]
        mechanism = p.RSA_PSS_Mechanism(p.CKM_RSA_PKCS_PSS, ckm[0], ckm[1], len(digest))
        return self._sign(role, digest, mechanism)

    def sign_message(self, role: str, message: bytes) -> bytes:
        return self._sign(role, message, self.p.Mechanism(self.p.CKM_SHA256_RSA_PKCS, None))

    def read_data(self, file: Any) -> bytes:
        """A data object's CKA_VALUE, found by its DODF label (``file``: cpsdiag.card.reader.DataObjectFile)."""
        p = self.p
        label = file.object.label
        try:
            found = self.session.findObjects([(p.CKA_CLASS, p.CKO_DATA), (p.CKA_LABEL, label)])
            if not found:
                raise Pkcs11Error("C_FindObjects", f"no data object labelled {label}")
            return bytes(self.session.getAttributeValue(found[0], [p.CKA_VALUE], allAsBinary=True)[0])
        except p.PyKCS11Error as exc:
            raise Pkcs11Error("C_GetAttributeValue", f"{label}: {exc}", exc.value) from None

    def close(self) -> None:
        try:
            self.session.logout()
        except Exception:  # not logged in, or the module already gone: nothing to undo
            pass
        self.session.closeSession()
