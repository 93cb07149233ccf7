"""Profile validation: every mistake names the file and the field."""

from __future__ import annotations

import shutil

import pytest

from cpsdiag.emulator import profile as profiles
from cpsdiag.emulator import profilefiles
from tests.support.paths import ROOT


@pytest.fixture
def copy(tmp_path, pki):
    def make(name: str = "cps3-medecin"):
        target = tmp_path / name
        shutil.copytree(pki.cards / name, target)
        return target
    return make


def edit(folder, old: str, new: str) -> None:
    toml = folder / "card.toml"
    text = toml.read_text()
    assert old in text
    toml.write_text(text.replace(old, new, 1))


def test_shipped_profiles_load(pki):
    for name in pki.profiles:
        prof = profiles.load_folder(pki.cards / name)
        assert prof.name == name


@pytest.mark.parametrize("old,new,field,words", [
    ('generation = "CPS3"', 'generation = "CPS2"', "generation", "CPS3"),
    ('card_number = "2990000001"', 'card_number = "299000A001"', "card_number", "digits"),
    ('card_number = "2990000001"', 'card_number = "29900000011"', "card_number", "1 to 10 digits"),
    ('sector = "SA07"', 'sector = "07"', "data.situations[1].sector", "R02"),
    ('structure_id = "399999999900019"', 'structure_id = ""', "data.situations[1].structure_id", "empty"),
    ('structure_id = "399999999900019"', 'structure_id = "1"\ncolour = 1', "data.situations[1].colour", "unknown"),
    ("cps_data_size = 2048", "cps_data_size = 0", "data.cps_data_size", "integer from 1"),
    ("cps_data_size = 2048", 'cps_data = "0g"', "data.cps_data", "hexadecimal"),
    ("cps_data_size = 2048", 'cps_data_size = 2048\ncps_data = "00"', "data.cps_data_size", "not both"),
    ("cps_data_size = 2048", 'objects = { CPS_ACTIVITY_03_PS = "EE00" }', "data.objects.CPS_ACTIVITY_03_PS",
     "not a data object of this card"),
    ("cps_data_size = 2048", 'objects = { CPS2TER_ATR = "3B00" }', "data.objects.CPS2TER_ATR",
     "not a data object of this card"),
    ("cps_data_size = 2048", "colour = 1", "data.colour", "unknown key"),
    ('pin = "1234"', 'pin = "12"', "pin", "digits"),
    ("pin_tries_left = 3", "pin_tries_left = 4", "pin_tries_left", "between"),
    ('pin = "1234"', 'pin = "1234"\ncolour = "blue"', "colour", "unknown"),
    ('certificate = "auth.pem"', 'certificate = "nope.pem"', "auth.certificate", "not found"),
    ('key = "signature.key"', 'key = "auth.key"', "signature.certificate", "does not match"),
    ('interface = "contact"', 'interface = "usb"', "interface", "contact"),
])
def test_bad_values_are_named(copy, old, new, field, words):
    folder = copy()
    edit(folder, old, new)
    with pytest.raises(profiles.ProfileError) as err:
        profiles.load_folder(folder)
    assert err.value.field == field
    assert words in err.value.message
    assert str(folder) in str(err.value)


def test_bad_pem_and_bad_toml(copy):
    folder = copy()
    (folder / "auth.pem").write_text("-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n")
    with pytest.raises(profiles.ProfileError) as err:
        profiles.load_folder(folder)
    assert err.value.field == "auth.certificate" and err.value.file.endswith("auth.pem")
    (folder / "card.toml").write_text("generation = \n")
    with pytest.raises(profiles.ProfileError, match="not valid TOML"):
        profiles.load_folder(folder)


