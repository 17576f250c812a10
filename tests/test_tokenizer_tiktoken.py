"""ferrograd.tokenizers against tiktoken on the real cl100k/o200k/r50k vocabularies.

Every test skips when the rank files (``$FERROGRAD_DATA`` or ``../shared/data``) or tiktoken are
absent.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tokenizer_helpers import CORPUS, ours, shakespeare, tiktoken_reference

NAMES = ["cl100k_base", "o200k_base", "r50k_base"]
HYP = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("name", NAMES)
def test_presets_equal_tiktoken_definitions(name):
    ref = tiktoken_reference(name)
    enc = ours(name)
    assert enc.pattern == ref._pat_str
    assert enc.special_tokens == ref._special_tokens
    assert enc.n_vocab == ref.n_vocab
    assert enc.eot_token == ref.eot_token
    assert enc.special_tokens_set == ref.special_tokens_set


@pytest.mark.parametrize("fast", [True, False], ids=["scanner", "regex"])
@pytest.mark.parametrize("name", NAMES)
def test_corpus_identical(name, fast):
    ref = tiktoken_reference(name)
    enc = ours(name, fast)
    assert enc._core.is_fast == fast
    for text in CORPUS:
        assert enc.encode_ordinary(text) == ref.encode_ordinary(text), repr(text)
        assert enc.encode(text) == ref.encode(text), repr(text)
        assert enc.decode(enc.encode_ordinary(text)) == text


@pytest.mark.parametrize("name", NAMES)
def test_shakespeare_identical(name):
    text = shakespeare()
    ref = tiktoken_reference(name)
    assert ours(name).encode_ordinary(text) == ref.encode_ordinary(text)


@pytest.mark.parametrize("name", NAMES)
def test_pretokenizer_scanner_equals_regex_on_corpus(name):
    fast, slow = ours(name, True), ours(name, False)
    for text in CORPUS:
        assert fast.pretokenize(text) == slow.pretokenize(text), repr(text)


# Text drawn mostly from characters where the patterns have decisions to make.
_TRICKY = st.sampled_from(
    list("aZsStTlLvVeErRdDmM'\" \t\n\r0123456789.,!?/-_()")
    + ["\u00a0", "\u2003", "\u3000", "\u0085", "\x0b", "\x0c", "\u2028", "\u0301", "\u0300", "\u093f", "\u017f",
       "\u01c5", "\u02b0", "\u00e9", "\u00c9", "\u4e2d", "\u0627", "\u0915", "\u0416", "\u0436", "\U0001f600",
       "\u200d", "\ufe0f", "\U0001f3fd", "\u0663", "\u2167", "\u00bd", "\U00010400", "\U00010428"]
)
TRICKY_TEXT = st.lists(_TRICKY, max_size=40).map("".join)


@pytest.mark.parametrize("name", NAMES)
@HYP
@given(text=st.one_of(st.text(max_size=60), TRICKY_TEXT))
def test_hypothesis_identical_and_round_trip(name, text):
    ref = tiktoken_reference(name)
    enc = ours(name)
    ids = enc.encode_ordinary(text)
    assert ids == ref.encode_ordinary(text)
    assert enc.decode(ids) == text
    assert enc.pretokenize(text) == ours(name, False).pretokenize(text)


@pytest.mark.parametrize("name", NAMES)
@HYP
@given(data=st.binary(max_size=80))
def test_hypothesis_bytes_round_trip_and_identical(name, data):
    enc = ours(name)
    ids = enc.encode_bytes(data)
    assert enc.decode_bytes(ids) == data
    assert ids == tiktoken_reference(name)._encode_bytes(data)


@HYP
@given(text=st.text(alphabet=st.characters(min_codepoint=0xD7F0, max_codepoint=0xE010), max_size=20))
def test_surrogates_replaced_like_tiktoken(text):
    ref = tiktoken_reference("cl100k_base")
    enc = ours("cl100k_base")
    assert enc.encode(text) == ref.encode(text)
    assert enc.encode_ordinary(text) == ref.encode_ordinary(text)


def test_lone_and_paired_surrogates():
    ref = tiktoken_reference("cl100k_base")
    enc = ours("cl100k_base")
    for text in ["a\ud800b", "\udfff", "x\ud83d\ude00y", "\ud83d", "ok \udc00\ud800 ok"]:
        assert enc.encode(text) == ref.encode(text)
        assert enc.encode_batch([text]) == [ref.encode(text)]


@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base"])
def test_special_token_semantics(name):
    ref = tiktoken_reference(name)
    enc = ours(name)
    text = "hi <|endoftext|> there <|endofprompt|><|endoftext|>x"
    for kwargs in [
        {"allowed_special": "all"},
        {"allowed_special": {"<|endoftext|>"}, "disallowed_special": ()},
        {"allowed_special": {"<|endoftext|>", "<|endofprompt|>"}},
        {"disallowed_special": ()},
        {"allowed_special": "all", "disallowed_special": ()},
    ]:
        assert enc.encode(text, **kwargs) == ref.encode(text, **kwargs), kwargs
        assert list(enc.encode_to_numpy(text, **kwargs)) == list(ref.encode_to_numpy(text, **kwargs))
        assert enc.encode_batch([text, "a"], **kwargs) == ref.encode_batch([text, "a"], **kwargs)
    for kwargs in [{}, {"allowed_special": {"<|endoftext|>"}}, {"disallowed_special": {"<|endofprompt|>"}}]:
        with pytest.raises(ValueError) as ours_err:
            enc.encode(text, **kwargs)
        with pytest.raises(ValueError) as ref_err:
            ref.encode(text, **kwargs)
        assert str(ours_err.value) == str(ref_err.value)
    assert enc.encode_ordinary(text) == ref.encode_ordinary(text)
    assert enc.decode(enc.encode(text, allowed_special="all")) == text


def test_decode_and_token_accessors():
    ref = tiktoken_reference("cl100k_base")
    enc = ours("cl100k_base")
    ids = ref.encode("héllo wörld 😀", disallowed_special=())
    assert enc.decode_bytes(ids) == ref.decode_bytes(ids)
    assert enc.decode_single_token_bytes(ids[0]) == ref.decode_single_token_bytes(ids[0])
    assert enc.decode_single_token_bytes(100257) == b"<|endoftext|>"
    assert enc.decode_batch([ids, ids[:2]]) == ref.decode_batch([ids, ids[:2]])
    assert enc.token_byte_values() == ref.token_byte_values()
    assert enc.encode_single_token("hello") == ref.encode_single_token("hello")
    # A partial UTF-8 sequence: "replace" by default, "strict" raises, others pass through.
    partial = enc.encode("😀")[:1]
    assert enc.decode(partial) == ref.decode(partial)
    with pytest.raises(UnicodeDecodeError):
        enc.decode(partial, errors="strict")
    assert enc.decode(partial, errors="ignore") == ref.decode(partial, errors="ignore")
    for bad in [100256, 100261, 10**6, 2**40, -1]:
        with pytest.raises(KeyError, match="unknown token id"):
            enc.decode([1, bad])
        with pytest.raises(KeyError):
            enc.decode_single_token_bytes(bad)


def test_batch_equals_single_and_numpy():
    enc = ours("cl100k_base")
    texts = CORPUS * 3
    assert enc.encode_ordinary_batch(texts) == [enc.encode_ordinary(t) for t in texts]
    big = [shakespeare()[i * 40000:(i + 1) * 40000] for i in range(8)]
    assert enc.encode_ordinary_batch(big) == [enc.encode_ordinary(t) for t in big]
    arr = enc.encode_to_numpy("hello world")
    assert arr.dtype.name == "uint32" and arr.tolist() == enc.encode("hello world")


@pytest.mark.parametrize("name", NAMES)
def test_pathological_inputs_identical(name):
    ref = tiktoken_reference(name)
    enc = ours(name)
    # tiktoken's merge loop is quadratic in piece length, so the cross-check stays small here;
    # the megabyte cases are timed below and in benches/.
    for text in ["a" * 3000, "7" * 3000, " " * 3000, "\n" * 3000, "ab" * 1500, "😀" * 700, "a\u0301" * 900]:
        assert enc.encode_ordinary(text) == ref.encode_ordinary(text)


def test_megabyte_of_one_character_is_fast():
    import time

    enc = ours("cl100k_base")
    for text in ["a" * 1_000_000, "1" * 1_000_000, " " * 1_000_000, "\u00e9" * 500_000]:
        t0 = time.perf_counter()
        ids = enc.encode_ordinary(text)
        elapsed = time.perf_counter() - t0
        assert enc.decode(ids) == text
        assert elapsed < 3.0, f"{elapsed:.2f}s for {text[:1]!r} x {len(text)}"


def test_gpt2_files_equal_r50k():
    from tokenizer_helpers import require_file

    from ferrograd import tokenizers

    gpt2 = tokenizers.load_gpt2(require_file("gpt2", "encoder.json"), require_file("gpt2", "vocab.bpe"))
    r50k = ours("r50k_base")
    assert gpt2.mergeable_ranks == r50k.mergeable_ranks
    text = CORPUS[0] + CORPUS[4]
    assert gpt2.encode(text) == r50k.encode(text)


def test_custom_pattern_matches_tiktoken():
    tiktoken = pytest.importorskip("tiktoken")
    from ferrograd import tokenizers

    base = ours("r50k_base")
    pat = r"""\p{L}+|\p{N}|[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
    ranks = base.mergeable_ranks
    mine = tokenizers.BPETokenizer(ranks, pattern=pat, special_tokens={"<|endoftext|>": 50256})
    ref = tiktoken.Encoding("custom", pat_str=pat, mergeable_ranks=ranks, special_tokens={"<|endoftext|>": 50256})
    for text in CORPUS:
        assert mine.encode(text) == ref.encode(text)


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(st.text(max_size=200), TRICKY_TEXT, st.text(alphabet=_TRICKY, min_size=50, max_size=300)))
def test_slow_many_examples_identical(name, text):
    assert ours(name).pretokenize(text) == ours(name, False).pretokenize(text)
    assert ours(name).encode_ordinary(text) == tiktoken_reference(name).encode_ordinary(text)


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_slow_source_code_identical(name):
    import glob
    import sysconfig

    ref, enc = tiktoken_reference(name), ours(name)
    files = sorted(glob.glob(sysconfig.get_paths()["stdlib"] + "/*.py"))[:300]
    for p in files:
        with open(p, encoding="utf-8", errors="surrogateescape") as f:
            text = f.read()
        assert enc.encode(text, disallowed_special=()) == ref.encode(text, disallowed_special=()), p
