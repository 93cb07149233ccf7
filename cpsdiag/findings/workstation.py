"""Catalogue entries (title, detail, remedy) of the workstation findings; cpsdiag.findings.catalog adds them.

English here, French in the gettext catalogue. Every text is a template
filled with the finding's params. Kept apart from the card's entries for size
only: both are below cpsdiag.env and cpsdiag.diag, which emit the codes.
"""

from __future__ import annotations

from cpsdiag.findings.entry import ANS_SUPPORT, Entry
from cpsdiag.i18n import N_

# ANS's page listing the Cryptolib CPS for each system (research: CPS technical framework, "Choose the right
# product for your operating system"). One place to change it.
CRYPTOLIB_URL = "https://industriels.esante.gouv.fr/en/products-services/cps-technical-framework"

_SUPPORT = ("always", ANS_SUPPORT)

ENTRIES: dict[str, Entry] = {
    # -- the session ---------------------------------------------------------------
    "REMOTE_SESSION_SSH": Entry(
        N_("The diagnosis runs over SSH"),
        N_("Connected from {client}: the readers and the card examined are those of this remote computer, not "
           "the ones on your desk."),
        N_("Run cpsdiag on the computer the card reader is plugged into. SSH does not carry smart-card readers."),
        detail_without=("client", N_("The readers and the card examined are those of this remote computer, not the "
                                     "ones on your desk.")),
    ),
    "REMOTE_SESSION_DESKTOP": Entry(
        N_("Remote desktop session ({kind})"),
        N_("The card reader reaches this session only if the remote-desktop client redirects smart cards; the "
           "Cryptolib CPS must then be installed on this server, not only on your computer."),
        N_("In the remote-desktop client, enable smart-card redirection (RDP: « Cartes à puce » under local "
           "resources; Citrix: the smart-card policy), keep the Cryptolib CPS on the server up to date, or run "
           "the diagnosis on the computer the reader is plugged into."),
    ),
    # -- PC/SC ---------------------------------------------------------------------
    "PCSC_SERVICE_OK": Entry(
        N_("Smart-card service running: {service}"),
        N_("{service} {version} answers through {library}; {count} reader(s)."),
        detail_without=("version", N_("{service} answers through {library}; {count} reader(s).")),
    ),
    "PCSC_CLIENT_MISSING": Entry(
        N_("The PC/SC client library cannot be loaded"),
        N_("{library}: {reason}"),
        N_("Install the PC/SC library and service: on Debian or Ubuntu `sudo apt install libpcsclite1 pcscd`, on "
           "Fedora or RHEL `sudo dnf install pcsc-lite`. Then run again."),
    ),
    "PCSC_SERVICE_NOT_INSTALLED": Entry(
        N_("The smart-card service is not installed"),
        N_("No {service} on this computer: no program can reach a card reader."),
        N_("Install it: on Debian or Ubuntu `sudo apt install pcscd libccid`, on Fedora or RHEL "
           "`sudo dnf install pcsc-lite pcsc-lite-ccid`, then `sudo systemctl enable --now pcscd.socket`."),
    ),
    "PCSC_SERVICE_DISABLED": Entry(
        N_("The smart-card service is disabled"),
        N_("{service} is set to « {start_mode} »: it will not start, even when a reader is plugged in."),
        N_("Windows: in « Services », set « Carte à puce » (SCardSvr) to « Automatique » and start it (the Cryptolib "
           "CPS installer does the same). Linux: `sudo systemctl unmask pcscd.socket pcscd.service` then "
           "`sudo systemctl enable --now pcscd.socket`."),
    ),
    "PCSC_SERVICE_STOPPED": Entry(
        N_("The smart-card service is not running"),
        N_("{service}: {message}"),
        N_("Start the smart-card service: on Linux `sudo systemctl start pcscd.socket pcscd` (or `sudo pcscd`); on "
           "Windows start « Carte à puce » (SCardSvr), which Windows also starts when a reader is plugged in; on "
           "macOS the service starts when a reader is plugged in: unplug it and plug it back in. Then run again."),
    ),
    "PCSC_NOT_PROBED": Entry(
        N_("The smart-card service was not queried"),
        N_("{reason}"),
    ),
    # -- readers -------------------------------------------------------------------
    "READER_NOT_ANSWERING": Entry(
        N_("The reader {reader} does not answer"),
        N_("The service lists it but {operation} failed: {message}"),
        N_("Unplug the reader and plug it back in, directly into the computer (not through a keyboard or an "
           "unpowered hub). If it stays silent, try another USB port or another reader; restart the smart-card "
           "service."),
    ),
    "READER_NOT_LISTED": Entry(
        N_("A card reader is plugged in but not listed by the service"),
        N_("USB device {device} (ids {ids}) is a smart-card reader; the smart-card service does not list it."),
        N_("Unplug the reader and plug it back in; restart the smart-card service (`sudo systemctl restart "
           "pcscd`). If it stays unlisted, its driver may not support it: update libccid, or ask the reader's "
           "maker for a PC/SC driver."),
    ),
    "READER_DRIVER_MISSING": Entry(
        N_("No driver for the card reader"),
        N_("USB device {device} (ids {ids}) is a smart-card reader, but no PC/SC driver is installed for it."),
        N_("Install the CCID driver: on Debian or Ubuntu `sudo apt install libccid`, on Fedora or RHEL "
           "`sudo dnf install pcsc-lite-ccid`; then unplug and plug the reader back in."),
    ),
    "READER_PINPAD": Entry(
        N_("The reader {reader} has a PIN pad"),
        N_("It offers {features}. The Cryptolib CPS does not use the PIN pad: the PIN is typed on the computer's "
           "keyboard."),
    ),
    # -- the Cryptolib CPS -----------------------------------------------------------
    "MIDDLEWARE_OK": Entry(
        N_("Cryptolib CPS {version} installed"),
        N_("PKCS#11 module {module}."),
        detail_without=("module", N_("Installed.")),
    ),
    "MIDDLEWARE_MISSING": Entry(
        N_("The Cryptolib CPS is not installed"),
        N_("No Cryptolib CPS on this computer: web sites and programs that use the CPS card through it "
           "(amelipro, Firefox, signature software) cannot reach the card."),
        N_("Install the Cryptolib CPS for your system from ANS ({url}), or the ATSAM package of the Assurance "
           "Maladie, which includes it; then restart your browser and run again."),
    ),
    "MIDDLEWARE_TOO_OLD": Entry(
        N_("The Cryptolib CPS {version} is too old for this {generation} card"),
        N_("A {generation} card needs the Cryptolib CPS {minimum} or later."),
        N_("Install the current Cryptolib CPS from ANS ({url}) over the old one, then restart your browser and "
           "your software and run again."),
    ),
    "MIDDLEWARE_NOT_CPS4_READY": Entry(
        N_("The Cryptolib CPS {version} will not read CPS4 cards"),
        N_("CPS4 cards, sent since 2024 as CPS3 cards are renewed, need the Cryptolib CPS {minimum} or later."),
        N_("Update the Cryptolib CPS from ANS ({url}) before your next card arrives."),
    ),
    "MIDDLEWARE_VERSION_UNKNOWN": Entry(
        N_("Cryptolib CPS installed, version unknown"),
        N_("Its module {module} is there, but no package record says which version it is."),
        N_("If a CPS4 card is refused, reinstall the current Cryptolib CPS from ANS ({url})."),
    ),
    "MIDDLEWARE_INCOMPLETE": Entry(
        N_("The Cryptolib CPS installation is incomplete"),
        N_("{package} says version {version} is installed, but its PKCS#11 module is missing."),
        N_("Reinstall the Cryptolib CPS from ANS ({url})."),
    ),
    "MIDDLEWARE_LOAD_FAILED": Entry(
        N_("The Cryptolib CPS module cannot be loaded"),
        N_("{module}: {error}"),
        N_("Reinstall the Cryptolib CPS from ANS ({url}); on a 64-bit system check that the 64-bit edition is "
           "installed."),
        extras=(_SUPPORT,),
    ),
    "MIDDLEWARE_UNCHECKED": Entry(
        N_("The Cryptolib CPS module was not loaded"),
        N_("PyKCS11 is not installed, so cpsdiag could not load {module} to ask what it sees."),
        N_("To check it too: `pip install 'cpsdiag[pkcs11]'` (or `pip install PyKCS11`), then run again."),
    ),
    "MIDDLEWARE_CARD_NOT_SEEN": Entry(
        N_("The Cryptolib CPS does not see the card"),
        N_("The card is in {reader}, but no slot of {module} shows it."),
        N_("Take the card out and insert it again, close the programs that use it, and run again. If it is still "
           "not seen, reinstall the current Cryptolib CPS from ANS ({url})."),
        extras=(_SUPPORT,),
    ),
    "MIDDLEWARE_CACHE_STALE": Entry(
        N_("The Cryptolib CPS cache holds files of another card"),
        N_("{cache} holds files for card(s) {serials}; the card in the reader is {card_serial}. After a card "
           "renewal an old cache can make the new card fail."),
        N_("Close your browser and your software, delete the files in {cache} (the Cryptolib rebuilds them), "
           "then run again."),
    ),
    "MIDDLEWARE_CONFLICT": Entry(
        N_("Several middlewares claim the {generation} card in {scope}"),
        N_("{modules} all drive this card: the same card appears twice, PIN prompts and certificate choices get "
           "mixed up, and one program can lock the card for the others."),
        N_("Keep only the Cryptolib CPS for the CPS card in {scope}: remove the other module from it (Firefox: "
           "Settings > Privacy & Security > Security Devices > Unload), or uninstall the other middleware if "
           "nothing else needs it."),
    ),
    # -- browsers ------------------------------------------------------------------
    "FIREFOX_MODULE_OK": Entry(
        N_("Firefox loads the CPS security module"),
        N_("Profile(s): {profiles}."),
    ),
    "FIREFOX_MODULE_MISSING": Entry(
        N_("Firefox profile « {profile} » does not load the CPS security module"),
        N_("Its security devices do not include the Cryptolib CPS: Firefox cannot use the card in this profile."),
        N_("In Firefox: Settings > Privacy & Security > Security Devices > Load, name it « Module de sécurité "
           "CPS » and choose {module}; or install the CPS extension for Firefox from ANS. Then restart Firefox."),
    ),
    "FIREFOX_MODULE_BROKEN": Entry(
        N_("Firefox profile « {profile} » loads a module that is no longer there"),
        N_("Its security device {name} points to {path}, which does not exist."),
        N_("In Firefox: Settings > Privacy & Security > Security Devices, unload {name}, then load the module "
           "again from where it is now."),
    ),
    "CHROME_MODULE_MISSING": Entry(
        N_("Chrome/Chromium does not load the CPS security module"),
        N_("Its certificate database {path} does not include the Cryptolib CPS: Chrome cannot use the card."),
        N_("Add the module to it: `modutil -dbdir sql:$HOME/.pki/nssdb -add \"CPS\" -libfile {module}` "
           "(package libnss3-tools), then restart Chrome."),
    ),
    # -- Windows ---------------------------------------------------------------------
    "CERT_PROPAGATION_OFF": Entry(
        N_("The card's certificates are not copied to Windows"),
        N_("Neither the Certificate Propagation service nor the Cryptolib's certificate manager (CCM) is running: "
           "Edge and Chrome will not offer the card's certificates."),
        N_("Start « Propagation du certificat » (CertPropSvc) in « Services » and set it to « Automatique », or "
           "start the « Gestionnaire de certificats CPS » (ccm.exe) of the Cryptolib CPS, then take the card out "
           "and insert it again."),
    ),
    "WINDOWS_CARD_NOT_REGISTERED": Entry(
        N_("Windows does not know this card"),
        N_("No entry under Calais\\SmartCards matches the ATR {atr}: Windows programs (Edge, Chrome, Outlook) "
           "cannot use the card."),
        N_("Install the current Cryptolib CPS from ANS ({url}), which registers CPS cards with Windows, then "
           "take the card out and insert it again."),
    ),
}
