"""Every user-facing message has a French translation, and the compiled catalogue matches its source."""

from __future__ import annotations

import ast
import gettext
import subprocess

import pytest

from cpsdiag import i18n
from cpsdiag.findings.catalog import CATALOG, render
from cpsdiag.findings.model import Finding, Severity
from tests.support.paths import ROOT
from tests.support.prerequisites import require

PACKAGE = ROOT / "cpsdiag"
PO = PACKAGE / "locale" / "fr" / "LC_MESSAGES" / "cpsdiag.po"
MO = PO.with_suffix(".mo")


def marked_messages() -> set[str]:
    """Literal strings passed to _(), N_() or pgettext() anywhere in the package (the emulator speaks only
    English); a message with a context is keyed as gettext keys it, "context\x04message"."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        if "emulator" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            texts = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if node.func.id in ("_", "N_") and texts:
                found.add(texts[0])
            elif node.func.id == "pgettext" and len(texts) == 2:
                found.add(texts[0] + "\x04" + texts[1])
    return found


def test_every_marked_message_is_translated():
    catalog = gettext.GNUTranslations(open(MO, "rb"))._catalog  # type: ignore[attr-defined]
    missing = sorted(m for m in marked_messages() if not catalog.get(m))
    assert not missing, "untranslated (run scripts/i18n, then translate in cpsdiag.po):\n" + "\n".join(missing)


def test_compiled_catalogue_is_up_to_date(tmp_path):
    fresh = tmp_path / "fresh.mo"
    subprocess.run([require("msgfmt"), "--check", "-o", str(fresh), str(PO)], check=True)
    old = gettext.GNUTranslations(open(MO, "rb"))._catalog          # type: ignore[attr-defined]
    new = gettext.GNUTranslations(open(fresh, "rb"))._catalog       # type: ignore[attr-defined]
    assert old == new, "cpsdiag.mo is stale: run scripts/i18n"


@pytest.mark.parametrize("environ,expected", [
    ({"LANG": "fr_FR.UTF-8"}, "fr"), ({"LANG": "en_GB.UTF-8"}, "en"), ({}, "en"),
    ({"LC_ALL": "fr_CA.UTF-8", "LANG": "en_US"}, "fr"), ({"LC_MESSAGES": "C", "LANG": "fr_FR"}, "en"),
    ({"LC_ALL": "", "LC_MESSAGES": "fr_BE", "LANG": "en"}, "fr"),
    # gettext's order: LANGUAGE first, a list of preferences whose first language cpsdiag speaks wins.
    ({"LANGUAGE": "fr"}, "fr"), ({"LANGUAGE": "fr", "LANG": "en_US.UTF-8"}, "fr"),
    ({"LANGUAGE": "en", "LC_ALL": "fr_FR.UTF-8"}, "en"), ({"LANGUAGE": "de:fr:en"}, "fr"),
    ({"LANGUAGE": "fr_CA:en"}, "fr"), ({"LANGUAGE": "de", "LANG": "fr_FR"}, "en"),
    ({"LANGUAGE": "", "LANG": "fr_FR.UTF-8"}, "fr"), ({"LC_ALL": "POSIX"}, "en"), ({"LANG": "french"}, "fr"),
])
def test_language_detection(environ, expected):
    assert i18n.detect_language(environ) == expected


def test_language_alone_selects_french_in_the_command():
    from tests.support.cli import cpsdiag

    proc = cpsdiag("cert", str(PACKAGE / "pki" / "anchors" / "acr-el.pem"), env={"LANG": "", "LANGUAGE": "fr"})
    assert "les certificats sont valides et de confiance" in proc.stdout, proc.stdout


def test_every_finding_renders_in_both_languages_without_missing_parameters():
    params = {"library": "lib", "reason": "r", "operation": "op", "message": "m", "reader": "R", "readers": "R",
              "count": 1, "other_readers": "R2", "atr": "3B", "error": "e", "label": "L", "note": "n",
              "card_number": "1", "certificates": 2, "keys": 2, "apdus": 3, "target": "t", "pan": "p",
              "expected": 0, "tries_left": 1, "max_tries": 3, "role": "signature", "not_after": "2030-01-01",
              "not_before": "2020-01-01", "days_left": 5, "days_ago": 5, "issuer": "I", "anchor": "A",
              "chain_detail": "d", "key_usage": "k", "extended_key_usage": "e", "auth_holder": "a",
              "signature_holder": "s", "cert_card_number": "2", "cert_bits": 1024, "key_bits": 2048,
              "ordre": "O", "ordre_url": "U", "login_id": "899", "how": "keyboard", "scheme": "PKCS#1", "ms": 3,
              "url": "https://x/", "version": "TLS 1.2", "cipher": "C", "http_status": 200, "http_reason": "OK",
              "subject": "CN=x", "detail": "d", "ca_names": "CN=a", "generation": "CPS3",
              "pkcs1": True, "pss": False, "tls12": True, "tls13": False, "module": "m.so", "tls12_ok": True,
              # the workstation findings (cpsdiag.env)
              "client": "c", "kind": "RDP", "service": "pcscd", "start_mode": "disabled",
              "device": "d", "ids": "1:2", "features": "f", "minimum": "5.2", "package": "p", "cache": "/c",
              "serials": "s", "card_serial": "1", "scope": "s", "modules": "m", "profiles": "p", "profile": "p",
              "name": "n", "path": "/p", "evidence": "e", "driver": "d", "hresult": "0x1",
              # the network (proxies, TLS inspection)
              "proxy": "http://p:3128", "origin": "HTTPS_PROXY", "source": "environment", "schemes": "Basic",
              "status_line": "HTTP/1.1 403 Forbidden", "pac": "WPAD", "direct": "bypassed",
              "bypassed_by": "environment: h",
              # why a server is not trusted (cpsdiag.tls.trust)
              "why": "unknown_issuer", "authority": "CN=a", "host": "h", "names": "n", "store": "system",
              "verifier": "v",
              # a bundle read back (report show)
              "problems": "report.json does not match",
              # practice situations read after the PIN
              "labels": "CPS_ACTIVITY_01_PS",
              # revocation (OCSP, CRL)
              "revoked_at": "2026-01-02 10:00 UTC", "revocation_reason": "keyCompromise", "answer_source": "ocsp",
              "produced_at": "2026-01-03 10:00 UTC", "tried": "http://ocsp.x (timeout)"}
    for lang in ("en", "fr"):
        i18n.set_language(lang)
        for code in CATALOG:
            r = render(Finding(code, Severity.ERROR, "x", params))
            assert "?" not in r.title + r.detail, (lang, code, r)
            assert "{" not in r.title + r.detail + (r.remedy or ""), (lang, code, r)
    i18n.set_language("en")
