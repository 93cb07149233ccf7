"""Read a CPS card the way the middleware does, with no hard-coded certificate file ids.

EF.SN.ICC, then EF.DIR to the PKCS#15 application, its ODF, then the AODF,
PrKDF and CDF, then the certificate files the CDF names, the DODF and the size
of each data object it lists (from the file's FCP: their contents are not read
here, the private ones need the PIN), and finally the PIN counter (without
spending a try). Problems with one file are recorded and the reading goes on;
a card that goes away (PC/SC errors) ends it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Callable, TypeVar

from cpsdiag.card import pkcs15
from cpsdiag.card.efsn import CardSerial, parse_ef_sn
from cpsdiag.card.pin import PinStatus
from cpsdiag.card.commands import CardCommands
from cpsdiag.errors import ApduError, CardProtocolError, MalformedDataError
from cpsdiag.iso7816.sw import SW

PKCS15_AIDS = (bytes.fromhex("E828BD080F8025000001FF0010"), bytes.fromhex("E828BD080F8025000001FF0020"))
SFI_EF_SN, SFI_EF_DIR = 0x1C, 0x1E


@dataclass(frozen=True)
class ReadProblem:
    step: str                  # "serial", "dir", "odf", "aodf", "prkdf", "cdf", "certificate", "dodf", "data", "pin"
    target: str                # the file or object concerned
    error: Exception


@dataclass
class CertificateFile:
    object: pkcs15.CertificateObject
    der: bytes | None


@dataclass
class DataObjectFile:
    object: pkcs15.DataObject
    path: bytes                # absolute
    size: int | None           # from the file's FCP; None when it could not be selected


@dataclass
class CardData:
    generation: str
    serial: CardSerial | None = None
    applications: list[pkcs15.Application] = field(default_factory=list)
    application: pkcs15.Application | None = None
    pins: list[pkcs15.PinObject] = field(default_factory=list)
    keys: list[pkcs15.PrivateKeyObject] = field(default_factory=list)
    certificates: list[CertificateFile] = field(default_factory=list)
    data_objects: list[DataObjectFile] = field(default_factory=list)
    pin_status: PinStatus | None = None
    problems: list[ReadProblem] = field(default_factory=list)


T = TypeVar("T")
Obj = TypeVar("Obj")

class _Reader:
    def __init__(self, commands: CardCommands, on_step: Callable[[str, str], None] | None = None):
        self.cmd = commands
        self.data = CardData(commands.generation)
        self.on_step = on_step
        self.current: tuple[str, str] | None = None

    def attempt(self, step: str, target: str, fn: Callable[[], T]) -> T | None:
        if self.on_step is not None and (step, target) != self.current:
            self.current = (step, target)
            self.on_step(step, target)
        try:
            return fn()
        except (ApduError, MalformedDataError, CardProtocolError) as exc:
            self.data.problems.append(ReadProblem(step, target, exc))
            return None

    def read_mf_file(self, fid: int, sfi: int, size: int | None = None) -> bytes:
        s = self.cmd.s
        if self.cmd.supports_sfi:
            try:
                return s.read_all(sfi=sfi, size=size)
            except ApduError as exc:
                if exc.sw not in (SW.FILE_NOT_FOUND, 0x6981, SW.COMMAND_NOT_ALLOWED_NO_EF, SW.INCORRECT_P1P2, SW.WRONG_P1P2):
                    raise
                # No short EF identifier on this card: select it by path.
        self.cmd.select_path(b"\x3f\x00" + fid.to_bytes(2, "big"))
        return s.read_all(size=size)

    def read_path(self, path: bytes, der: bool = False) -> bytes:
        self.cmd.select_path(path)
        return self.cmd.s.read_all(der=der)

    def absolute(self, path: bytes) -> bytes:
        app = self.data.application
        if path[:2] == b"\x3f\x00" or app is None or app.path is None:
            return path
        return app.path + path

    def run(self) -> CardData:
        d = self.data
        try:
            self.cmd.start()
        except (ApduError, CardProtocolError) as exc:
            d.problems.append(ReadProblem("start", f"{d.generation} application", exc))
            return d
        raw = self.attempt("serial", "EF.SN.ICC 3F00/D003", lambda: self.read_mf_file(0xD003, SFI_EF_SN, size=12))
        if raw is not None:
            d.serial = self.attempt("serial", "EF.SN.ICC 3F00/D003", partial(parse_ef_sn, raw))
        raw = self.attempt("dir", "EF.DIR 3F00/2F00", lambda: self.read_mf_file(0x2F00, SFI_EF_DIR))
        if raw is None:
            return d
        apps = self.attempt("dir", "EF.DIR 3F00/2F00", partial(pkcs15.parse_ef_dir, raw))
        if not apps:
            if apps is not None:
                d.problems.append(ReadProblem("dir", "EF.DIR 3F00/2F00",
                                              MalformedDataError("EF.DIR", "no application listed")))
            return d
        d.applications = apps
        d.application = next((a for a in apps if a.aid in PKCS15_AIDS), apps[0])
        if d.application.path is None:
            d.problems.append(ReadProblem("dir", "EF.DIR 3F00/2F00", MalformedDataError(
                "EF.DIR", f"application {d.application.aid.hex().upper()} has no path (tag 51)")))
            return d
        odf_path = d.application.path + b"\x50\x31"
        raw = self.attempt("odf", _name("ODF", odf_path), lambda: self.read_path(odf_path))
        odf = self.attempt("odf", _name("ODF", odf_path), partial(pkcs15.parse_odf, raw)) if raw is not None else None
        if not odf:
            return d
        for rel in odf.get("authObjects", []):
            d.pins.extend(self.read_objects("aodf", rel, pkcs15.parse_aodf))
        for rel in odf.get("privateKeys", []):
            d.keys.extend(self.read_objects("prkdf", rel, pkcs15.parse_prkdf))
        for rel in odf.get("certificates", []):
            for obj in self.read_objects("cdf", rel, pkcs15.parse_cdf):
                cpath = self.absolute(obj.path)
                der = self.attempt("certificate", _name(obj.label, cpath), partial(self.read_path, cpath, der=True))
                d.certificates.append(CertificateFile(obj, der))
        for rel in odf.get("dataObjects", []):
            self.read_dodf(self.absolute(rel))
        if d.pins:
            pin = d.pins[0]
            d.pin_status = self.attempt("pin", f"PIN {pin.reference:02X}",
                                        lambda: self.cmd.read_pin_status(pin.reference, pin.path))
        return d

    def read_objects(self, step: str, rel: bytes, parser: Callable[..., list[Obj]]) -> list[Obj]:
        """The objects of one PKCS#15 directory file (AODF, PrKDF, CDF); a problem is recorded, not raised."""
        path = self.absolute(rel)
        label = _name(step.upper(), path)
        raw = self.attempt(step, label, partial(self.read_path, path))
        if raw is None:
            return []
        return self.attempt(step, label, partial(parser, raw, where=label)) or []

    def read_dodf(self, path: bytes) -> None:
        label = _name("DODF", path)
        raw = self.attempt("dodf", label, lambda: self.read_path(path))
        objects = self.attempt("dodf", label, lambda: pkcs15.parse_dodf(raw, where=label)) if raw is not None else None
        for obj in objects or []:
            opath = self.absolute(obj.path)
            size = self.attempt("data", _name(obj.label, opath), partial(self.cmd.file_size, opath))
            self.data.data_objects.append(DataObjectFile(obj, opath, size))


def _name(what: str, path: bytes) -> str:
    return f"{what} {path.hex().upper()}"


def read_card(commands: CardCommands, on_step: Callable[[str, str], None] | None = None) -> CardData:
    """Everything cpsdiag reads from a card without a PIN (``commands_for(generation, link)``).

    ``on_step(step, target)`` is told of each file or object as its reading starts (a progress display)."""
    return _Reader(commands, on_step).run()
