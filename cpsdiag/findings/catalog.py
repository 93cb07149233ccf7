"""Titles, details and remedies of every finding code, in English, translated through gettext.

Remedies come from the connection guides professionals are given today
(../shared/seeds: SI-DEP guides for nurses and pharmacists, Santé.fr, SI-SAMU)
and from ANS practice: the support line, the ordre to update contact details
with, the unblock procedure, trying another reader, e-CPS as a fallback.
They are personalised with what the card says (profession -> ordre, the
national identifier to type).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cpsdiag.findings.entry import ANS_SUPPORT, Entry
from cpsdiag.findings.revocation import ENTRIES as _REVOCATION
from cpsdiag.findings.revocation import LABELS as _REVOCATION_LABELS
from cpsdiag.findings.workstation import ENTRIES as _WORKSTATION
from cpsdiag.i18n import N_, _

__all__ = ["ANS_SUPPORT", "CATALOG", "Entry", "Rendered", "render"]

_ORDRE = ("ordre", N_("Check that your contact details are up to date with your ordre ({ordre}): {ordre_url}."))
_ECPS = ("login_id", N_("Meanwhile you can sign in with e-CPS: in the e-CPS app choose « Demander l'activation "
                        "de la e-CPS » and type your national identifier {login_id}."))
_SUPPORT = ("always", ANS_SUPPORT)
# How the TLS probe went, appended to the remedies of connection findings.
_VIA_PROXY = ("proxy", N_("The connection went through the proxy {proxy} ({origin}); run with --no-proxy if this "
                          "workstation reaches the service without it."))
_DIRECT = ("direct", "{direct}")
_BYPASS = ("bypassed_by", N_("Proxy exclusion that matched: {bypassed_by}."))

CATALOG: dict[str, Entry] = {
    # -- PC/SC ---------------------------------------------------------------
    "PCSC_OK": Entry(N_("Smart-card service available"), N_("PC/SC library {library}; the service answers.")),
    "PCSC_LIBRARY_MISSING": Entry(
        N_("The smart-card library (PC/SC) is missing"),
        N_("{library} cannot be loaded: {reason}"),
        N_("Install the PC/SC library and service: on Debian or Ubuntu `sudo apt install libpcsclite1 pcscd`, "
           "on Fedora or RHEL `sudo dnf install pcsc-lite`. The ATSAM package of the Assurance Maladie installs "
           "everything needed on Windows and macOS."),
    ),
    "PCSC_NO_SERVICE": Entry(
        N_("The smart-card service is not running"),
        N_("{operation}: {message}"),
        N_("Start the smart-card service: on Linux `sudo systemctl start pcscd` (or `sudo pcscd` where there is "
           "no systemd); on Windows start the « Carte à puce » (SCardSvr) service; on macOS unplug and plug "
           "the reader back in. Then run the diagnosis again."),
    ),
    "PCSC_NO_READER": Entry(
        N_("No card reader found"),
        N_("The smart-card service is running but lists no reader."),
        N_("Plug the card reader in (directly into the computer rather than through a keyboard or an unpowered "
           "hub), wait a few seconds and run again. If it is plugged in, its driver may be missing (Linux: the "
           "libccid package) or the reader may need more power: try another USB port or another reader."),
    ),
    "READERS_OK": Entry(N_("Card reader found"), N_("{count} reader(s): {readers}.")),
    # -- card ----------------------------------------------------------------
    "CARD_ABSENT": Entry(
        N_("No card in the reader"),
        N_("Reader {reader}: no card."),
        N_("Insert your CPS card into the reader {reader}, chip first and facing up, and leave it there "
           "during the diagnosis."),
        extras=(("other_readers", N_("Other readers: {other_readers}. Choose one with --reader.")),),
    ),
    "CARD_MUTE": Entry(
        N_("The card does not answer"),
        N_("Reader {reader}: {message}"),
        N_("Take the card out, check that the chip is clean and insert it the right way up. Try another reader "
           "or another computer: if no reader can read it, the card may be damaged."),
        extras=(_SUPPORT,),
    ),
    "CARD_REMOVED": Entry(
        N_("The card was taken out during the diagnosis"),
        N_("Reader {reader}: {message}"),
        N_("Leave the card in the reader until the diagnosis ends and run it again. If the card was not touched, "
           "the contact is poor: clean the chip, try another reader or another USB port."),
    ),
    "CARD_SHARING_VIOLATION": Entry(
        N_("Another program holds the card"),
        N_("Reader {reader}: the card is open in exclusive mode by another program."),
        N_("Close the programs that use the CPS card (pharmacy management software, SESAM-Vitale or invoicing "
           "software, another middleware), then run again. If your management software must keep the card, ask "
           "your software vendor how to share it with other programs."),
    ),
    "CARD_UNKNOWN": Entry(
        N_("This card is not recognised as a CPS card"),
        N_("Reader {reader}, ATR {atr}."),
        detail_without=("reader", N_("ATR {atr}.")),
        remedy=N_("Check that the card in the reader is your CPS card (not the Vitale card or a bank card). If it is, "
           "report this ATR with the diagnosis to ANS support."),
        extras=(_SUPPORT,),
    ),
    "CARD_ATR_MALFORMED": Entry(
        N_("The card's answer to reset is malformed"),
        N_("Reader {reader}, ATR {atr}: {error}"),
        detail_without=("reader", N_("{error}")),
        remedy=N_("Take the card out and insert it again; try another reader. A card whose answer to reset stays "
                  "malformed is damaged."),
        extras=(_SUPPORT,),
    ),
    "CARD_IDENTIFIED": Entry(N_("Card identified: {label}"), N_("Reader {reader}, ATR {atr}."),
                             detail_without=("reader", N_("ATR {atr}."))),
    "CARD_ATR_NOT_EXACT": Entry(
        N_("The card's ATR is not one ANS's Cryptolib accepts"),
        N_("ATR {atr} matches the {label} pattern but not byte for byte: {note}"),
        N_("If the card is refused by your software, report this ATR to ANS support with the diagnosis."),
        extras=(_SUPPORT,),
    ),
    "CARD_READ_OK": Entry(
        N_("Card read: number {card_number}"),
        N_("{certificates} certificate(s), {keys} key(s); {apdus} commands exchanged."),
    ),
    "CARD_READ_ERROR": Entry(
        N_("The card could not be read completely"),
        N_("{target}: {error}"),
        N_("Take the card out and insert it again, then run again; try another reader. If the error stays, "
           "the card may be damaged or not a genuine CPS card."),
        extras=(_SUPPORT,),
    ),
    "CARD_SERIAL_INVALID": Entry(
        N_("The card number fails its check digit"),
        N_("EF.SN.ICC holds {pan}: the Luhn check digit should be {expected}."),
        N_("The card's identification file is inconsistent: the card may be damaged or not a genuine CPS card."),
        extras=(_SUPPORT,),
    ),
    # -- PIN -------------------------------------------------------------------
    "PIN_OK": Entry(N_("PIN not blocked"), N_("{tries_left} tries left out of {max_tries}.")),
    "PIN_TRIES_LOW": Entry(
        N_("Wrong PINs were typed: {tries_left} tries left"),
        N_("{tries_left} tries left out of {max_tries}. The counter goes back to {max_tries} after a correct PIN."),
        N_("Type your PIN (the 4-digit code received with the card) carefully: after {tries_left} more wrong "
           "PIN(s) the card is blocked. If you are not sure of it, do not guess: look for the letter that came "
           "with the card."),
    ),
    "PIN_BLOCKED": Entry(
        N_("The PIN is blocked"),
        N_("Three wrong PINs were typed: the card refuses any PIN until it is unblocked."),
        N_("Unblock the card with the 8-digit unblock code received with it, using « CPS Gestion » (installed "
           "with the Cryptolib CPS) or the unblocking procedure of ANS. Without the unblock code, contact ANS."),
        extras=(_SUPPORT, _ECPS),
    ),
    "PIN_UNKNOWN": Entry(
        N_("The PIN counter could not be read"),
        N_("{error}"),
        N_("Nothing to do if your card works; otherwise take it out and insert it again."),
    ),
    # -- certificates ----------------------------------------------------------
    "CERT_OK": Entry(
        N_("{role_label} certificate valid and trusted"),
        N_("Valid until {not_after} ({days_left} days); issued by {issuer}; trusted through {anchor}."),
    ),
    "CERT_MISSING": Entry(
        N_("No {role_label} certificate on the card"),
        N_("The card's certificate directory lists no {role_label} certificate."),
        N_("The card cannot be used to sign in. Contact ANS for a new card."),
        extras=(_SUPPORT,),
    ),
    "CERT_MALFORMED": Entry(
        N_("The {role_label} certificate is unreadable"),
        N_("{error}"),
        N_("Take the card out and insert it again. If the error stays, the card is damaged: contact ANS."),
        extras=(_SUPPORT,),
    ),
    "CERT_FILE_NOT_CERTIFICATE": Entry(
        N_("{path} is not a certificate"),
        N_("{error}"),
        N_("cpsdiag reads certificates as PEM (-----BEGIN CERTIFICATE-----), DER (.cer, .crt) or PKCS#7 (.p7b) "
           "files. Ask for the certificate again, exported from the card or the browser, not edited or copied by "
           "hand."),
    ),
    "CERT_FILE_PRIVATE_KEY": Entry(
        N_("{path} holds a private key"),
        N_("The file holds a private key ({kind}). A private key must never be sent to anyone, a helpdesk "
           "included: whoever has it can act as its owner. cpsdiag does not show it."),
        N_("Treat this key as compromised: delete every copy of the file (mail, shared folders, this computer), "
           "have the certificate that goes with it revoked and a new one issued, and ask the sender for the "
           "certificate alone (a .pem, .cer or .p7b file). A CPS card's keys never leave the card: this key is "
           "not a CPS card's."),
    ),
    "CERT_EXPIRED": Entry(
        N_("The {role_label} certificate has expired"),
        N_("It expired on {not_after}, {days_ago} days ago."),
        N_("This card can no longer be used to sign in: a new card is needed. ANS sends it to the address your "
           "ordre knows; if you have not received it, contact ANS."),
        extras=(_ORDRE, _SUPPORT, _ECPS),
    ),
    "CERT_NOT_YET_VALID": Entry(
        N_("The {role_label} certificate is not valid yet"),
        N_("It is valid from {not_before} only."),
        N_("Check the computer's date and time. A new card can be used from {not_before}; keep the old one "
           "until then."),
    ),
    "CERT_EXPIRES_SOON": Entry(
        N_("The {role_label} certificate expires in {days_left} days"),
        N_("Valid until {not_after}."),
        N_("ANS normally sends the new card before this date to the address your ordre knows. If you have not "
           "received it, contact ANS now."),
        extras=(_ORDRE, _SUPPORT),
    ),
    "CERT_UNTRUSTED": Entry(
        N_("The {role_label} certificate is not trusted"),
        N_("{chain_detail}"),
        N_("The certificate does not chain to the IGC-Santé authorities: services will refuse it. If this is a "
           "test card or a card from another authority, give its authority certificates with --anchors."),
    ),
    "CERT_TEST_CHAIN_MISSING": Entry(
        N_("TEST card: its TEST authority certificates were not provided"),
        N_("{chain_detail}"),
        N_("TEST cards are issued by ANS's TEST authorities, which are not bundled: download the TEST chain from "
           "ANS (igc-sante.esante.gouv.fr, « AC TEST ») and pass it with --anchors."),
    ),
    "CERT_TEST_CARD": Entry(
        N_("This is a TEST card"),
        N_("The certificates mark it as a TEST card (category 80): production services (amelipro, SI-DEP, "
           "Santé.fr, Pro Santé Connect) refuse it."),
    ),
    "CERT_PURPOSE_UNEXPECTED": Entry(
        N_("The {role_label} certificate is not made for that use"),
        N_("Key usage {key_usage}, extended key usage {extended_key_usage}."),
        N_("The card's certificates do not have the usual layout of a CPS card: report it to ANS."),
        extras=(_SUPPORT,),
    ),
    # -- consistency -----------------------------------------------------------
    "CARD_CONSISTENT": Entry(
        N_("Card and certificates agree"),
        N_("Same holder in both certificates, card number and key sizes match."),
    ),
    "CERT_HOLDER_MISMATCH": Entry(
        N_("The two certificates name different holders"),
        N_("Authentication: {auth_holder}; signature: {signature_holder}."),
        N_("A card's certificates must belong to one person: this card is inconsistent. Contact ANS."),
        extras=(_SUPPORT,),
    ),
    "CARD_NUMBER_MISMATCH": Entry(
        N_("The certificate belongs to another card"),
        N_("The {role_label} certificate names card {cert_card_number}, the card is number {card_number}."),
        N_("The certificate does not belong to this card (a stale copy, or a damaged card). If your middleware "
           "keeps a cache, clear it; otherwise contact ANS."),
        extras=(_SUPPORT,),
    ),
    "CERT_KEY_MISMATCH": Entry(
        N_("The {role_label} certificate does not fit its key"),
        N_("Certificate key: {cert_bits} bits; private key on the card: {key_bits} bits."),
        N_("The card's certificate and key do not belong together: signing in will fail. Contact ANS."),
        extras=(_SUPPORT,),
    ),
    # -- PIN presentation and keys ----------------------------------------------
    "PIN_VERIFIED": Entry(N_("PIN accepted"), N_("Presented once: {how}.")),
    "PIN_WRONG": Entry(
        N_("Wrong PIN: {tries_left} tries left"),
        N_("The card refused the PIN. cpsdiag never tries a PIN twice."),
        N_("Check your PIN before trying again: after {tries_left} more wrong PIN(s) the card is blocked. "
           "A correct PIN resets the counter."),
    ),
    "PIN_LAST_TRY_REFUSED": Entry(
        N_("PIN not presented: only one try left"),
        N_("A wrong PIN now would block the card, so the key tests were not run."),
        N_("If you are sure of your PIN, run again with --force-last-try: a correct PIN resets the counter. "
           "If you are not sure, find the letter that came with the card before trying."),
    ),
    "PIN_NOT_GIVEN": Entry(
        N_("No PIN given: the key tests were not run"),
        N_("The key tests need the PIN; none was typed."),
        N_("Type the PIN when asked, or pass it on standard input with --pin-stdin."),
    ),
    "PKCS11_MODULE_FAILED": Entry(
        N_("The PKCS#11 module cannot be used"),
        N_("{module}: {error}"),
        N_("Check the module path (--module), that the middleware is installed for this system, and that "
           "PyKCS11 is installed (pip install 'cpsdiag[pkcs11]')."),
    ),
    "KEY_TESTS_SKIPPED": Entry(N_("Key tests not run"), N_("{reason}")),
    "KEY_SIGN_OK": Entry(
        N_("The {role_label} key signs ({scheme})"),
        N_("A fresh challenge signed by the card verifies with the certificate's public key ({ms} ms)."),
    ),
    "KEY_MISMATCH": Entry(
        N_("The {role_label} key does not match its certificate"),
        N_("The card signed ({scheme}) but the signature does not verify with the certificate's public key."),
        N_("The card's certificate and key do not belong together: signing in will fail. Contact ANS."),
        extras=(_SUPPORT,),
    ),
    "KEY_SIGN_FAILED": Entry(
        N_("The card refused to sign with the {role_label} key"),
        N_("{scheme}: {error}"),
        N_("Take the card out, insert it again and retry. If it persists, the card or its key is damaged: "
           "contact ANS."),
        extras=(("module", N_("The refusal came from the PKCS#11 module {module}: this middleware may not "
                              "support that operation for this card (Debian's OpenSC 0.23 cannot sign with the "
                              "non-repudiation key of a CPS card). Run again without --via pkcs11 to test the "
                              "card itself, or use ANS's Cryptolib CPS.")), _SUPPORT),
    ),
    "KEY_CAPABILITIES": Entry(
        N_("Signatures the card can make: PKCS#1 v1.5 {pkcs1}, RSA-PSS {pss}"),
        N_("TLS 1.2 client authentication: {tls12}; TLS 1.3 (needs RSA-PSS): {tls13}."),
    ),
    # -- practice situations (read once the PIN was presented) ------------------
    "SITUATIONS_READ": Entry(
        N_("Practice situations on the card: {count}"),
        N_("Read after the PIN: {labels}."),
    ),
    "SITUATIONS_NONE": Entry(
        N_("The card holds no practice situation"),
        N_("The card lists no CPS_ACTIVITY_nn_PS object: billing software (SESAM-Vitale) cannot bill with this "
           "card, as it bills in the name of one of the holder's practice situations."),
        N_("Practice situations come from your registration in the RPPS or ADELI directory (with your ordre, "
           "or your ARS): check that your practice (office, establishment) is registered there, then ask ANS "
           "to update the card."),
        extras=(_SUPPORT,),
    ),
    "SITUATIONS_UNREADABLE": Entry(
        N_("The card's practice situations could not be read"),
        N_("{target}: {error}"),
        N_("Run the diagnosis again; if it fails again, billing software may fail the same way: the card may "
           "be damaged."),
        extras=(_SUPPORT,),
    ),
    # -- TLS probe ------------------------------------------------------------
    "TLS_OK": Entry(
        N_("TLS client authentication succeeded"),
        N_("{url}: {version}, {cipher}, card signature {scheme}; the server answered HTTP {http_status} "
           "{http_reason}."),
    ),
    "TLS_CONNECT_FAILED": Entry(
        N_("Cannot reach the server"),
        N_("{url}: {error}"),
        N_("Check the address and the network connection; a firewall may block the connection."),
        extras=(_VIA_PROXY, _DIRECT, _BYPASS),
    ),
    "PROXY_CONNECT_FAILED": Entry(
        N_("Cannot reach the proxy"),
        N_("{url}: {error}"),
        N_("The proxy set in {origin} does not answer: check its address with your IT department. If this "
           "workstation reaches the service without a proxy, run again with --no-proxy."),
    ),
    "PROXY_AUTH_REQUIRED": Entry(
        N_("The proxy asks for a user name and password"),
        N_("The proxy {proxy} ({origin}) answered 407 to the connection to {target}; authentication it offers: "
           "{schemes}."),
        N_("Give the proxy's credentials in its address: HTTPS_PROXY=http://USER:PASSWORD@HOST:PORT in the "
           "environment, or --proxy http://USER:PASSWORD@HOST:PORT. cpsdiag sends them with Basic "
           "authentication and never shows the password. A proxy that accepts only Windows sign-in "
           "(Negotiate, NTLM) cannot be given a password this way: ask your IT department to let {target} "
           "through without proxy authentication."),
        extras=(("credentials_refused", N_("The user name and password given were refused: check them.")),),
    ),
    "PROXY_REFUSED": Entry(
        N_("The proxy refused the connection to the service"),
        N_("The proxy {proxy} ({origin}) answered « {status_line} » to CONNECT {target}."),
        N_("Ask your IT department to let this workstation reach {target} through the proxy. An answer 502, "
           "503 or 504 means the proxy itself could not reach the service: check the address, or the service "
           "may be down."),
    ),
    "PROXY_PAC": Entry(
        N_("The proxy is chosen by an automatic configuration script"),
        N_("The proxy settings ({source}) use an automatic configuration script: {pac}. cpsdiag does not run "
           "such scripts."),
        N_("If the service is reached through a proxy, give the one the script chooses with --proxy "
           "http://HOST:PORT (your IT department knows it)."),
        extras=(_VIA_PROXY, _DIRECT),
    ),
    "TLS_INTERCEPTED": Entry(
        N_("A proxy inspects TLS: card authentication cannot pass through it"),
        N_("The connection to {url} went through the proxy {proxy} ({origin}). The certificate presented for "
           "{host} was issued by « {issuer} », an authority that is neither public nor IGC-Santé, and nothing "
           "asked for the card: the proxy answered in the service's place."),
        N_("Ask your IT department to exclude {host} from TLS inspection on the proxy (inspection bypass, "
           "\"no-bump\" list). An inspecting proxy decrypts the connection and cannot present your card to the "
           "service, so card authentication fails through it, in every browser of this workstation."),
        extras=(("trusted", N_("This workstation trusts the proxy's authority, as companies install it: "
                               "browsers show no warning, and yet the card cannot be used through it.")),),
    ),
    "TLS_SERVER_UNTRUSTED": Entry(
        N_("The server's certificate is not trusted"),
        N_("{subject}: {why}."),
        N_("Check the address: you may not be talking to the expected server. For a test server, give its "
           "authority certificate with --tls-ca."),
    ),
    "TLS_CLIENT_CERT_REJECTED": Entry(
        N_("The server refused the card's certificate"),
        N_("{reason}"),
        N_("Check that the card is valid and of the kind this service accepts (a TEST card is refused by "
           "production services). If it is, contact the service's support with this diagnosis."),
    ),
    "TLS13_PSS_UNSUPPORTED": Entry(
        N_("The server uses TLS 1.3, which this card cannot sign"),
        N_("TLS 1.3 client authentication needs an RSA-PSS signature; a {generation} card can only make PKCS#1 "
           "v1.5 signatures. Browsers then fail with ERR_SSL_CLIENT_AUTH_SIGNATURE_FAILED."),
        N_("Use a CPS4 card (with Cryptolib CPS 5.2 or later), or ask the service to keep accepting TLS 1.2 "
           "for client authentication."),
        extras=(("tls12_ok", N_("TLS 1.2 works with this card on this server, but browsers choose TLS 1.3 "
                                "when the server offers it.")),),
    ),
    "TLS_CA_NOT_ACCEPTED": Entry(
        N_("The server does not accept the card's authority"),
        N_("The server accepts certificates from: {ca_names}. Not from {issuer}."),
        N_("Browsers will not offer this card's certificate to this server. The service does not accept cards "
           "of this kind (for example a TEST card on a production service): use a card meant for it."),
    ),
    "TLS_NO_CLIENT_AUTH": Entry(
        N_("The server did not ask for a card"),
        N_("{url} completed the handshake without requesting a client certificate."),
        N_("This address does not test the card: use the service's card-authentication address."),
    ),
    "TLS_HANDSHAKE_FAILED": Entry(
        N_("The TLS handshake failed"),
        N_("{url}: {error}"),
        N_("Run again; if it persists, send this diagnosis to the service's support."),
    ),
    "REPORT_TAMPERED": Entry(
        N_("This report was changed after cpsdiag wrote it"),
        N_("Its files do not match the SHA-256 values of its manifest.json ({problems}): what is shown below may "
           "not be what cpsdiag found on the workstation."),
        N_("Do not rely on it: ask for the report again, the zip file exactly as cpsdiag wrote it, sent without "
           "being opened or edited."),
    ),
    "INTERNAL_ERROR": Entry(
        N_("cpsdiag failed unexpectedly"),
        N_("{error}"),
        N_("Run again with --debug and report the output to the cpsdiag developers."),
    ),
}

ROLE_LABELS = {"authentication": N_("authentication"), "signature": N_("signature"),
               "authority": N_("certification authority"), "unknown": N_("unnamed")}
# Parameters whose values are codes, shown translated.
VALUE_LABELS = {
    "how": {"keyboard": N_("typed on the keyboard"), "pinpad": N_("typed on the reader's PIN pad"),
            "stdin": N_("read from standard input (--pin-stdin)"),
            "already": N_("already presented by another program")},
    "direct": {"no_proxy_configured": N_("The connection went direct: no proxy is configured on this "
                                         "workstation. If its network needs one, give it with --proxy "
                                         "http://HOST:PORT."),
               "disabled": N_("The connection went direct (--no-proxy)."),
               "bypassed": N_("The connection went direct: the proxy settings exclude this address."),
               "no_proxy_for_scheme": N_("The connection went direct: the proxy settings name no proxy for "
                                         "https."),
               "pac_not_evaluated": N_("The connection went direct: the proxy is chosen by an automatic "
                                       "configuration script, which cpsdiag does not run. Give the proxy with "
                                       "--proxy http://HOST:PORT.")},
    "source": {"option": N_("the --proxy option"), "environment": N_("environment variables"),
               "windows": N_("Windows Internet settings"), "macos": N_("macOS network settings")},
    "pac": {"WPAD": N_("automatic detection (WPAD)")},
    # Why a server is not trusted (cpsdiag.tls.trust.REASONS); these sentences name other parameters.
    "why": {"self_signed": N_("the certificate is self-signed, and is not in {store}"),
            "unknown_issuer": N_("it was issued by {authority}, an authority not in {store}"),
            "expired": N_("the certificate expired on {not_after}"),
            "not_yet_valid": N_("the certificate is valid only from {not_before}"),
            "name_mismatch": N_("the certificate is for {names}, not for {host}"),
            "no_certificate": N_("the server sent no certificate"),
            "no_store": N_("no trust store was found on this computer"),
            "store_unreadable": N_("the trust store cannot be read ({detail})"),
            "rejected": N_("its chain to {store} does not verify ({verifier})")},
    "store": {"system": N_("this computer's trust store")},
    "reason": {"pin_blocked": N_("the PIN is blocked."),
               "counter_unknown": N_("the PIN counter could not be read, so the PIN is not presented blindly "
                                     "(--force-last-try presents it anyway).")},
}


class _Params(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


@dataclass(frozen=True)
class Rendered:
    code: str
    severity: str
    step: str
    title: str
    detail: str
    remedy: str | None


def render(finding: Any) -> Rendered:
    """Title, detail and remedy of a finding in the current language."""
    entry = CATALOG[finding.code]
    params = _Params({k: (_("yes") if v else _("no")) if isinstance(v, bool) else v
                      for k, v in finding.params.items() if v is not None})
    if "role" in params:
        params["role_label"] = _(ROLE_LABELS.get(params["role"], params["role"]))
    labelled = [name for name, labels in VALUE_LABELS.items() if name in params and params[name] in labels]
    for name in labelled:
        params[name] = _(VALUE_LABELS[name][params[name]])
    for name in labelled:
        # A label may name other parameters; only labels are formatted twice, never a value from outside.
        if "{" in params[name]:
            params[name] = params[name].format_map(params)
    title = _(entry.title).format_map(params)
    if entry.title.startswith("{"):
        title = title[:1].upper() + title[1:]   # "{role_label} certificate..." starts a sentence
    template = entry.detail
    if entry.detail_without and entry.detail_without[0] not in params:
        template = entry.detail_without[1]
    detail = _(template).format_map(params)
    remedy = None
    if entry.remedy:
        parts = [_(entry.remedy).format_map(params)]
        for key, sentence in entry.extras:
            if key == "always" or key in params:
                parts.append(_(sentence).format_map(params))
        remedy = " ".join(parts)
    return Rendered(finding.code, str(finding.severity), finding.step, title, detail, remedy)


def _merge(entries: dict[str, Entry]) -> None:
    # The workstation's and the revocation's entries live in their own modules (size); the catalogue is one table.
    for code, entry in entries.items():
        if code in CATALOG:
            raise ValueError(f"finding code {code} defined twice")
        CATALOG[code] = entry


_merge(_WORKSTATION)
_merge(_REVOCATION)
VALUE_LABELS.update(_REVOCATION_LABELS)
