"""PKCS#15 (ISO/IEC 7816-15) parsers, field by field and refusal by refusal.

Expectations come from outside the parser: the lab layout published in /work/shared/research/opensc-cpx.md §9
(the files OpenSC and ANS's Cryptolib both accepted, each field annotated there), the real CPS3 objects listed in
card.md §2.3 (labels, key references, usages), and the PKCS#15 ASN.1 itself for the hand-built variants below.
Refusals are checked on their whole message (structure, place, reason, offset), since that text reaches the user.
"""

from __future__ import annotations

import pytest

from cpsdiag.card import pkcs15
from cpsdiag.errors import MalformedDataError


def h(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


def der(tag: int, *parts: bytes) -> bytes:
    """A short-form DER object (test helper: every object built here is under 128 bytes)."""
    value = b"".join(parts)
    assert len(value) < 0x80
    return bytes([tag, len(value)]) + value


# opensc-cpx.md §9, "Complete hex of the same files".
EF_DIR = h("61 1A 4F 0D E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 50 03 43 50 53 51 04 3F 00 00 01")
ODF = h("A8 06 30 04 04 02 70 01 A0 06 30 04 04 02 70 02 A4 06 30 04 04 02 70 05")
AODF = h("30 30 30 09 0C 03 50 49 4E 03 02 06 C0 30 03 04 01 01 A1 1E 30 1C 03 02 03 08 0A 01 01 02 01 04"
         "02 01 04 02 01 08 80 01 01 04 01 FF 30 04 04 02 3F 00")
PRKDF = h("30 48 30 15 0C 0C 43 50 53 5F 50 52 49 56 5F 41 55 54 03 02 06 C0 04 01 01 30 1F 04 0E E8 28 BD"
          "08 0F 80 25 00 00 01 FF 00 10 02 03 02 05 60 01 01 FF 03 02 04 B0 02 02 00 82 A1 0E 30 0C 30 06"
          "04 04 3F 00 00 01 02 02 08 00 30 49 30 15 0C 0C 43 50 53 5F 50 52 49 56 5F 53 49 47 03 02 07 80"
          "04 01 01 30 20 04 0E E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 01 03 03 06 00 40 01 01 FF 03 02 04"
          "B0 02 02 00 81 A1 0E 30 0C 30 06 04 04 3F 00 00 01 02 02 08 00")
CDF = h("30 45 30 23 0C 21 43 65 72 74 69 66 69 63 61 74 20 64 27 41 75 74 68 65 6E 74 69 66 69 63 61 74"
        "69 6F 6E 20 43 50 53 30 10 04 0E E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 02 A1 0C 30 0A 30 08 04"
        "06 3F 00 00 01 A0 01 30 3F 30 1D 0C 1B 43 65 72 74 69 66 69 63 61 74 20 64 65 20 53 69 67 6E 61"
        "74 75 72 65 20 43 50 53 30 10 04 0E E8 28 BD 08 0F 80 25 00 00 01 FF 00 10 01 A1 0C 30 0A 30 08"
        "04 06 3F 00 00 01 A0 02")
AID = h("E8 28 BD 08 0F 80 25 00 00 01 FF 00 10")


def refusal(parse, data: bytes, **kwargs) -> str:
    with pytest.raises(MalformedDataError) as caught:
        parse(data, **kwargs)
    return str(caught.value)


# -- the documented layout, every field ------------------------------------------------------------------------

def test_documented_file_sizes_match_the_memo():
    # The memo gives each file's size: a typing slip in the hex above would show here first.
    assert (len(EF_DIR), len(ODF), len(AODF), len(PRKDF), len(CDF)) == (28, 24, 50, 149, 136)


def test_prkdf_of_the_lab_layout_gives_both_cps3_keys():
    auth, sig = pkcs15.parse_prkdf(PRKDF)
    # card.md §2.3: CPS_PRIV_AUT key reference 0x82, decrypt+sign; CPS_PRIV_SIG 0x81, nonRepudiation; auth ID 01.
    assert auth == pkcs15.PrivateKeyObject(label="CPS_PRIV_AUT", id=AID + b"\x02", usage=("decrypt", "sign"),
                                           reference=0x82, path=h("3F00 0001"), modulus_bits=2048,
                                           auth_id=b"\x01")
    assert sig == pkcs15.PrivateKeyObject(label="CPS_PRIV_SIG", id=AID + b"\x01", usage=("nonRepudiation",),
                                          reference=0x81, path=h("3F00 0001"), modulus_bits=2048,
                                          auth_id=b"\x01")


def test_cdf_of_the_lab_layout_pairs_each_certificate_with_its_key():
    assert pkcs15.parse_cdf(CDF) == [
        pkcs15.CertificateObject("Certificat d'Authentification CPS", AID + b"\x02", h("3F00 0001 A001")),
        pkcs15.CertificateObject("Certificat de Signature CPS", AID + b"\x01", h("3F00 0001 A002")),
    ]


def test_aodf_of_the_lab_layout_every_pin_field():
    # pinFlags 03 02 03 08: 3 unused bits, 0x08 = bit 4 (initialized); min 4, stored 4, max 8, reference 1.
    assert pkcs15.parse_aodf(AODF) == [
        pkcs15.PinObject(label="PIN", auth_id=b"\x01", reference=1, min_length=4, max_length=8, stored_length=4,
                         path=h("3F00"), flags=(4,))
    ]


def test_ef_dir_and_odf_of_the_lab_layout():
    assert pkcs15.parse_ef_dir(EF_DIR) == [pkcs15.Application(AID, "CPS", h("3F00 0001"))]
    assert pkcs15.parse_odf(ODF) == {"authObjects": [h("7001")], "privateKeys": [h("7002")],
                                     "certificates": [h("7005")]}


# -- EF.DIR ----------------------------------------------------------------------------------------------------

def test_ef_dir_optional_label_and_path_and_other_records():
    no_label = der(0x61, der(0x4F, h("A0 00 00 00 01")))
    empty_path = der(0x61, der(0x4F, h("A0 00 00 00 02")), der(0x50, "Sécu".encode("latin-1")), der(0x51, b""))
    other = der(0x62, der(0x4F, h("A0 00 00 00 03")))          # not an application template: ignored
    apps = pkcs15.parse_ef_dir(other + no_label + b"\xff\xff" + empty_path)
    assert apps == [pkcs15.Application(h("A0 00 00 00 01"), "", None),
                    pkcs15.Application(h("A0 00 00 00 02"), "Sécu", None)]


def test_ef_dir_template_without_aid_is_refused_at_its_offset():
    data = EF_DIR + der(0x61, der(0x50, b"X"))
    assert refusal(pkcs15.parse_ef_dir, data) == "EF.DIR (EF.DIR): application template without AID (4F) at offset 28"
    assert refusal(pkcs15.parse_ef_dir, data, where="card 3F00/2F00") == (
        "EF.DIR (card 3F00/2F00): application template without AID (4F) at offset 28")


def test_ef_dir_truncated_names_the_file():
    assert refusal(pkcs15.parse_ef_dir, EF_DIR[:-1]) == (
        "EF.DIR (EF.DIR): value of 26 bytes runs past the end (25 left) at offset 0")


# -- ODF -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("tag", "kind"), [
    (0xA0, "privateKeys"), (0xA1, "publicKeys"), (0xA2, "trustedPublicKeys"), (0xA3, "secretKeys"),
    (0xA4, "certificates"), (0xA5, "trustedCertificates"), (0xA6, "usefulCertificates"), (0xA7, "dataObjects"),
    (0xA8, "authObjects"),
])
def test_odf_names_every_pkcs15_object_directory(tag, kind):
    # ISO 7816-15 PKCS15Objects choice numbers [0]..[8].
    assert pkcs15.parse_odf(der(tag, der(0x30, der(0x04, h("4401"))))) == {kind: [h("4401")]}


