"""ferrograd.tokenizers without the real vocabularies: files, trainer, threads, fork, errors.

Tests comparing with tiktoken import it lazily and skip when it is absent.
"""
from __future__ import annotations

import base64
import multiprocessing
import os
import sys
import threading

import pytest
from tokenizer_helpers import CORPUS, data_dir

from ferrograd import tokenizers


def byte_ranks(extra=()):
    ranks = {bytes([b]): b for b in range(256)}
    for t in extra:
        ranks[t] = len(ranks)
    return ranks


def write_tiktoken(path, lines):
    path.write_bytes(b"".join(lines))
    return path


def tiktoken_lines(ranks):
    return [base64.b64encode(t) + b" " + str(r).encode() + b"\n" for t, r in sorted(ranks.items(), key=lambda x: x[1])]


@pytest.fixture(scope="module")
def toy():
    ranks = byte_ranks([b"he", b"ll", b"hell", b"hello", b" w", b" wo", b"rl", b" world"])
    return tokenizers.BPETokenizer(ranks, pattern="cl100k_base", special_tokens={"<|endoftext|>": 300})


def test_toy_encode_decode(toy):
    assert toy.encode("hello world") == [259, 263]
    assert toy.decode([259, 263]) == "hello world"
    assert toy.n_vocab == 301 and toy.eot_token == 300
    assert toy.encode("hello<|endoftext|>", allowed_special="all") == [259, 300]
    with pytest.raises(ValueError, match="disallowed special token"):
        toy.encode("hello<|endoftext|>")
    assert toy.decode(toy.encode("hello<|endoftext|>", disallowed_special=())) == "hello<|endoftext|>"
    with pytest.raises(TypeError):
        toy.encode(b"bytes")
    with pytest.raises(TypeError):
        toy.encode("x", allowed_special="some")


def test_pickle_round_trip(toy):
    import pickle

    back = pickle.loads(pickle.dumps(toy))
    assert back.mergeable_ranks == toy.mergeable_ranks and back.special_tokens == toy.special_tokens
    assert back.encode("hello<|endoftext|>", allowed_special="all") == [259, 300]


def test_invalid_vocabularies_are_rejected():
    with pytest.raises(ValueError, match="0x00 has no rank"):
        tokenizers.BPETokenizer({bytes([b]): b - 1 for b in range(1, 256)} | {b"\x00\x01": 255})
    with pytest.raises(ValueError, match="special token"):
        tokenizers.BPETokenizer(byte_ranks(), special_tokens={"<s>": 5})
    with pytest.raises(ValueError, match="cannot compile regex"):
        tokenizers.BPETokenizer(byte_ranks(), pattern="(unclosed")


def test_save_load_round_trip(tmp_path, toy):
    p = tmp_path / "toy.tiktoken"
    toy.save(p)
    back = tokenizers.load_tiktoken(p, encoding=None, pattern="cl100k_base", special_tokens={"<|endoftext|>": 300})
    assert back.mergeable_ranks == toy.mergeable_ranks
    assert p.read_bytes() == b"".join(tiktoken_lines(toy.mergeable_ranks))
    for text in CORPUS:
        assert back.encode_ordinary(text) == toy.encode_ordinary(text)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda ls: ls[:-1] + [ls[-1][:-3]], "truncated"),
        (lambda ls: ls[:10] + [b"!!notbase64 10\n"] + ls[11:], "invalid base64"),
        (lambda ls: ls[:10] + [b"YQ== ten\n"] + ls[11:], "integer rank"),
        (lambda ls: ls[:10] + [b"YQ== 10 extra\n"] + ls[11:], "expected `base64 rank`"),
        (lambda ls: ls + [base64.b64encode(b"zz") + b" 5\n"], "duplicate rank"),
        (lambda ls: ls + [base64.b64encode(b"zz") + b" 300\n"], "missing"),
        (lambda ls: ls + [base64.b64encode(b"a") + b" 257\n"], "same token bytes"),
        (lambda ls: ls[1:], "missing"),
        (lambda ls: [], "empty"),
    ],
)
def test_malformed_files_rejected(tmp_path, mutate, message):
    lines = tiktoken_lines(byte_ranks([b"ab"]))
    p = write_tiktoken(tmp_path / "bad.tiktoken", mutate(lines))
    with pytest.raises(ValueError, match=message) as e:
        tokenizers.load_tiktoken(p)
    assert "bad.tiktoken" in str(e.value)


def test_missing_file_is_oserror(tmp_path):
    with pytest.raises(OSError, match="cannot read"):
        tokenizers.load_tiktoken(tmp_path / "nope.tiktoken")
    with pytest.raises(ValueError, match="unknown encoding"):
        tokenizers.load_tiktoken(tmp_path / "nope.tiktoken", encoding="cl50k")


