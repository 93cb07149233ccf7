"""Replays the card-dependent data-object cases of ANS's own PKCS#11 test campaign through a PKCS#11 module.

ANS publishes the results of its Cryptolib test program on real cards
(ansforge/dops-cryptolib, Linux/5.2.1/Resultats_*CPS3v3-2900995266.HTML and
*CPS4v1-3100603746.HTML). This script makes the same calls, in the same
order, with the same templates and buffer sizes, and numbers each result the
way that program numbers its report rows (its counter, not the function
called: when a step is skipped the next rows shift, which is how the real
CPS4's report shows that no modifiable CPS_DATA was found). The call
sequence was read in the program's sources (testCpsData.cpp, test.cpp
§C_FindObjects of CPS_ID_CARD); no code of it is copied.

Usage: python cryptolib_replay.py MODULE PIN  ->  JSON on stdout:
{"rows": [[row, "CKR_..."], ...], "found": {...}, "token": {...}, "inventory": {...}}
(an empty PIN, for the contactless face: rows 307-312 and the inventory only)
"""

from __future__ import annotations

import json
import sys

import PyKCS11
from PyKCS11 import LowLevel

CKR_NAMES = {v: k for k, v in PyKCS11.CKR.items() if isinstance(k, str)}


class Replay:
    def __init__(self, module: str, pin: str):
        self.pkcs11 = PyKCS11.PyKCS11Lib()
        self.pkcs11.load(module)              # C_Initialize
        self.ll = self.pkcs11.lib
        self.pin = pin
        self.rows: list[list[object]] = []
        self.found: dict[str, object] = {}
        self.initialized = True

    def row(self, number: int, rv: int) -> int:
        self.rows.append([number, CKR_NAMES.get(rv, hex(rv))])
        return rv

    def initialize(self) -> None:
        if not self.initialized:
            self.ll.C_Initialize()
            self.initialized = True

    def finalize(self) -> None:
        self.ll.C_Finalize()
        self.initialized = False

    def slot(self) -> int:
        slots = LowLevel.ckulonglist()
        self.ll.C_GetSlotList(PyKCS11.CK_TRUE, slots)
        return slots[0]

    def session(self, slot: int, rw: bool) -> tuple[int, LowLevel.CK_SESSION_HANDLE]:
        handle = LowLevel.CK_SESSION_HANDLE()
        flags = PyKCS11.CKF_SERIAL_SESSION | (PyKCS11.CKF_RW_SESSION if rw else 0)
        return self.ll.C_OpenSession(slot, flags, handle), handle

    @staticmethod
    def template(*attrs: tuple[int, object]) -> LowLevel.ckattrlist:
        t = LowLevel.ckattrlist(len(attrs))
        for i, (kind, value) in enumerate(attrs):
            if isinstance(value, bool):
                t[i].SetBool(kind, value)
            elif isinstance(value, int):
                t[i].SetNum(kind, value)
            else:
                t[i].SetString(kind, str(value))
        return t

    def login(self, session) -> int:
        return self.ll.C_Login(session, PyKCS11.CKU_USER, PyKCS11.ckbytelist(self.pin))

    def find(self, session, template, buffer: int) -> tuple[int, list]:
        found = LowLevel.ckulonglist(buffer)
        rv = self.ll.C_FindObjects(session, found)
        handles = []
        for value in found:
            handle = LowLevel.CK_OBJECT_HANDLE()
            handle.assign(value)
            handles.append(handle)
        return rv, handles

    def value(self, session, handle, with_buffer: LowLevel.ckattrlist | None = None) -> tuple[int, LowLevel.ckattrlist]:
        t = with_buffer or LowLevel.ckattrlist(1)
        if with_buffer is None:
            t[0].SetType(PyKCS11.CKA_VALUE)
        return self.ll.C_GetAttributeValue(session, handle, t), t

    # -- rows 307-312: a public data object searched by label -------------------------------------------

    def find_public_object(self) -> None:
        """CPS_ID_CARD, not private; on the contactless face (no PIN) CPS_DATA, not modifiable."""
        slot = self.slot()
        _, ro = self.session(slot, rw=False)
        _, rw = self.session(slot, rw=True)
        label, flag = ("CPS_ID_CARD", PyKCS11.CKA_PRIVATE) if self.pin else ("CPS_DATA", PyKCS11.CKA_MODIFIABLE)
        t = self.template((PyKCS11.CKA_CLASS, PyKCS11.CKO_DATA), (PyKCS11.CKA_TOKEN, True), (flag, False),
                          (PyKCS11.CKA_LABEL, label))
        self.row(307, self.ll.C_FindObjectsInit(rw, t))
        rv, handles = self.find(rw, t, 1)
        self.row(308, rv)
        self.found[label] = len(handles)
        handle = handles[0] if handles else LowLevel.CK_OBJECT_HANDLE()
        self.row(311, self.ll.C_FindObjectsFinal(rw))
        # The program asks for as many attributes of its template as objects were found: here, the class.
        class_only = LowLevel.ckattrlist(len(handles))
        for i in range(len(handles)):
            class_only[i].SetType(PyKCS11.CKA_CLASS)
        self.row(312, self.ll.C_GetAttributeValue(rw, handle, class_only))
        self.ll.C_CloseAllSessions(slot)
        self.finalize()

    # -- rows 900-924 -----------------------------------------------------------------------------------

    def campaign(self) -> None:
        n = 900
        # 1. CPS_DATA: found as modifiable, read, written (each byte + its index) and read back.
        self.initialize()
        slot = self.slot()
        _, ro = self.session(slot, rw=False)
        rv, rw = self.session(slot, rw=True)
        self.row(n, rv)
        n += 1
        self.row(n, self.login(ro))
        n += 1
        t = self.template((PyKCS11.CKA_CLASS, PyKCS11.CKO_DATA), (PyKCS11.CKA_TOKEN, True),
                          (PyKCS11.CKA_MODIFIABLE, True), (PyKCS11.CKA_LABEL, "CPS_DATA"))
        self.row(n, self.ll.C_FindObjectsInit(ro, t))
        handle = None
        count = 0
        while True:
            n += 1
            rv, handles = self.find(ro, t, 2)
            self.row(n, rv)
            count += len(handles)
            if handles:
                handle = handles[-1]
            if len(handles) != 2:
                break
        self.found["CPS_DATA modifiable"] = count
        n += 1
        self.row(n, self.ll.C_FindObjectsFinal(ro))
        if handle is not None:
            n += 1
            rv, size = self.value(ro, handle)
            self.row(n, rv)
            n += 1
            rv, got = self.value(ro, handle, size)
            self.row(n, rv)
            before = bytes(got[0].GetBin())
            changed = bytes((b + i) & 0xFF for i, b in enumerate(before))
            n += 1
            self.row(n, self.ll.C_SetAttributeValue(rw, handle, self._value_template(changed)))
            n += 1
            rv, after = self.value(ro, handle, size)
            self.row(n, rv)
            self.found["CPS_DATA size"] = len(before)
            self.found["CPS_DATA written and read back"] = bytes(after[0].GetBin()) == changed
        self.finalize()
        # 2. CPS_ACTIVITY_01_PS: private, after login.
        n = self._private_or_public(n, "CPS_ACTIVITY_01_PS", private=True, login=True)
        # 3. CPS_NAME_PS: public, no login.
        n = self._private_or_public(n, "CPS_NAME_PS", private=False, login=False)
        # 4. The signature certificate, public.
        self.initialize()
        slot = self.slot()
        rv, ro = self.session(slot, rw=False)
        self.row(n, rv)
        t = self.template((PyKCS11.CKA_CLASS, PyKCS11.CKO_CERTIFICATE), (PyKCS11.CKA_TOKEN, True),
                          (PyKCS11.CKA_PRIVATE, False), (PyKCS11.CKA_LABEL, "Certificat de Signature CPS"))
        self._find_and_read(n, ro, t, "Certificat de Signature CPS")
        self.finalize()

    def _value_template(self, value: bytes) -> LowLevel.ckattrlist:
        t = LowLevel.ckattrlist(1)
        t[0].SetBin(PyKCS11.CKA_VALUE, PyKCS11.ckbytelist(value))
        return t

    def _private_or_public(self, n: int, label: str, private: bool, login: bool) -> int:
        self.initialize()
        slot = self.slot()
        rv, ro = self.session(slot, rw=False)
        self.row(n, rv)
        if login:
            n += 1
            self.row(n, self.login(ro))
        t = self.template((PyKCS11.CKA_CLASS, PyKCS11.CKO_DATA), (PyKCS11.CKA_TOKEN, True),
                          (PyKCS11.CKA_PRIVATE, private), (PyKCS11.CKA_LABEL, label))
        n = self._find_and_read(n, ro, t, label)
        self.finalize()
        return n

    def _find_and_read(self, n: int, session, t, label: str) -> int:
        n += 1
        self.row(n, self.ll.C_FindObjectsInit(session, t))
        n += 1
        rv, handles = self.find(session, t, 2)
        self.row(n, rv)
        self.found[label] = len(handles)
        if rv != PyKCS11.CKR_OK or not handles:
            return n
        n += 1
        self.row(n, self.ll.C_FindObjectsFinal(session))
        n += 1
        rv, size = self.value(session, handles[0])
        self.row(n, rv)
        n += 1
        rv, got = self.value(session, handles[0], size)
        self.row(n, rv)
        if rv == PyKCS11.CKR_OK:
            self.found[f"{label} value"] = bytes(got[0].GetBin()).hex()
        return n

    def inventory(self) -> dict[str, list[list[object]]]:
        """Every CKO_DATA object before and after login: label, private, modifiable, application, size or error."""
        out = {}
        self.initialize()
        slot = self.slot()
        _, session = self.session(slot, rw=False)
        for state in ("public", "logged_in"):
            if state == "logged_in" and self.pin:
                self.login(session)
            t = self.template((PyKCS11.CKA_CLASS, PyKCS11.CKO_DATA))
            self.ll.C_FindObjectsInit(session, t)
            handles: list = []
            while True:       # at most 32 handles a call in the Cryptolib: ask until none come back
                rv, more = self.find(session, t, 32)
                handles += more
                if rv != PyKCS11.CKR_OK or not more:
                    break
            self.ll.C_FindObjectsFinal(session)
            rows = []
            for handle in handles:
                attrs = LowLevel.ckattrlist(4)
                for i, kind in enumerate((PyKCS11.CKA_LABEL, PyKCS11.CKA_PRIVATE, PyKCS11.CKA_MODIFIABLE,
                                          PyKCS11.CKA_APPLICATION)):
                    attrs[i].SetType(kind)
                self.ll.C_GetAttributeValue(session, handle, attrs)
                self.ll.C_GetAttributeValue(session, handle, attrs)
                rv, size = self.value(session, handle)
                rv2, got = self.value(session, handle, size) if rv == PyKCS11.CKR_OK else (rv, None)
                rows.append([attrs[0].GetString(), attrs[1].GetBool(), attrs[2].GetBool(), attrs[3].GetString(),
                             len(got[0].GetBin()) if rv2 == PyKCS11.CKR_OK else CKR_NAMES.get(rv2, hex(rv2))])
            out[state] = rows
        self.finalize()
        return out

    def token(self) -> dict[str, str]:
        info = self.pkcs11.getTokenInfo(self.pkcs11.getSlotList(tokenPresent=True)[0])
        return {"label": info.label.strip(), "serial": info.serialNumber.strip(), "model": info.model.strip()}


def main() -> None:
    replay = Replay(sys.argv[1], sys.argv[2])
    token = replay.token()
    replay.find_public_object()
    if replay.pin:
        replay.campaign()
    inventory = replay.inventory()
    print(json.dumps({"rows": replay.rows, "found": replay.found, "token": token, "inventory": inventory}))


if __name__ == "__main__":
    main()
