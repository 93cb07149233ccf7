"""Typed exceptions raised inside cpsdiag.

Library code raises these; only the diagnosis pipeline (``cpsdiag.diag``) turns
them into findings with codes, so that the mapping lives in one place.
"""

from __future__ import annotations


class CpsdiagError(Exception):
    """Base class of every error cpsdiag raises on purpose."""


class MalformedDataError(CpsdiagError):
    """Bytes from a card, a file or the network do not have the expected shape.

    ``what`` names the structure being parsed (``"ATR"``, ``"EF.DIR"``...),
    ``where`` the place it came from (a file path, ``"card 3F00/2F00"``...),
    ``offset`` the byte offset of the problem when known.
    """

    def __init__(self, what: str, reason: str, *, where: str | None = None, offset: int | None = None):
        self.what = what
        self.reason = reason
        self.where = where
        self.offset = offset
        parts = [what]
        if where:
            parts.append(f"({where})")
        msg = " ".join(parts) + f": {reason}"
        if offset is not None:
            msg += f" at offset {offset}"
        super().__init__(msg)


class UsageError(CpsdiagError):
    """The user asked for something that cannot be done as asked (bad option value, bad file)."""


# -- PC/SC ---------------------------------------------------------------------

class PcscError(CpsdiagError):
    """A PC/SC call failed. ``hresult`` is the SCARD_* code, ``operation`` the call."""

    def __init__(self, operation: str, hresult: int, message: str = ""):
        self.operation = operation
        self.hresult = hresult & 0xFFFFFFFF
        self.message = f"{message or 'failed'} (0x{self.hresult:08X})"     # what went wrong, without the call
        super().__init__(f"{operation}: {self.message}")


class PcscLibraryMissing(PcscError):
    """The PC/SC client library (libpcsclite.so.1, winscard.dll, PCSC.framework) cannot be loaded."""

    def __init__(self, library: str, reason: str):
        self.library = library
        self.reason = reason
        CpsdiagError.__init__(self, f"cannot load {library}: {reason}")
        self.operation, self.hresult = "load", 0
        self.message = f"cannot load {library}: {reason}"


class PcscNoService(PcscError):
    """The PC/SC service (pcscd, SCardSvr) is not running or went away."""


class CardAbsent(PcscError):
    """No card in the reader."""


class CardRemoved(PcscError):
    """The card was pulled out (or reset by another program) while in use."""


class CardSharingViolation(PcscError):
    """Another program holds the card exclusively."""


class CardMute(PcscError):
    """The card does not answer (no ATR, unresponsive)."""


class ReaderUnavailable(PcscError):
    """The reader disappeared or cannot be used."""


# -- card ----------------------------------------------------------------------

class ApduError(CpsdiagError):
    """The card answered a command with a status word other than 90 00."""

    def __init__(self, command: str, sw: int, meaning: str | None = None):
        # ``meaning`` is the status word's description (cpsdiag.card.session.refused passes it): errors sits
        # below the codecs (cpsdiag.iso7816), which raise MalformedDataError, so it cannot look it up itself.
        self.command = command
        self.sw = sw
        super().__init__(f"{command}: card answered {sw:04X}" + (f" ({meaning})" if meaning else ""))


class CardProtocolError(CpsdiagError):
    """The card's answers do not follow the protocol (e.g. endless GET RESPONSE chains)."""


class PinIncorrect(CpsdiagError):
    """The card refused the PIN; ``tries_left`` more wrong PINs block it."""

    def __init__(self, tries_left: int):
        self.tries_left = tries_left
        super().__init__(f"wrong PIN, {tries_left} tries left")


class PinBlocked(CpsdiagError):
    """The PIN is blocked: the card accepts no PIN until it is unblocked."""

    def __init__(self) -> None:
        super().__init__("PIN blocked")


class Pkcs11Error(CpsdiagError):
    """A PKCS#11 module failed (cannot load, no token, refused an operation)."""

    def __init__(self, operation: str, message: str, code: int | None = None):
        self.operation = operation
        self.code = code
        super().__init__(f"{operation}: {message}")


# What a refused signature looks like, whether the card refused the APDU or the middleware the call.
SIGNATURE_REFUSED = (ApduError, Pkcs11Error)
