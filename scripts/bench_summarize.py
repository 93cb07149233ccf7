#!/usr/bin/env python3
"""Benchmark of ``cpsdiag report summarize``: throughput and peak memory over a synthetic fleet.

    .venv/bin/python scripts/bench_summarize.py                 # 100,000 reports (about 1.2 GB in a temp folder)
    .venv/bin/python scripts/bench_summarize.py --reports 20000 --keep /tmp/fleet

Writes N synthetic reports shaped like real ones (the size of a redacted
cps3 report, about 11 kB; a share of them as zip bundles), then runs the real
CLI (``cpsdiag report summarize DIR --json``) in a fresh process on growing
subsets of the fleet and prints, for each: wall time, reports per second, MB
per second and the peak resident memory of that process (its VmHWM), so that
a flat memory curve can be seen. The page cache is warm (the files were just
written): this measures cpsdiag, not the disk. Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

PER_FOLDER = 1000
READERS = ["Gemalto PC Twin Reader (645D3A2F) 00 00", "Alcor Micro AU9540 00 00",
           "Identiv uTrust 3700 F CL Reader [uTrust 3700 F CL Reader] 00 00", "OMNIKEY 3121 00 00",
           "Cherry KC 1000 SC 00 00"]
CRYPTOLIB = [(True, "5.2.2"), (True, "5.2.1"), (True, "5.1.4"), (False, None)]


def workstation() -> dict:
    """The environment section of the fake Windows workstation of the tests (tests/data/env/win32)."""
    from cpsdiag.env import collect_environment, environment_dict, load_layout

    root = Path(__file__).resolve().parents[1] / "tests" / "data" / "env" / "win32"
    return environment_dict(collect_environment(load_layout(root)))


WORKSTATION = workstation()
FINDINGS = [("PCSC_OK", "ok", "pcsc"), ("READERS_OK", "ok", "readers"), ("CARD_IDENTIFIED", "ok", "card"),
            ("CARD_READ_OK", "ok", "read"), ("PIN_OK", "ok", "pin"), ("CARD_CONSISTENT", "ok", "consistency")]


def synthetic_report(n: int, now: datetime, rng: random.Random) -> dict:
    generation = rng.choice(["CPS3", "CPS3", "CPS4"])
    days = rng.randint(-60, 1100)
    not_after = now + timedelta(days=days)
    findings = [{"code": c, "severity": s, "step": st, "title": c.replace("_", " ").capitalize(),
                 "detail": "Synthetic detail text of a realistic length, as the catalogue writes them for a finding.",
                 "remedy": None, "params": {"reader": "x", "n": n}} for c, s, st in FINDINGS]
    cert_code = "CERT_EXPIRED" if days < 0 else "CERT_EXPIRES_SOON" if days <= 30 else "CERT_OK"
    severity = "error" if days < 0 else "warning" if days <= 30 else "ok"
    for role in ("authentication", "signature"):
        findings.append({"code": cert_code, "severity": severity, "step": "certificates", "title": cert_code,
                         "detail": "Valid until ...", "remedy": "Contact ANS ..." if severity != "ok" else None,
                         "params": {"role": role}})
    certs = []
    for i, role in enumerate(("authentication", "signature")):
        certs.append({
            "role": role, "label": f"Certificat {role}", "path": f"3F000001A00{i + 1}", "error": None,
            "subject": "GN=C****+CN=89****11+SN=D****,title=Médecin,C=FR",
            "issuer": "CN=AC IGC-SANTE FORT PERSONNES,OU=IGC-SANTE,O=ASIP-SANTE,C=FR",
            "issuer_name": "AC IGC-SANTE FORT PERSONNES", "issuer_family": "igc-sante", "issuer_class": "FORT",
            "issuer_range": "PERSONNES", "serial": f"{n:04X}****{i:04X}", "serial_hmac": f"{n:012x}{i:04x}",
            "not_before": (not_after - timedelta(days=1095)).isoformat().replace("+00:00", "Z"),
            "not_after": not_after.isoformat().replace("+00:00", "Z"), "days_left": days,
            "holder": {"given_name": "C****", "given_name_hmac": "0" * 16, "surname": "D****",
                       "surname_hmac": "1" * 16, "national_id": "89****11", "national_id_hmac": "2" * 16,
                       "id_type": "N° RPPS", "id_kind": "RPPS", "identifier": "9****1", "identifier_hmac": "3" * 16,
                       "login_id": "89****11", "login_id_hmac": "2" * 16, "title": "Médecin",
                       "profession_code": 10, "profession": "Médecin", "structure": None},
            "card_type": 0, "card_type_label": "Carte de Professionnel de Santé (CPS)", "test_card": False,
            "card_number": "9****1", "card_number_hmac": f"{n:016x}",
            "key_usage": ["digitalSignature"], "extended_key_usage": ["clientAuth", "smartcardLogon"],
            "key_type": "RSA", "key_size": 2048, "private_key_size": 2048, "policies": ["1.2.250.1.71.1.1.1"],
            "crl_urls": ["http://igc-sante.esante.gouv.fr/CRL/ACI-FO-PP.crl"], "ocsp_urls": [],
            "ca_issuers_urls": [], "sha256": "6AE2****0B58", "sha256_hmac": "4" * 16,
            "chain": {"trusted": True, "anchor": "AC RACINE IGC-SANTE FORT", "path": ["89****11", "AC", "ROOT"],
                      "error": None, "detail": "The chain ... is trusted."}})
    reader = rng.choice(READERS)
    return {
        "schema": "cpsdiag.report/1", "tool": {"name": "cpsdiag", "version": "0.1.0"},
        "generated_at": now.isoformat().replace("+00:00", "Z"), "language": "fr",
        "validity_date": now.isoformat().replace("+00:00", "Z"),
        "verdict": "error" if severity == "error" else "warning" if severity == "warning" else "ok",
        "exit_status": 1 if severity == "error" else 0, "findings": findings,
        "pcsc": {"library": "/usr/lib/x86_64-linux-gnu/libpcsclite.so.1.0.0", "error": None},
        "readers": [{"name": reader, "card_present": True, "atr": "3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00",
                     "exclusive": False, "selected": True}],
        "card": {"reader": reader, "atr": "3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00", "protocol": "T=0",
                 "generation": generation, "interface": "contact", "model": f"{generation} (contact)",
                 "identified": True, "atr_decoded": None,
                 "card_number": "9****1", "card_number_hmac": f"{n:016x}", "pan": "802****016",
                 "card_number_check_ok": True,
                 "pin": {"tries_left": 3, "max_tries": 3, "blocked": False, "verified": False, "source": "GET DATA"},
                 "pkcs15": {"application": {"aid": "E8 28 BD 08 0F 80 25 00 00 01 FF 00 10", "label": "CPS",
                                            "path": None},
                            "pins": [], "keys": [], "certificates": [], "problems": []}},
        "certificates": certs,
        "keys": None, "environment": environment(rng), "tls": None,
        "timings_ms": {"total": 1234.5}, "apdu": {"count": 33, "bytes_sent": 215, "bytes_received": 3230},
        "redaction": {"applied": True, "method": "partial mask; HMAC-SHA256", "salt": "installation",
                      "salt_id": "8ec0747b", "kinds": ["card_number", "name"], "fields": ["card.card_number"],
                      "replacements_in_text": 4, "certificates_included": False, "trace": "certificate contents omitted"},
    }


def environment(rng: random.Random) -> dict:
    installed, version = rng.choice(CRYPTOLIB)
    env = json.loads(json.dumps(WORKSTATION))
    env["cryptolib"].update(installed=installed, version=version)
    return env


def make_fleet(folder: Path, count: int, zip_share: float, seed: int = 6) -> int:
    rng = random.Random(seed)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    size = 0
    for n in range(count):
        sub = folder / f"site-{n // PER_FOLDER:04d}"
        if n % PER_FOLDER == 0:
            sub.mkdir(parents=True, exist_ok=True)
        data = json.dumps(synthetic_report(n, now, rng), ensure_ascii=False, indent=2).encode()
        if rng.random() < zip_share:
            path = sub / f"report-{n:06d}.zip"
            manifest = {"schema": "cpsdiag.bundle/1", "files": [
                {"name": "report.json", "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}]}
            with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
                zf.writestr("report.json", data)
                zf.writestr("manifest.json", json.dumps(manifest))
        else:
            path = sub / f"report-{n:06d}.json"
            path.write_bytes(data)
        size += path.stat().st_size
    return size


# The CLI run as `python -m cpsdiag`, reporting its own peak resident memory when it exits. VmHWM is the high-water
# mark of this program's memory; wait4's ru_maxrss is not: Linux carries into it the parent's size at fork time.
_CHILD = """
import atexit, runpy, sys
def peak():
    try:
        with open("/proc/self/status") as f:
            kb = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    except OSError:
        import resource
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // (1024 if sys.platform == "darwin" else 1)
    sys.stderr.write(f"peak-kb {kb}\\n")
