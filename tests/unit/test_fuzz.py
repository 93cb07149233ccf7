"""Hostile data: every parser of card or network data, fed random and mutated input, lets out only
cpsdiag's own typed errors. A hostile card is a CardLink answering anything at all."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings, strategies as st

from cpsdiag import errors
from cpsdiag.card import pkcs15
from cpsdiag.card.commands import commands_for
from cpsdiag.card.efsn import parse_ef_sn
from cpsdiag.card.pin import parse_pin_sdo
from cpsdiag.card.reader import read_card
from cpsdiag.iso7816 import tlv
from cpsdiag.iso7816.fcp import parse_fcp
from cpsdiag.transport.base import TracedLink

# The documented files (opensc-cpx.md §9) as seeds for mutation.
SEEDS = [bytes.fromhex(h) for h in (
    "611A4F0DE828BD080F8025000001FF0010500343505351043F000001",
    "A80630040402700 1A00630040402700 2A406300404027005".replace(" ", ""),
    "303030090C0350494E030206C03003040101A11E301C030203080A0101020104020104020108800101 0401FF300404023F00"
    .replace(" ", ""),
    "7016BF810112A0109A01039B0103A1088C06F3000013FF00",
    "62258002000C8201018302D0038801E0A1128C077BFFFFFFFFFF009C077BFFFFFFFFFF008A0105",
    "5A0A8025000001992138450F",
)]


def tlv_bytes() -> st.SearchStrategy[bytes]:
    """BER-TLV-shaped bytes: the kind of input that reaches deep into the parsers."""
    leaf = st.tuples(st.sampled_from([0x02, 0x03, 0x04, 0x0C, 0x30, 0x4F, 0x50, 0x51, 0x61, 0x80, 0x9A, 0x9B,
                                      0xA0, 0xA1, 0xA4, 0xA8]), st.binary(max_size=20))

    def encode(item):
        tag, value = item
        return bytes([tag, len(value)]) + value if len(value) < 128 else bytes([tag, 0x81, len(value)]) + value

    def nest(children):
        return st.tuples(st.sampled_from([0x30, 0x61, 0xA0, 0xA1, 0xA4, 0xA8, 0x70, 0x62]), children.map(b"".join)) \
            .map(encode)

    return st.recursive(leaf.map(encode), lambda c: nest(st.lists(c, max_size=4)), max_leaves=12)


@st.composite
def mutated(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        if data and draw(st.booleans()):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        else:
            data = data[:draw(st.integers(0, len(data)))]
    return bytes(data)


PARSERS = (pkcs15.parse_ef_dir, pkcs15.parse_odf, pkcs15.parse_aodf, pkcs15.parse_prkdf, pkcs15.parse_cdf,
           parse_ef_sn, parse_pin_sdo, parse_fcp, tlv.parse)


@settings(max_examples=600, deadline=None)
@given(st.one_of(tlv_bytes(), mutated(), st.binary(max_size=64)))
def test_card_structure_parsers_let_out_only_malformed_data_errors(data):
    # A robustness property, kept once here (card/test_parsers.py had the same): the real properties follow.
    for parser in PARSERS:
        try:
            parser(data)
        except errors.MalformedDataError:
            pass


def asn1crypto_objects(data: bytes) -> list[tuple[int, bytes, int, bytes]] | None:
    """(offset, tag bytes, length-field size, value) of each top-level object as asn1crypto, an independent BER decoder, reads them;
    None when it refuses the bytes or reads an indefinite length (which BER allows and a card file may not use)."""
    from asn1crypto import parser

    out, pos = [], 0
    while pos < len(data):
        try:
            _cls, _method, _tag, header, contents, trailer = parser.parse(data[pos:], strict=False)
        except ValueError:
            return None
        tag_end = 1
        if header[0] & 0x1F == 0x1F:
            while header[tag_end] & 0x80:
                tag_end += 1
            tag_end += 1
        # Indefinite: the length field is the single byte 80 (81 80 is a length of 128).
        if trailer or header[tag_end:] == b"\x80":
            return None
        out.append((pos, header[:tag_end], len(header) - tag_end, contents))
        pos += len(header) + len(contents)
    return out


def _non_canonical_tag(tag: int) -> bool:
    encoded = tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")
    return len(encoded) > 1 and (encoded[1] == 0x80 or (len(encoded) == 2 and encoded[1] < 0x1F))


@settings(max_examples=600, deadline=None)
@given(st.one_of(tlv_bytes(), mutated(), st.binary(max_size=64)))
@example(bytes.fromhex("1f0000"))           # found by hypothesis: tag 1F00, a number below 31 in two bytes
@example(bytes.fromhex("308180") + bytes(128))  # found by hypothesis: a length of 128 in long form, not indefinite
def test_tlv_parse_agrees_with_asn1crypto(data):
    try:
        objects = tlv.parse(data)
    except errors.MalformedDataError:
        # Refused: asn1crypto refuses it too, or it uses what ISO 7816-4 files never hold (an indefinite length, a
        # tag of more than 4 bytes, a length field of more than 3).
        theirs = asn1crypto_objects(data)
        assert theirs is None or any(len(tag) > 4 or size > 4 for _o, tag, size, _v in theirs), data.hex()
        return
    theirs = asn1crypto_objects(data)
    if theirs is None and any(_non_canonical_tag(o.tag) for o in objects):
        # Accepted on purpose: a multi-byte tag for a number below 31 (9F01, as EMV and some cards write) or with
        # a leading 80 byte. X.690 forbids both and asn1crypto refuses them; card files carry the former.
        return
    assert theirs is not None, data.hex()
    assert [(o.offset, o.tag.to_bytes(max(1, (o.tag.bit_length() + 7) // 8), "big"), o.value) for o in objects] == \
        [(offset, tag, value) for offset, tag, _size, value in theirs]


@st.composite
def tlv_tree(draw, depth: int = 0):
    """(bytes, tree): a BER-TLV object built from its parts, the tree being (tag, value) or (tag, [children])."""
    if depth < 3 and draw(st.booleans()):
        tag = draw(st.sampled_from([0x30, 0x61, 0xA0, 0xA5, 0x70, 0x62, 0xBF8101]))
        children = draw(st.lists(tlv_tree(depth + 1), max_size=3))
        value = b"".join(c[0] for c in children)
        tree = (tag, [c[1] for c in children])
    else:
        tag = draw(st.sampled_from([0x04, 0x4F, 0x50, 0x80, 0x9A, 0x5F20, 0x9F7F]))
        value = draw(st.binary(max_size=300))
        tree = (tag, value)
    # Any length form BER allows for n (ISO 8825-1 §8.1.3: short, or 81/82/83 followed by 1 to 3 bytes).
    n = len(value)
    size = draw(st.sampled_from([k for k in (0, 1, 2, 3) if (k == 0 and n < 0x80) or (k and n < 256 ** k)]))
    length = bytes([n]) if size == 0 else bytes([0x80 | size]) + n.to_bytes(size, "big")
    return tag.to_bytes((tag.bit_length() + 7) // 8, "big") + length + value, tree


def as_tree(obj):
    return (obj.tag, [as_tree(c) for c in obj.children()]) if obj.constructed else (obj.tag, obj.value)


@settings(max_examples=300, deadline=None)
@given(st.lists(tlv_tree(), max_size=4))
def test_tlv_parse_gives_back_the_objects_it_was_built_from(parts):
    data = b"".join(p[0] for p in parts)
    assert [as_tree(o) for o in tlv.parse(data)] == [p[1] for p in parts]


class HostileCard(TracedLink):
    """Answers every command with data and a status word drawn by hypothesis."""

    def __init__(self, answers):
        super().__init__()
        self.reader, self.atr, self.protocol = "hostile", b"\x3b\x00", "T=0"
        self.answers = answers

    def _transmit(self, apdu: bytes) -> tuple[bytes, int]:
        if not self.answers or self.trace.count > 500:
            return b"", 0x6F00
        return self.answers.pop(0)


ANSWER = st.one_of(
    st.tuples(st.binary(max_size=40), st.sampled_from([0x9000, 0x6A82, 0x6B00, 0x6282, 0x6985, 0x6983])),
    st.tuples(st.just(b""), st.integers(0x6100, 0x61FF)),
    st.tuples(st.just(b""), st.integers(0x6C00, 0x6CFF)),
    st.tuples(st.one_of(mutated(), tlv_bytes()), st.just(0x9000)),
    st.tuples(st.just(b""), st.integers(0, 0xFFFF)),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["CPS3", "CPS4"]), st.lists(ANSWER, max_size=60))
def test_a_hostile_card_cannot_crash_the_reader(generation, answers):
    link = HostileCard(list(answers))
    try:
        data = read_card(commands_for(generation, link))
    except errors.CpsdiagError:
        return
    for problem in data.problems:
        assert isinstance(problem.error, errors.CpsdiagError)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=120))
def test_tls_distinguished_names_from_the_network(data):
    from cpsdiag.tls.probe import _cert_request, _dn_text

    assert isinstance(_dn_text(data), str)

    class Ext:
        extType, extData = 47, data

    class Request:
        certificate_authorities = [data]
        extensions = [Ext()]
        supported_signature_algs = [(4, 1), (8, 4), (255, 255)]

    request = _cert_request(Request())
    assert len(request.ca_names) >= 1


_json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                            lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                        max_size=4), max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_a_hostile_report_json_is_refused_with_a_message_never_a_crash(data):
    """Any JSON, or a real report's document with one section replaced by anything: decoded or SchemaError."""
    import json

    from cpsdiag.report.schema import SchemaError, decode_report
    from tests.support.report import report_doc

    doc = report_doc()
    if data.draw(st.booleans()):
        doc[data.draw(st.sampled_from(sorted(doc)))] = data.draw(_json_values)
        raw = json.dumps(doc)
    else:
        raw = data.draw(st.one_of(st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
                                  _json_values.map(json.dumps)))
    try:
        decode_report(raw)
    except SchemaError as exc:
        assert str(exc)