def test_odf_keeps_every_path_of_a_kind_in_order_and_skips_unknown_entries():
    data = (der(0xA4, der(0x30, der(0x04, h("7005")))) + der(0xAF, der(0x04, h("9999")))
            + der(0xA4, der(0x04, h("3F00 0001 7105"))) + b"\x00\x00")
    assert pkcs15.parse_odf(data) == {"certificates": [h("7005"), h("3F00 0001 7105")]}


def test_odf_empty_entry_is_refused_with_its_kind():
    assert refusal(pkcs15.parse_odf, ODF + h("A0 00")) == "ODF (ODF): empty privateKeys entry at offset 24"
    assert refusal(pkcs15.parse_odf, h("A7 00"), where=None) == "ODF: empty dataObjects entry at offset 0"


@pytest.mark.parametrize(("entry", "message"), [
    (h("A0 04 30 02 05 00"), "ODF (ODF): Path without efidOrPath at offset 2"),
    (h("A0 02 30 00"), "ODF (ODF): Path without efidOrPath at offset 2"),
    (h("A0 03 04 01 70"), "ODF (ODF): bad Path at offset 2"),          # odd length: not file identifiers
    (h("A0 02 04 00"), "ODF (ODF): bad Path at offset 2"),
    (h("A0 04 02 02 70 01"), "ODF (ODF): bad Path at offset 2"),       # an INTEGER is not a path
    (h("A0 06 30 04 02 02 70 01"), "ODF (ODF): Path without efidOrPath at offset 2"),
    (h("A0 07 30 05 04 03 3F 00 01"), "ODF (ODF): bad Path at offset 4"),
])
def test_odf_bad_paths_are_refused(entry, message):
    assert refusal(pkcs15.parse_odf, entry) == message


