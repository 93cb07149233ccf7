"""Benchmarks of cpsdiag on the virtual card, through the real pcscd + vpcd stack.

Not a test: nothing here asserts a time. Run ``scripts/bench`` (as root: it
runs its own pcscd in private namespaces); the Markdown table is printed and
written to docs/performance.md between the BENCH markers.

Compared on the same emulated CPS3: ``cpsdiag check --json`` (the whole no-PIN
diagnosis) and OpenSC's ``pkcs15-tool --list-certificates --list-pins --list-data-objects`` (the
same information: certificates, PIN, data objects), at
emulator speed and at the card's real T=0 speed. APDUs and bytes are counted
by the emulator, so both tools are measured by the same meter.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cpsdiag.emulator import stack as stk  # noqa: E402
from cpsdiag.emulator.pkigen import make_pki  # noqa: E402

CPSDIAG = [str(ROOT / ".venv" / "bin" / "cpsdiag")]


@dataclass
class Run:
    wall_ms: list[float]
    apdus: int
    bytes_in: int
    bytes_out: int

    @property
    def median(self) -> float:
        return statistics.median(self.wall_ms)

    @property
    def spread(self) -> str:
        return f"{min(self.wall_ms):.0f}–{max(self.wall_ms):.0f} ms"


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
        times.append((time.perf_counter() - start) * 1000)
        if rc != 0 or rsp[-2:] != [0x90, 0x00]:
            raise RuntimeError(f"SELECT failed: {rc:#x} {rsp}")
    scard.SCardDisconnect(card, scard.SCARD_LEAVE_CARD)
    scard.SCardReleaseContext(ctx)
    return quantiles(times)


def measure(command: list[str], profile: Path, pcscd: stk.Pcscd, work: Path, runs: int,
            env: dict[str, str] | None = None) -> Run:
    """Run ``command`` ``runs`` times, each against a freshly inserted card whose emulator counts the APDUs."""
    walls, counts = [], []
    for i in range(runs):
        stats = work / f"stats-{profile.name}-{i}.json"
        emu = stk.Emulator(str(profile), pcscd.port, stats_file=stats, log_file=work / "emulator.log")
        emu.start()
        try:
            stk.wait_for_card(pcscd.reader)
            home = Path(tempfile.mkdtemp(dir=work))          # no tool may reuse a cache between runs
            start = time.perf_counter()
            proc = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "HOME": str(home),
                                                                                **(env or {})})
            walls.append((time.perf_counter() - start) * 1000)
            if proc.returncode not in (0, 1):
                raise RuntimeError(f"{command[0]} failed: {proc.stderr[-400:]}")
        finally:
            emu.stop()
            stk.wait_for_card(pcscd.reader, present=False)
        counts.append(json.loads(stats.read_text()))
    last = counts[-1]
    return Run(walls, last["apdus"], last["bytes_in"], last["bytes_out"])


def startup(args: list[str], runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(CPSDIAG + args, capture_output=True)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), min(times)


def summarize_row(reports: int) -> tuple[str, str, str]:
    """Throughput and memory of `report summarize` over a synthetic fleet (scripts/bench_summarize.py)."""
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_summarize.py"), "--reports", str(reports)],
                          capture_output=True, text=True)
    lines = [line.split() for line in proc.stdout.splitlines()
             if line.strip()[:1].isdigit() and "--at" not in line]
    if proc.returncode != 0 or not lines:
        return (f"`report summarize`, {reports:,} reports", "failed", proc.stderr.strip()[-200:])
    first, last = lines[0], lines[-1]          # columns: reports listed seconds reports/s MB/s peak-RSS
    return (f"`report summarize`, {last[0]} synthetic reports", f"{last[3]} reports/s",
            f"{last[2]} s, {last[4]} MB/s; peak memory {last[5]} MB ({first[5]} MB for {first[0]}: it streams)")


def slow_copy(profile: Path, work: Path, clock_mhz: float) -> Path:
    folder = work / f"{profile.name}-slow"
    if not folder.exists():
        shutil.copytree(profile, folder)
        toml = folder / "card.toml"
        toml.write_text(toml.read_text() + f"\n[faults]\nslow = true\nclock_mhz = {clock_mhz}\n")
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--apdus", type=int, default=1000, help="APDUs per round-trip run")
    parser.add_argument("--runs", type=int, default=5, help="repetitions of each command")
    parser.add_argument("--slow-runs", type=int, default=3, help="repetitions at real card speed")
    parser.add_argument("--clock-mhz", type=float, default=4.0, help="reader clock for the real-speed runs")
    parser.add_argument("--summarize-reports", type=int, default=100_000,
                        help="synthetic reports for the `report summarize` throughput (0: skip)")
    parser.add_argument("--no-write", action="store_true", help="only print the table")
    args = parser.parse_args()
    if not stk.can_isolate():
        print("scripts/bench runs its own pcscd in private namespaces: run it as root", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="cpsdiag-bench-"))
    pki = make_pki(work / "pki")
    version_ms = startup(["--version"], 20)
    help_ms = startup(["--help"], 20)
    stk.isolate()
    pcscd = stk.Pcscd(workdir=work)
    pcscd.start()
    check = CPSDIAG + ["check", "--json", "--anchors", str(pki.anchors)]
    opensc = [shutil.which("pkcs15-tool") or "pkcs15-tool", "--list-certificates", "--list-pins",
              "--list-data-objects"]
    rows: list[tuple[str, str, str]] = []
    comparisons: list[str] = []
    try:
        cps3, cps4 = pki.cards / "cps3-medecin", pki.cards / "cps4-infirmier"
        for profile in (cps3, cps4):
            emu = stk.Emulator(str(profile), pcscd.port, log_file=work / "emulator.log")
            emu.start()
            try:
                stk.wait_for_card(pcscd.reader)
                p10, med, p90 = apdu_round_trip(pcscd.reader, args.apdus)
            finally:
                emu.stop()
                stk.wait_for_card(pcscd.reader, present=False)
            rows.append((f"APDU round trip through pcscd, {profile.name}", f"{med:.3f} ms",
                         f"p10 {p10:.3f} / p90 {p90:.3f} ms over {args.apdus} SELECTs"))
        results = {}
        for label, command, profile, runs in (
            ("cpsdiag check --json, CPS3", check, cps3, args.runs),
            ("OpenSC pkcs15-tool --list-certificates --list-pins --list-data-objects, CPS3", opensc, cps3, args.runs),
            ("cpsdiag check --json, CPS4", check, cps4, args.runs),
            (f"cpsdiag check --json, CPS3 at T=0 speed ({args.clock_mhz:g} MHz)", check,
             slow_copy(cps3, work, args.clock_mhz), args.slow_runs),
            (f"OpenSC pkcs15-tool, CPS3 at T=0 speed ({args.clock_mhz:g} MHz)", opensc,
             slow_copy(cps3, work, args.clock_mhz), args.slow_runs),
        ):
            run = measure(command, profile, pcscd, work, runs)
            results[label] = run
            rows.append((label, f"{run.median:.0f} ms",
                         f"{run.spread} over {len(run.wall_ms)} runs; {run.apdus} APDUs, "
                         f"{run.bytes_in} bytes sent, {run.bytes_out} received"))
        keys = list(results)
        for ours, theirs, what in ((keys[0], keys[1], "emulator speed"), (keys[3], keys[4], "real card speed")):
            a, b = results[ours], results[theirs]
            comparisons.append(
                f"* CPS3, {what}: cpsdiag uses {a.apdus} APDUs against OpenSC's {b.apdus} "
                f"({a.apdus / b.apdus:.0%}), {a.bytes_in + a.bytes_out} bytes against "
                f"{b.bytes_in + b.bytes_out} ({(a.bytes_in + a.bytes_out) / (b.bytes_in + b.bytes_out):.0%}), "
                f"{a.median:.0f} ms against {b.median:.0f} ms ({a.median / b.median:.0%}).")
    finally:
        pcscd.stop()
    rows.append(("`cpsdiag --version`", f"{version_ms[0]:.0f} ms", f"fastest {version_ms[1]:.0f} ms; target < 150 ms"))
    rows.append(("`cpsdiag --help`", f"{help_ms[0]:.0f} ms", f"fastest {help_ms[1]:.0f} ms; target < 250 ms"))
    if args.summarize_reports:
        rows.append(summarize_row(args.summarize_reports))
    table = ["| measurement | median | spread and counts |", "|---|---|---|"]
    table += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    stamp = (f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `scripts/bench` on "
             f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}.")
    text = "\n".join(table) + "\n\n" + "\n".join(comparisons) + "\n\n" + stamp + "\n"
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
