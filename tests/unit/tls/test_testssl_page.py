"""The Test SSL page the local server answers, from a real TEST card certificate and from the emulator's."""

from __future__ import annotations


from cpsdiag.i18n import set_language
from cpsdiag.pki.certinfo import load_certificates
from cpsdiag.tls.server import describe_client, render_page
from tests.support.paths import DATA

DATA = DATA / "pki"


def test_page_of_a_real_test_card_certificate():
    der = (DATA / "cpe-etablissement-auth-TEST.pem").read_bytes()
    info = load_certificates(der)[0]
    data = describe_client(info.der, anchors=[])
    assert (data["given_name"], data["identifier"]) == ("CHARLES", "30B0057881/CPET0002")
    assert data["class"] == "TEST AC IGC-SANTE STANDARD PERSONNES" and data["organisation"] == "ASIP-SANTE"
    assert data["verification"] == "FAILURE"          # its TEST chain is not public
    set_language("fr")
    page = render_page(data, "TLSv1.3 TLS_AES_256_GCM_SHA384", "fr")
    assert "Information sur votre carte CPS" in page and "Prénom" in page and "CHARLES" in page
    assert "<script" not in page and "class='ko'" in page


def test_page_escapes_what_the_certificate_says(pki):
    data = describe_client(load_certificates((pki.cards / "cps3-medecin" / "auth.pem").read_bytes())[0].der,
                           anchors=load_certificates(pki.anchors.read_bytes()))
    assert data["verification"] == "SUCCESS"
    data["surname"] = "<b>X</b>"
    assert "&lt;b&gt;X&lt;/b&gt;" in render_page(data, "TLSv1.2", "en")