def test_a_path_sequence_keeps_only_efid_or_path():
    # Path ::= SEQUENCE { efidOrPath OCTET STRING, index INTEGER OPTIONAL, length [0] INTEGER OPTIONAL }
    entry = der(0xA0, der(0x30, der(0x04, h("3F00 0001 7002")), der(0x02, b"\x00"), der(0x80, b"\x40")))
    assert pkcs15.parse_odf(entry) == {"privateKeys": [h("3F00 0001 7002")]}


# -- PrKDF -----------------------------------------------------------------------------------------------------

def key(common: bytes, key_attrs: bytes, *rest: bytes) -> bytes:
    return der(0x30, common, key_attrs, *rest)


COMMON = der(0x30, der(0x0C, b"K"))


def test_prkdf_usage_every_named_bit_and_bits_past_the_list():
    # KeyUsageFlags, bit 0 first: encrypt decrypt sign signRecover wrap unwrap verify verifyRecover derive
    # nonRepudiation; bits 10+ have no name here and are left out.
    every = der(0x30, der(0x04, b"\x01"), der(0x03, h("04 FF E0")))
    [obj] = pkcs15.parse_prkdf(key(COMMON, every, der(0xA1, der(0x30, der(0x04, h("0001"))))))
    assert obj.usage == ("encrypt", "decrypt", "sign", "signRecover", "wrap", "unwrap", "verify", "verifyRecover",
                         "derive", "nonRepudiation")
    assert (obj.label, obj.id, obj.reference, obj.path, obj.modulus_bits, obj.auth_id) == (
        "K", b"\x01", None, h("0001"), None, None)


def test_prkdf_first_id_and_first_usage_win_over_later_ones():
    # The second BIT STRING is accessFlags (sensitive...), the second OCTET STRING is not the iD.
    attrs = der(0x30, der(0x04, b"\x07"), der(0x03, h("07 80")), der(0x04, b"\x08"), der(0x03, h("00 FF")),
                der(0x02, h("FF")))
    [obj] = pkcs15.parse_prkdf(key(COMMON, attrs, der(0xA1, der(0x30, der(0x04, h("0001"))))))
    assert (obj.id, obj.usage) == (b"\x07", ("encrypt",))
    assert obj.reference == -1          # keyReference is a signed INTEGER


def test_prkdf_key_without_id_or_usage():
    [obj] = pkcs15.parse_prkdf(key(COMMON, der(0x30), der(0xA1, der(0x30, der(0x04, h("0001"))))))
    assert (obj.id, obj.usage, obj.reference) == (b"", (), None)


def test_prkdf_rsa_attributes_first_path_and_first_modulus_win():
    rsa = der(0x30, der(0x02, h("04 00")), der(0x04, h("3F00 0002")), der(0x30, der(0x04, h("9999"))),
              der(0x02, h("08 00")))
    [obj] = pkcs15.parse_prkdf(key(COMMON, der(0x30), der(0xA1, rsa)))
    assert (obj.path, obj.modulus_bits) == (h("3F00 0002"), 1024)


def test_prkdf_rsa_attributes_may_lack_a_path():
    [obj] = pkcs15.parse_prkdf(key(COMMON, der(0x30), der(0xA1, der(0x30, der(0x02, h("00 80 00"))))))
    assert (obj.path, obj.modulus_bits) == (None, 0x8000)


