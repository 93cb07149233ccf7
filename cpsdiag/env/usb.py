"""Linux: smart-card readers on the USB bus (sysfs) and the pcsc-lite driver bundles that serve them.

Part of the PC/SC area's probe (``areas/pcsc.py``), below it: the facts of the
devices and bundles live here, their judging and rows with the readers.

pcscd serves a USB reader with the bundle whose ``Info.plist`` lists its
vendor and product ids; a device not listed but with a smart-card (CCID,
class 0x0B) interface is served by the bundle named ``CCIDCLASSDRIVER``
(libccid's). A reader that is neither gets no driver at all.
"""

from __future__ import annotations

import plistlib
import re
from dataclasses import dataclass

from cpsdiag.host.system import System



@dataclass(frozen=True)
class UsbDevice:
    path: str                           # sysfs path, e.g. /sys/bus/usb/devices/1-2
    vendor_id: str                      # "072F" (hex, upper case)
    product_id: str
    manufacturer: str | None
    product: str | None
    ccid: bool                          # an interface of class 0x0B (smart card)
    driver: str | None                  # the bundle listing this vendor/product, e.g. "ifd-ccid.bundle"
    driver_name: str | None             # the bundle's friendly name for it
    class_driver: str | None            # the bundle that serves any CCID device, when this one is not listed


@dataclass(frozen=True)
class DriverBundle:
    name: str                           # "ifd-ccid.bundle"
    path: str                           # its Info.plist
    version: str | None
    executable: str | None
    class_driver: bool                  # CFBundleName CCIDCLASSDRIVER: serves any CCID-class device
    devices: int                        # vendor/product pairs it lists


DRIVER_DIRS = ("/usr/lib/pcsc/drivers", "/usr/lib64/pcsc/drivers", "/usr/local/lib/pcsc/drivers",
               "/usr/libexec/SmartCardServices/drivers")
SYSFS_USB = "/sys/bus/usb/devices"
CCID_CLASS = 0x0B


def _ids(values: object) -> list[str]:
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list):
        return []
    return [str(v).lower().removeprefix("0x").upper().zfill(4) for v in values]


def driver_bundles(system: System) -> tuple[list[DriverBundle], dict[tuple[str, str], tuple[str, str | None]]]:
    """The bundles installed, and (vendor, product) -> (bundle, friendly name) for every device they list."""
    bundles: list[DriverBundle] = []
    table: dict[tuple[str, str], tuple[str, str | None]] = {}
    seen: set[str] = set()
    for folder in DRIVER_DIRS:
        for plist_path in system.glob(folder, "*.bundle/Contents/Info.plist"):
            name = plist_path.split("/")[-3]
            if name in seen:
                continue
            seen.add(name)
            data = system.read_bytes(plist_path)
            try:
                plist = plistlib.loads(data) if data else {}
            except Exception:   # plistlib raises several unrelated types on a damaged file
                plist = {}
            vendors, products = _ids(plist.get("ifdVendorID")), _ids(plist.get("ifdProductID"))
            names = plist.get("ifdFriendlyName")
            names = names if isinstance(names, list) else [names] * len(vendors)
            for i, pair in enumerate(zip(vendors, products)):
                table.setdefault(pair, (name, names[i] if i < len(names) else None))
            bundles.append(DriverBundle(
                name=name, path=plist_path, version=plist.get("CFBundleShortVersionString"),
                executable=plist.get("CFBundleExecutable"),
                class_driver=plist.get("CFBundleName") == "CCIDCLASSDRIVER", devices=min(len(vendors), len(products))))
    return bundles, table


def _attr(system: System, device: str, name: str) -> str | None:
    text = system.read_text(f"{SYSFS_USB}/{device}/{name}")
    return text.strip() if text and text.strip() else None


def usb_readers(system: System, bundles: list[DriverBundle],
                table: dict[tuple[str, str], tuple[str, str | None]]) -> tuple[bool, list[UsbDevice]]:
    """(the bus is visible, the smart-card devices on it): CCID-class devices and devices a bundle lists."""
    entries = system.listdir(SYSFS_USB)
    if not entries:
        return False, []
    class_driver = next((b.name for b in bundles if b.class_driver), None)
    out = []
    for dev in entries:
        if ":" in dev or dev.startswith("usb"):
            continue        # interfaces (1-2:1.0) and root hubs
        vendor, product = _attr(system, dev, "idVendor"), _attr(system, dev, "idProduct")
        if not vendor or not product:
            continue
        vendor, product = vendor.upper().zfill(4), product.upper().zfill(4)
        ccid = False
        for iface in entries:
            if iface.startswith(dev + ":"):
                cls = _attr(system, iface, "bInterfaceClass")
                if cls and re.fullmatch(r"[0-9a-fA-F]{1,2}", cls) and int(cls, 16) == CCID_CLASS:
                    ccid = True
        listed = table.get((vendor, product))
        if not ccid and listed is None:
            continue
        out.append(UsbDevice(
            path=f"{SYSFS_USB}/{dev}", vendor_id=vendor, product_id=product,
            manufacturer=_attr(system, dev, "manufacturer"), product=_attr(system, dev, "product"), ccid=ccid,
            driver=listed[0] if listed else None, driver_name=listed[1] if listed else None,
            class_driver=class_driver if (listed is None and ccid) else None))
    return True, out


def _words(text: str | None) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", (text or "").lower()).split())


def match_reader(reader: str, device: UsbDevice) -> bool:
    """Whether a PC/SC reader name belongs to a USB device.

    pcscd names a reader after the bundle's friendly name for the device, or
    "manufacturer product" for a class-driver device, then adds an interface
    name, a serial number and "00 00".
    """
    name = _words(reader)
    candidates = [device.driver_name, device.product,
                  f"{device.manufacturer or ''} {device.product or ''}".strip() or None]
    return any(c and _words(c) and name.startswith(_words(c)) for c in candidates) or any(
        c and _words(c) and _words(c) in name for c in candidates if c and len(_words(c)) >= 6)

