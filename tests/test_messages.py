"""Messages and codecs: rules M1 (tags), M3 (typed decoding), M4 (schema evolution)."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

import actorflow as af
from actorflow._message import message_type


class Question(af.Message):
    text: str
    tags: list[str] = []
    score: float = 0.0


class Reply(af.Message, tag="reply.v1"):
    text: str
    tokens: int | None = None


class ConvState(af.State):
    history: list[str] = []
    turns: int = 0


def test_m1_tag_is_the_class_name_by_default() -> None:
    assert Question.__struct_config__.tag == "Question"
    assert message_type("Question") is Question
    assert b'"type":"Question"' in msgspec.json.encode(Question("hi"))


def test_m1_tag_can_be_overridden() -> None:
    assert message_type("reply.v1") is Reply


def test_m1_messages_are_frozen() -> None:
    msg = Question("hi")
    with pytest.raises(AttributeError):
        msg.text = "changed"  # type: ignore[misc]


def test_m1_two_types_with_one_tag_are_refused_at_definition() -> None:
    with pytest.raises(af.DefinitionError, match=r"tag 'reply.v1'.*already used by"):

        class Other(af.Message, tag="reply.v1"):
            text: str


def test_m1_redefining_the_same_class_replaces_it() -> None:
    def define() -> type[af.Message]:
        class Redefined(af.Message):
            x: int

        return Redefined

    first, second = define(), define()
    assert message_type("Redefined") is second
    assert first is not second


def test_m1_non_string_tags_are_refused() -> None:
    with pytest.raises(af.DefinitionError, match="use a string"):

        class Numbered(af.Message, tag=3):  # type: ignore[call-arg]
            x: int


texts = st.text(max_size=50)
questions = st.builds(
    Question,
    text=texts,
    tags=st.lists(texts, max_size=5),
    score=st.floats(allow_nan=False),
)
# JSON has no infinity (msgspec writes null), so the JSON round trip keeps to finite floats.
finite_questions = st.builds(
    Question,
    text=texts,
    tags=st.lists(texts, max_size=5),
    score=st.floats(allow_nan=False, allow_infinity=False),
)
replies = st.builds(Reply, text=texts, tokens=st.none() | st.integers(-(2**63), 2**63 - 1))


@given(st.one_of(questions, replies))
def test_m3_msgpack_round_trip_of_a_union(msg: af.Message) -> None:
    codec = af.Codec(Question, Reply)
    assert codec.decode(codec.encode(msg)) == msg


@given(st.one_of(finite_questions, replies))
def test_m3_json_round_trip_of_a_union(msg: af.Message) -> None:
    codec = af.Codec(Question, Reply)
    assert codec.decode_json(codec.encode_json(msg)) == msg


@given(st.builds(ConvState, history=st.lists(texts, max_size=5), turns=st.integers(0, 10**6)))
def test_m3_state_round_trip(state: ConvState) -> None:
    codec = af.Codec(ConvState)
    assert codec.decode(codec.encode(state)) == state


@given(st.binary(max_size=64))
def test_m3_arbitrary_bytes_decode_or_raise_a_typed_error(data: bytes) -> None:
    codec = af.Codec(Question, Reply)
    try:
        value = codec.decode(data)
    except af.DecodeError as exc:
        assert "Question" in str(exc)
        assert isinstance(exc.__cause__, msgspec.DecodeError)
    else:
        assert isinstance(value, Question | Reply)


def test_m3_decode_error_names_the_expected_types_and_the_problem() -> None:
    codec = af.Codec(Question, Reply)
    wrong = msgspec.msgpack.encode({"type": "Question", "text": 5})
    with pytest.raises(af.DecodeError, match=r"as Question, Reply: Expected `str`, got `int`"):
        codec.decode(wrong)
    with pytest.raises(af.DecodeError, match="Invalid value 'Nope'"):
        codec.decode_json(b'{"type": "Nope"}')


def test_m3_encode_error_is_typed() -> None:
    class Holder(af.Message):
        value: object

    with pytest.raises(af.EncodeError, match="cannot encode Holder"):
        af.Codec(Holder).encode(Holder(object()))


class Evolving(af.Message, tag="evolving"):
    text: str
    lang: str = "en"  # added in "version 2": it needs a default (M4)


def test_m4_bytes_of_an_older_version_decode_with_defaults() -> None:
    class OldWire(msgspec.Struct, tag="evolving"):  # what version 1 wrote
        text: str
        retired: int = 7  # a field version 2 dropped: ignored on decode

    old_bytes = msgspec.msgpack.encode(OldWire("hi"))
    assert af.Codec(Evolving).decode(old_bytes) == Evolving("hi", "en")


def test_codec_needs_types_and_tags_for_unions() -> None:
    with pytest.raises(af.DefinitionError):
        af.Codec()
    with pytest.raises(af.DefinitionError):
        af.Codec(ConvState, Question)  # type: ignore[arg-type]