def test_prkdf_subclass_attributes_before_type_attributes_are_skipped():
    # PrivateKeyObject: CommonObjectAttributes, CommonKeyAttributes, [0] subClassAttributes OPTIONAL, [1] typeAttributes
    sub = der(0xA0, der(0x30, der(0x02, b"\x10")))
    [obj] = pkcs15.parse_prkdf(key(COMMON, der(0x30), sub, der(0xA1, der(0x30, der(0x04, h("0001"))))))
    assert obj.path == h("0001")


def test_prkdf_entries_other_than_rsa_sequences_are_skipped():
    ec_key = der(0xA0, COMMON, der(0x30), der(0xA1, der(0x30)))        # privateECKey [0]: not on CPS cards
    assert pkcs15.parse_prkdf(ec_key + PRKDF + b"\x00" * 5)[1].label == "CPS_PRIV_SIG"
    assert pkcs15.parse_prkdf(ec_key) == []


@pytest.mark.parametrize(("data", "message"), [
    (der(0x30, COMMON), "PrKDF (PrKDF): object with fewer than two parts at offset 0"),
    (der(0x30, der(0x04, b"K"), der(0x30)), "PrKDF (PrKDF): CommonObjectAttributes: expected tag 30 at offset 2"),
    (key(COMMON, der(0x04, b"\x01"), der(0xA1, der(0x30))),
     "PrKDF (PrKDF): CommonKeyAttributes: expected tag 30 at offset 7"),
    (key(COMMON, der(0x30)), "PrKDF (PrKDF): missing type attributes [1] at offset 0"),
    (key(COMMON, der(0x30), der(0xA1)), "PrKDF (PrKDF): missing type attributes [1] at offset 0"),
    (key(COMMON, der(0x30), der(0xA0, der(0x30))), "PrKDF (PrKDF): missing type attributes [1] at offset 0"),
    (key(COMMON, der(0x30), der(0xA1, der(0x04, b"\x01"))),
     "PrKDF (PrKDF): PrivateRSAKeyAttributes: expected tag 30 at offset 11"),
    (key(COMMON, der(0x30, der(0x02, b"")), der(0xA1, der(0x30))), "PrKDF (PrKDF): bad INTEGER at offset 9"),
    (key(COMMON, der(0x30, der(0x02, h("01 00 00 00 00"))), der(0xA1, der(0x30))),
     "PrKDF (PrKDF): bad INTEGER at offset 9"),
    (key(COMMON, der(0x30), der(0xA1, der(0x30, der(0x02, b"")))), "PrKDF (PrKDF): bad INTEGER at offset 13"),
    (key(COMMON, der(0x30, der(0x03, b"")), der(0xA1, der(0x30))),
     "PrKDF (PrKDF): expected a BIT STRING at offset 9"),
    (key(COMMON, der(0x30, der(0x03, h("08 FF"))), der(0xA1, der(0x30))),
     "PrKDF (PrKDF): expected a BIT STRING at offset 9"),
    (key(der(0x30, der(0x03, h("09 80"))), der(0x30), der(0xA1, der(0x30))),
     "PrKDF (PrKDF): expected a BIT STRING at offset 4"),
])
def test_prkdf_refusals(data, message):
    assert refusal(pkcs15.parse_prkdf, data) == message


def test_prkdf_integer_limits():
    four = key(COMMON, der(0x30, der(0x02, h("7F FF FF FF"))), der(0xA1, der(0x30, der(0x02, h("00 00 08 00")))))
    [obj] = pkcs15.parse_prkdf(four)
    assert (obj.reference, obj.modulus_bits) == (0x7FFFFFFF, 2048)
    [seven] = pkcs15.parse_prkdf(key(der(0x30, der(0x03, h("07 80"))), der(0x30), der(0xA1, der(0x30))))
    assert seven.label == ""            # 7 unused bits is the most a BIT STRING may declare


def test_prkdf_where_is_said():
    assert refusal(pkcs15.parse_prkdf, der(0x30, COMMON), where="card 3F00/0001/7002") == (
        "PrKDF (card 3F00/0001/7002): object with fewer than two parts at offset 0")
    assert refusal(pkcs15.parse_prkdf, PRKDF[:-1]).startswith("PrKDF (PrKDF): value of 73 bytes runs past the end")


# -- CDF -------------------------------------------------------------------------------------------------------

def cert(common: bytes, cert_attrs: bytes, *rest: bytes) -> bytes:
    return der(0x30, common, cert_attrs, *rest)


