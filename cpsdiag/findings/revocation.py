"""Catalogue entries of the revocation findings; cpsdiag.findings.catalog adds them to its table.

Kept apart from the card's entries for size, like workstation.py.
"""

from __future__ import annotations

from cpsdiag.findings.entry import ANS_SUPPORT, Entry
from cpsdiag.i18n import N_

_SUPPORT = ("always", ANS_SUPPORT)
_ECPS = ("login_id", N_("Meanwhile you can sign in with e-CPS: in the e-CPS app choose « Demander l'activation "
                        "de la e-CPS » and type your national identifier {login_id}."))

ENTRIES: dict[str, Entry] = {
    "CERT_REVOKED": Entry(
        N_("The {role_label} certificate has been revoked"),
        N_("Revoked on {revoked_at} (reason: {revocation_reason}), according to {answer_source} {url}, answer "
           "produced on {produced_at}."),
        N_("ANS revoked this card's certificate: the card was declared lost or stolen, it was replaced by a new "
           "card, or the holder's professional data changed. Every service refuses it and nothing on this "
           "computer can fix it. Use the replacement card if you received one; otherwise order a new card "
           "from ANS."),
        extras=(_SUPPORT, _ECPS),
    ),
    "CERT_REVOCATION_UNKNOWN": Entry(
        N_("Whether the {role_label} certificate is revoked could not be checked"),
        N_("Tried: {tried}."),
        N_("This says nothing against the card: services check revocation themselves. cpsdiag could not get a "
           "verified answer: check that this computer reaches the addresses above over HTTP (port 80), directly "
           "or through the proxy (--proxy), then run again. --offline skips this check."),
    ),
    "CERT_NOT_REVOKED": Entry(
        N_("The {role_label} certificate is not revoked"),
        N_("According to {answer_source} {url}, answer produced on {produced_at}."),
    ),
    "CERT_REVOCATION_NOT_CHECKED": Entry(
        N_("Revocation of the {role_label} certificate not checked"),
        N_("--offline: no OCSP or CRL request was made."),
    ),
}

# Parameter values shown translated (merged into the catalogue's VALUE_LABELS).
LABELS: dict[str, dict[str, str]] = {
    "answer_source": {"ocsp": N_("the OCSP responder"), "crl": N_("the revocation list (CRL)"),
                      "crl_cached": N_("the revocation list (CRL, kept from an earlier download)")},
    "revocation_reason": {
        "unspecified": N_("not given"), "keyCompromise": N_("key compromised"),
        "cACompromise": N_("authority compromised"), "affiliationChanged": N_("holder's data changed"),
        "superseded": N_("replaced by a new card"), "cessationOfOperation": N_("card no longer used"),
        "certificateHold": N_("suspended"), "removeFromCRL": N_("removed from the list"),
        "privilegeWithdrawn": N_("right withdrawn"), "aACompromise": N_("attribute authority compromised"),
        "none": N_("not given"),
    },
}