@pytest.mark.parametrize("algorithm", ["ed25519", "ec"])
def test_a_certificate_whose_key_is_not_rsa_is_named(copy, algorithm):
    """An Ed25519 certificate used to be a traceback (its key has no public numbers to compare)."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519
    from cryptography.x509.oid import NameOID

    folder = copy()
    key = ed25519.Ed25519PrivateKey.generate() if algorithm == "ed25519" else ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "not a CPS key")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
            .sign(key, None if algorithm == "ed25519" else hashes.SHA256()))
    (folder / "auth.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    with pytest.raises(profiles.ProfileError) as err:
        profiles.load_folder(folder)
    assert err.value.field == "auth.certificate" and "does not match" in err.value.message


def test_unknown_fault_is_refused(copy):
    folder = copy()
    (folder / "card.toml").write_text((folder / "card.toml").read_text() + "\n[faults]\nexplode = true\n")
    with pytest.raises(profiles.ProfileError) as err:
        profiles.load_folder(folder)
    assert err.value.field == "faults.explode"


def test_unknown_name_lists_known_profiles():
    with pytest.raises(profiles.ProfileError, match="cps3-medecin"):
        profiles.resolve("no-such-card")


def documented_profile_names() -> list[str]:
    """The names in the "Shipped profiles" table of docs/emulator.md: what users are told they can use."""
    doc = (ROOT / "docs" / "emulator.md").read_text()
    table = doc.split("### Shipped profiles", 1)[1].split("\n## ", 1)[0]
    return sorted(line.split("`")[1] for line in table.splitlines() if line.startswith("| `"))


def test_every_documented_profile_is_shipped_and_loads_by_name(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("CPSDIAG_CARDS", raising=False)
    names = documented_profile_names()
    assert len(names) >= 9
    assert profilefiles.shipped_names() == names
    for name in names:
        prof = profiles.load(name)
        assert prof.name == name
        assert prof.folder.is_relative_to(tmp_path / "cache")


def test_make_pki_writes_every_shipped_profile(pki):
    assert sorted(pki.profiles) == documented_profile_names()
    for name in pki.profiles:
        assert (pki.cards / name / "auth.pem").is_file()


@pytest.mark.parametrize("content,words", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not a UTF-8 text file"),
    ('generation = "CPS3"\ndescription = "caf\xe9"\n'.encode("latin-1"), "not a UTF-8 text file"),
    (b"generation = \"CPS3\"\x00\n", "not valid TOML"),
])
def test_binary_or_non_utf8_card_toml_is_refused(copy, content, words):
    folder = copy()
    (folder / "card.toml").write_bytes(content)
    with pytest.raises(profiles.ProfileError, match=words) as err:
        profiles.load_folder(folder)
    assert err.value.file.endswith("card.toml")


@pytest.mark.parametrize("old,new,field", [
    ('certificate = "auth.pem"', 'certificate = "../../etc/passwd"', "auth.certificate"),
    ('key = "auth.key"', 'key = "/etc/ssl/private/x.key"', "auth.key"),
    ('pin = "1234"', 'pin = "1234"\nanchors = "../anchors.pem"', "anchors"),
])
def test_files_outside_the_profile_folder_are_refused(copy, old, new, field):
    folder = copy()
    edit(folder, old, new)
    with pytest.raises(profiles.ProfileError, match="outside the profile folder") as err:
        profiles.load_folder(folder)
    assert err.value.field == field


def test_a_symbolic_link_out_of_the_folder_is_refused(copy, tmp_path):
    folder = copy()
    outside = tmp_path / "elsewhere.pem"
    (folder / "auth.pem").rename(outside)
    (folder / "auth.pem").symlink_to(outside)
    with pytest.raises(profiles.ProfileError, match="outside the profile folder"):
        profiles.load_folder(folder)


def test_make_pki_does_not_write_outside_a_profile_folder(tmp_path):
    from cpsdiag.emulator.pkigen import make_pki

    source = tmp_path / "src" / "evil"
    source.mkdir(parents=True)
    text = profilefiles.shipped_profiles().joinpath("cps3-medecin", "card.toml").read_text()
    (source / "card.toml").write_text(text.replace('certificate = "auth.pem"', 'certificate = "../../../owned.pem"'))
    with pytest.raises(profiles.ProfileError, match="outside the profile folder"):
        make_pki(tmp_path / "out", [tmp_path / "src"])
    assert not list(tmp_path.rglob("owned.pem"))


@pytest.mark.parametrize("command", [["validate"], ["run", "--profile"], ["--profile"]])
def test_profile_errors_are_usage_errors_without_traceback(copy, command):
    from tests.support.cli import cpsdiag

    folder = copy()
    (folder / "card.toml").write_bytes(b"\xff\xfe\x00binary")
    args = ["emulator", *command, str(folder)] + (["--", "true"] if command[0] == "run" else [])
    proc = cpsdiag(*args)
    assert proc.returncode == 2 and "not a UTF-8 text file" in proc.stderr and str(folder) in proc.stderr


def test_data_section_gives_situations_and_cps_data(copy):
    folder = copy()
    prof = profiles.load_folder(folder)
    assert [(s.structure_name, s.structure_id, s.sector) for s in prof.data.situations] == [
        ("CABINET DU DR EMULATEUR-MEDECIN", "399999999900019", "SA07"), ("CENTRE DE SANTE EMULATEUR", "1999999980", "SA05")]
    assert prof.data.cps_data == bytes(2048)
    edit(folder, "cps_data_size = 2048", 'cps_data = "01 02 03"\nobjects = { CPS_NAME_PS = "0C03414243" }')
    prof = profiles.load_folder(folder)
    assert prof.data.cps_data == b"\x01\x02\x03" and prof.data.objects == {"CPS_NAME_PS": b"\x0c\x03ABC"}


def test_a_card_without_situations_and_defaults_from_the_holder(copy):
    folder = copy()
    text = (folder / "card.toml").read_text()
    (folder / "card.toml").write_text(text[:text.index("[[data.situations]]")] + "situations = []\n")
    assert profiles.load_folder(folder).data.situations == ()
    (folder / "card.toml").write_text(text[:text.index("# The card's data objects")])
    # No [data]: one practice of the holder's own, named after the [holder] surname.
    (only,) = profiles.load_folder(folder).data.situations
    assert (only.structure_name, only.sector) == ("CABINET EMULATEUR-MEDECIN", "SA07")


def test_the_contactless_face_holds_no_situation(copy):
    folder = copy("cps3-sans-contact")
    assert profiles.load_folder(folder).data.situations == ()
    edit(folder, "cps_data_size = 2048", '[[data.situations]]\nstructure_name = "X"\nstructure_id = "1"\nsector = "SA07"')
    with pytest.raises(profiles.ProfileError) as err:
        profiles.load_folder(folder)
    assert err.value.field == "data.situations" and "contactless" in err.value.message


def test_validate_lists_the_data_objects(copy):
    from tests.support.cli import cpsdiag

    proc = cpsdiag("emulator", "validate", str(copy("cps4-infirmier")))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "  card number 3190000002, PIN tries 3/3" in lines
    assert "  data objects (15 in the DODF):" in lines
    assert any(line.split() == ["CPS_DATA", "0001/D107", "2048", "bytes"] for line in lines)
    assert any(line.split() == ["CPS_ACTIVITY_01_PS", "0001/D120", "54", "bytes", "(private)"] for line in lines)
    assert "  practice situations: 1" in lines