def test_cdf_certificate_without_id_and_with_a_bare_path():
    entry = cert(der(0x30), der(0x30, der(0x01, b"\xff")), der(0xA1, der(0x30, der(0x04, h("A001")))))
    assert pkcs15.parse_cdf(entry) == [pkcs15.CertificateObject("", b"", h("A001"))]
    assert pkcs15.parse_cdf(cert(der(0x30), der(0x30), der(0xA1, der(0x30, der(0x04, h("A001")))))) == [
        pkcs15.CertificateObject("", b"", h("A001"))]


def test_cdf_other_certificate_types_are_skipped():
    other = der(0xA0, COMMON, der(0x30), der(0xA1, der(0x30)))         # x509AttributeCertificate etc.
    assert pkcs15.parse_cdf(other + CDF + b"\xff" * 4) == pkcs15.parse_cdf(CDF)
    assert len(pkcs15.parse_cdf(other + CDF)) == 2


@pytest.mark.parametrize(("data", "message"), [
    (der(0x30, COMMON), "CDF (CDF): object with fewer than two parts at offset 0"),
    (cert(COMMON, der(0x04, b"\x01"), der(0xA1, der(0x30))),
     "CDF (CDF): CommonCertificateAttributes: expected tag 30 at offset 7"),
    (cert(COMMON, der(0x30)), "CDF (CDF): missing type attributes [1] at offset 0"),
    (cert(COMMON, der(0x30), der(0xA1, der(0x04, b"\x01"))),
     "CDF (CDF): X509CertificateAttributes: expected tag 30 at offset 11"),
    (cert(COMMON, der(0x30), der(0xA1, der(0x30))), "CDF (CDF): certificate without value at offset 0"),
    (b"\x00" + cert(COMMON, der(0x30), der(0xA1, der(0x30))), "CDF (CDF): certificate without value at offset 1"),
])
def test_cdf_refusals(data, message):
    assert refusal(pkcs15.parse_cdf, data) == message


def test_cdf_where_is_said():
    assert refusal(pkcs15.parse_cdf, cert(COMMON, der(0x30), der(0xA1, der(0x30))), where="card 7005") == (
        "CDF (card 7005): certificate without value at offset 0")


# -- AODF ------------------------------------------------------------------------------------------------------

def pin_object(auth_attrs: bytes, pin_attrs: bytes, common: bytes = COMMON) -> bytes:
    return der(0x30, common, auth_attrs, der(0xA1, der(0x30, pin_attrs)))


FLAGS, PIN_TYPE = der(0x03, h("03 08")), der(0x0A, b"\x01")


def test_aodf_without_max_length_reference_path_or_auth_id():
    pin = FLAGS + PIN_TYPE + der(0x02, b"\x06") + der(0x02, b"\x08") + der(0x04, b"\xff")
    assert pkcs15.parse_aodf(pin_object(der(0x30), pin)) == [
        pkcs15.PinObject(label="K", auth_id=None, reference=0, min_length=6, max_length=None, stored_length=8,
                         path=None, flags=(4,))]


def test_aodf_auth_id_is_only_an_octet_string_first():
    pin = FLAGS + PIN_TYPE + der(0x02, b"\x04") + der(0x02, b"\x08")
    [obj] = pkcs15.parse_aodf(pin_object(der(0x30, der(0x02, b"\x01")), pin))
    assert obj.auth_id is None


def test_aodf_pin_reference_is_unsigned_and_lengths_skip_the_pin_type():
    # pinReference [0] is read as an unsigned number (0x81 is a local PIN); the second field is pinType, even
    # when a card writes it as an INTEGER: lengths start at the third field.
    pin = FLAGS + der(0x02, b"\x09") + der(0x02, b"\x04") + der(0x02, b"\x05") + der(0x02, b"\x0C") + der(0x80, b"\x81")
    [obj] = pkcs15.parse_aodf(pin_object(der(0x30, der(0x04, b"\x02")), pin))
    assert (obj.auth_id, obj.reference, obj.min_length, obj.stored_length, obj.max_length) == (
        b"\x02", 0x81, 4, 5, 12)


def test_aodf_flags_across_two_bytes():
    # PinFlags: case-sensitive(0) local(1) ... needs-padding(5) ... unblockingPin(7) soPin(8)
    pin = der(0x03, h("07 A5 80")) + PIN_TYPE + der(0x02, b"\x04") + der(0x02, b"\x08")
    assert pkcs15.parse_aodf(pin_object(der(0x30), pin))[0].flags == (0, 2, 5, 7, 8)