def test_gpt2_mismatched_files_rejected(tmp_path):
    (tmp_path / "vocab.bpe").write_text("#version: 0.2\nĠ t\n")
    (tmp_path / "encoder.json").write_text('{"!": 0}')
    with pytest.raises(ValueError, match="do not match"):
        tokenizers.load_gpt2(tmp_path / "encoder.json", tmp_path / "vocab.bpe")
    (tmp_path / "encoder.json").write_text('{"!": ')
    with pytest.raises(ValueError, match="invalid JSON"):
        tokenizers.load_gpt2(tmp_path / "encoder.json", tmp_path / "vocab.bpe")


def corpus_text():
    d = data_dir()
    if d is not None and (d / "tinyshakespeare" / "input.txt").is_file():
        return (d / "tinyshakespeare" / "input.txt").read_text(encoding="utf-8")[:300_000]
    return "\n".join(CORPUS * 200)


def test_train_deterministic_and_round_trips(tmp_path):
    text = corpus_text()
    calls = []
    a = tokenizers.BPETokenizer.train(text, vocab_size=1000, special_tokens=["<|endoftext|>"],
                                      progress=lambda d, t: calls.append((d, t)))
    lines = text.splitlines(keepends=True)
    b = tokenizers.BPETokenizer.train(iter(lines), vocab_size=1000, special_tokens=["<|endoftext|>"],
                                      batch_bytes=10_000)
    c = tokenizers.BPETokenizer.train(lines, vocab_size=1000, special_tokens=["<|endoftext|>"])
    assert a.n_vocab == 1000 and a.eot_token == 999
    assert calls and calls[-1] == (743, 743)
    assert b.mergeable_ranks == c.mergeable_ranks  # batch size does not change the result
    assert a.mergeable_ranks == tokenizers.BPETokenizer.train(text, vocab_size=999).mergeable_ranks
    ids = a.encode(text[:5000])
    assert a.decode(ids) == text[:5000]
    assert len(ids) < len(text[:5000].encode()) / 2
    p = tmp_path / "trained.tiktoken"
    a.save(p)
    d = tokenizers.load_tiktoken(p, encoding=None, pattern="cl100k_base")
    assert d.encode_ordinary(text[:5000]) == a.encode_ordinary(text[:5000])


def test_train_matches_tiktoken_on_saved_vocab(tmp_path):
    tiktoken = pytest.importorskip("tiktoken")
    from tiktoken.load import load_tiktoken_bpe

    tok = tokenizers.BPETokenizer.train(corpus_text(), vocab_size=700, pattern="o200k_base")
    p = tmp_path / "t.tiktoken"
    tok.save(p)
    ref = tiktoken.Encoding("t", pat_str=tok.pattern, mergeable_ranks=load_tiktoken_bpe(str(p)), special_tokens={})
    for text in CORPUS + [corpus_text()[:20000]]:
        assert tok.encode_ordinary(text) == ref.encode_ordinary(text)
    assert tok.to_tiktoken().encode_ordinary(CORPUS[0]) == ref.encode_ordinary(CORPUS[0])


def test_train_arguments_validated():
    with pytest.raises(ValueError, match="at least 256"):
        tokenizers.BPETokenizer.train("abc", vocab_size=200)
    with pytest.raises(ValueError, match="min_frequency"):
        tokenizers.BPETokenizer.train("abc", vocab_size=300, min_frequency=0)

    def boom(done, total):
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        tokenizers.BPETokenizer.train(corpus_text(), vocab_size=800, progress=boom)
    # Few distinct pairs: training stops early at min_frequency instead of inventing tokens.
    small = tokenizers.BPETokenizer.train("ab ab ab", vocab_size=5000)
    assert small.n_vocab < 300


def test_many_python_threads_share_one_tokenizer(toy):
    texts = [t * 20 for t in CORPUS]
    want = [toy.encode_ordinary(t) for t in texts]
    errors = []

    def work():
        try:
            for _ in range(20):
                assert [toy.encode_ordinary(t) for t in texts] == want
                assert toy.encode_ordinary_batch(texts) == want
        except Exception as e:  # noqa: BLE001 - reported to the main thread
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def _child_encode(q, tok, texts):
    q.put(tok.encode_ordinary_batch(texts))


@pytest.mark.skipif(sys.platform == "win32" or not hasattr(os, "fork"), reason="needs fork")
def test_safe_after_fork(toy):
    texts = [t * 500 for t in CORPUS]
    want = toy.encode_ordinary_batch(texts)  # the pool exists in the parent before the fork
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_child_encode, args=(q, toy, texts))
    p.start()
    got = q.get(timeout=60)
    p.join(timeout=60)
    assert p.exitcode == 0
    assert got == want
