"""Benchmarks of cpsdiag on the virtual card, through the real pcscd + vpcd stack.

Not a test: nothing here asserts a time. Run ``scripts/bench``; the table is
printed and written to docs/performance.md between the BENCH markers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cpsdiag.emulator import stack as stk  # noqa: E402
from cpsdiag.emulator.pkigen import make_pki  # noqa: E402


def quantiles(values: list[float]) -> tuple[float, float, float]:
    values = sorted(values)
    n = len(values)
    return values[n // 10], statistics.median(values), values[min(n - 1, (9 * n) // 10)]


def apdu_round_trip(reader: str, count: int) -> tuple[float, float, float]:
    from smartcard import scard

    rc, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    rc, card, proto = scard.SCardConnect(ctx, reader, scard.SCARD_SHARE_SHARED,
                                         scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1)
    apdu = list(bytes.fromhex("00A4090C023F00"))     # SELECT MF, no response data
    for _ in range(50):
        scard.SCardTransmit(card, proto, apdu)
    times = []
    for _ in range(count):
        start = time.perf_counter()
        rc, rsp = scard.SCardTransmit(card, proto, apdu)
        times.append(time.perf_counter() - start)
        if rc != 0 or rsp[-2:] != [0x90, 0x00]:
            raise RuntimeError(f"SELECT failed: {rc:#x} {rsp}")
    scard.SCardDisconnect(card, scard.SCARD_LEAVE_CARD)
    scard.SCardReleaseContext(ctx)
    return quantiles([t * 1000 for t in times])


def run_check(anchors: Path, runs: int) -> dict:
    walls, report = [], {}
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "cpsdiag", "check", "--json", "--anchors", str(anchors)],
                              capture_output=True, text=True)
        walls.append((time.perf_counter() - start) * 1000)
        report = json.loads(proc.stdout)
    return {"wall": quantiles(walls), "apdus": report["apdu"]["count"], "sent": report["apdu"]["bytes_sent"],
            "received": report["apdu"]["bytes_received"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--apdus", type=int, default=1000, help="APDUs per round-trip run")
    parser.add_argument("--runs", type=int, default=5, help="repetitions of each command")
    parser.add_argument("--no-write", action="store_true", help="only print the table")
    args = parser.parse_args()
    if not stk.can_isolate():
        print("scripts/bench runs its own pcscd in private namespaces: run it as root", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="cpsdiag-bench-"))
    pki = make_pki(work)
    stk.isolate()
    pcscd = stk.Pcscd(workdir=work)
    pcscd.start()
    rows = []
    try:
        for profile in ("cps3-medecin", "cps4-infirmier"):
            emu = stk.Emulator(str(pki.cards / profile), pcscd.port, log_file=work / f"{profile}.log")
            emu.start()
            try:
                stk.wait_for_card(pcscd.reader)
                p10, med, p90 = apdu_round_trip(pcscd.reader, args.apdus)
                rows.append((f"APDU round trip, {profile} (SELECT, {args.apdus} runs)", f"{med:.3f} ms",
                             f"p10 {p10:.3f} / p90 {p90:.3f} ms"))
                check = run_check(pki.anchors, args.runs)
                lo, med, hi = check["wall"]
                rows.append((f"`cpsdiag check --json`, {profile} ({args.runs} runs)", f"{med:.0f} ms",
                             f"p10 {lo:.0f} / p90 {hi:.0f} ms; {check['apdus']} APDUs, "
                             f"{check['sent']} bytes sent, {check['received']} received"))
            finally:
                emu.stop()
                stk.wait_for_card(pcscd.reader, present=False)
    finally:
        pcscd.stop()
    table = ["| measurement | median | spread and counts |", "|---|---|---|"]
    table += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    stamp = (f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {os.cpu_count()} CPUs, "
             f"Python {sys.version.split()[0]}.")
    text = "\n".join(table) + "\n\n" + stamp + "\n"
    print(text)
    if not args.no_write:
        doc = ROOT / "docs" / "performance.md"
        current = doc.read_text() if doc.exists() else "# Performance\n\n<!-- BENCH -->\n<!-- /BENCH -->\n"
        head, _, rest = current.partition("<!-- BENCH -->")
        _, _, tail = rest.partition("<!-- /BENCH -->")
        doc.write_text(f"{head}<!-- BENCH -->\n{text}<!-- /BENCH -->{tail}")
        print(f"written to {doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