@pytest.mark.parametrize(("data", "message"), [
    (der(0x30, COMMON), "AODF (AODF): object with fewer than two parts at offset 0"),
    (pin_object(der(0x04, b"\x01"), FLAGS), "AODF (AODF): CommonAuthenticationObjectAttributes: expected tag 30 "
                                            "at offset 7"),
    (der(0x30, COMMON, der(0x30)), "AODF (AODF): missing type attributes [1] at offset 0"),
    (der(0x30, COMMON, der(0x30), der(0xA1, der(0x04, b"\x00"))),
     "AODF (AODF): PinAttributes: expected tag 30 at offset 11"),
    (pin_object(der(0x30), FLAGS + PIN_TYPE + der(0x02, b"\x04")), "AODF (AODF): PinAttributes too short at offset 0"),
    (pin_object(der(0x30), FLAGS + PIN_TYPE + der(0x02, b"\x04") + der(0x04, b"\xff")),
     "AODF (AODF): PIN lengths missing at offset 0"),
    (pin_object(der(0x30), PIN_TYPE + FLAGS + der(0x02, b"\x04") + der(0x02, b"\x08")),
     "AODF (AODF): expected a BIT STRING at offset 13"),
    (pin_object(der(0x30), FLAGS + PIN_TYPE + der(0x02, b"\x04") + der(0x02, b"\x08") + der(0x30, der(0x02, b"\x01"))),
     "AODF (AODF): Path without efidOrPath at offset 26"),
])
def test_aodf_refusals(data, message):
    assert refusal(pkcs15.parse_aodf, data) == message


def test_aodf_skips_other_authentication_objects_and_says_where():
    biometric = der(0xA0, COMMON, der(0x30), der(0xA1, der(0x30)))
    assert pkcs15.parse_aodf(biometric + AODF)[0].label == "PIN"
    assert pkcs15.parse_aodf(biometric) == []
    bad = pin_object(der(0x30), FLAGS + PIN_TYPE + der(0x02, b"\x04"))
    assert refusal(pkcs15.parse_aodf, b"\xff" + bad, where="card 7001") == (
        "AODF (card 7001): PinAttributes too short at offset 1")


# -- DODF ------------------------------------------------------------------------------------------------------

def test_dodf_default_where_and_skipped_entries():
    oid_do = der(0xA1, COMMON, der(0x30), der(0xA1, der(0x30)))         # oidDO [1]: not on CPS cards
    assert pkcs15.parse_dodf(oid_do) == []
    entry = der(0x30, der(0x30, der(0x0C, b"D"), der(0x04, b"\x01"), der(0x03, h("06 80"))),
                der(0x30, der(0x06, h("2A 03")), der(0x0C, b"APP")), der(0xA1, der(0x30, der(0x04, h("D101")))))
    assert pkcs15.parse_dodf(oid_do + entry) == [
        pkcs15.DataObject("D", "APP", h("D101"), private=True, modifiable=False, auth_id=b"\x01")]
    assert refusal(pkcs15.parse_dodf, der(0x30, COMMON)) == "DODF (DODF): object with fewer than two parts at offset 0"


def test_a_last_bit_alone_is_not_read_as_the_first():
    # 03 02 00 01: no unused bits, only bit 7 (verifyRecover) set.
    [obj] = pkcs15.parse_prkdf(key(COMMON, der(0x30, der(0x03, h("00 01"))), der(0xA1, der(0x30))))
    assert obj.usage == ("verifyRecover",)


def test_a_label_that_is_not_utf8_is_kept_with_replacement_characters():
    # A card is not refused for a damaged label: the bad byte becomes U+FFFD.
    [obj] = pkcs15.parse_cdf(cert(der(0x30, der(0x0C, b"Cl\xe9 CPS")), der(0x30),
                                  der(0xA1, der(0x30, der(0x04, h("A001"))))))
    assert obj.label == "Cl\ufffd CPS"


def test_dodf_wrong_common_data_attributes_is_named():
    assert refusal(pkcs15.parse_dodf, der(0x30, COMMON, der(0x04, b"\x01"))) == (
        "DODF (DODF): CommonDataObjectAttributes: expected tag 30 at offset 7")