atexit.register(peak)
sys.argv = ["cpsdiag", *sys.argv[1:]]
runpy.run_module("cpsdiag", run_name="__main__")
"""


def measure(folders: list[Path], *extra: str) -> tuple[float, float, int, int]:
    """Wall seconds, peak RSS in MB, reports read and certificates listed, of one ``report summarize`` process.

    Every synthetic report must decode against the schema and every bundle match its manifest: a skipped or
    tampered one would make the numbers meaningless, so the run stops.
    """
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _CHILD, "report", "summarize", *map(str, folders), "--json", *extra],
                          capture_output=True)
    seconds = time.perf_counter() - start
    doc = json.loads(proc.stdout)
    peak_kb = int(proc.stderr.decode().rsplit("peak-kb ", 1)[1].split()[0])
    if doc["skipped"] or doc["tampered"]:
        raise SystemExit(f"synthetic reports refused: {doc['skipped_files'][:1]} {doc['tampered_files'][:1]}")
    return seconds, peak_kb / 1024, doc["reports"], len(doc["certificates"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--zip-share", type=float, default=0.1, help="share of reports written as zip bundles")
    parser.add_argument("--keep", type=Path, help="write the fleet here and keep it; reused if it is already there")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="cpsdiag-fleet-"))
    try:
        if args.keep is not None and folder.is_dir() and any(folder.iterdir()):
            print(f"fleet: reusing {folder}")
        else:
            start = time.perf_counter()
            size = make_fleet(folder, args.reports, args.zip_share)
            print(f"fleet: {args.reports:,} reports ({args.zip_share:.0%} as zip bundles), {size / 1e6:,.0f} MB on "
                  f"disk, written in {time.perf_counter() - start:.0f} s")
        sites = sorted(p for p in folder.iterdir() if p.is_dir())
        print(f"{'reports':>9} {'listed':>7} {'seconds':>8} {'reports/s':>10} {'MB/s':>7} {'peak RSS MB':>12}")
        runs = [(share, ()) for share in (0.01, 0.1, 0.5, 1.0)]
        # The same fleet judged at a date where no certificate is near expiry: memory of the reading alone.
        runs.append((1.0, ("--at", "2000-01-01")))
        for share, extra in runs:
            subset = sites[:max(1, round(len(sites) * share))]
            seconds, rss, reports, listed = measure(subset, *extra)
            mb = sum(f.stat().st_size for s in subset for f in s.iterdir()) / 1e6
            print(f"{reports:>9,} {listed:>7,} {seconds:>8.1f} {reports / seconds:>10,.0f} {mb / seconds:>7.1f} "
                  f"{rss:>12.1f}{'  (--at 2000-01-01: nothing listed)' if extra else ''}")
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, one process (summarize does not fork); "
              f"warm page cache")
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
