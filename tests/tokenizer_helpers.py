"""Shared helpers for the tokenizer tests: data location and tiktoken references built offline."""
from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def data_dir() -> Path | None:
    """``$FERROGRAD_DATA`` if set, else ``<repo>/../shared/data``; None when absent."""
    env = os.environ.get("FERROGRAD_DATA")
    d = Path(env) if env else REPO.parent / "shared" / "data"
    return d if d.is_dir() else None


def require_file(*parts: str) -> Path:
    d = data_dir()
    if d is None or not d.joinpath(*parts).is_file():
        pytest.skip(f"data file {'/'.join(parts)} not available")
    return d.joinpath(*parts)


@functools.cache
def tiktoken_reference(name: str):
    """tiktoken's own Encoding for ``name``, built from tiktoken_ext's definition (its pattern and
    special tokens) with the rank file read locally instead of downloaded."""
    tiktoken = pytest.importorskip("tiktoken")
    from tiktoken import load
    from tiktoken_ext import openai_public

    path = require_file("tiktoken", f"{name}.tiktoken")
    ranks = load.load_tiktoken_bpe(str(path))
    original = openai_public.load_tiktoken_bpe
    openai_public.load_tiktoken_bpe = lambda *a, **k: ranks
    try:
        spec = getattr(openai_public, name)()
    finally:
        openai_public.load_tiktoken_bpe = original
    return tiktoken.Encoding(**spec)


@functools.cache
def ours(name: str, fast: bool = True):
    from ferrograd import tokenizers

    path = require_file("tiktoken", f"{name}.tiktoken")
    return tokenizers.load_tiktoken(path, encoding=name, fast=fast)


# A broad corpus: prose, code, scripts, emoji and marks, whitespace runs, digits, contractions.
CORPUS = [
    "Hello, world! This is a test of the emergency broadcast system.",
    "The quick brown fox jumps over the lazy dog. 1234567890",
    "I'm, you're, he's, she'll, we've, they'd, it's. I'M YOU'RE HE'S SHE'LL WE'VE THEY'D IT'S",
    "I'm You'Re He'S She'lL We'vE They'D don't DON'T Don'T o'clock rock'n'roll 'tis ''quoted''",
    "def f(x):\n    return x ** 2  # square\n\n\nclass A(object):\n\tpass\n",
    "fn main() {\n    let v: Vec<u32> = (0..10).map(|i| i * 2).collect();\n    println!(\"{:?}\", v);\n}\n",
    "<html><body><div class=\"a\">&nbsp;&amp;</div></body></html>",
    "SELECT * FROM users WHERE id = 42 AND name LIKE '%bob%';",
    "中文字符测试。日本語のテキスト、カタカナ。한국어 텍스트입니다.",
    "العربية نص تجريبي مع أرقام ١٢٣٤٥٦٧٨٩٠ and mixed",
    "हिन्दी में लिखा गया पाठ। संस्कृतम्",
    "Русский текст с ЗАГЛАВНЫМИ буквами и цифрами 2024 года.",
    "Ελληνικά γράμματα και ΚΕΦΑΛΑΙΑ. עברית. ไทย ภาษา. ქართული",
    "emoji 😀😃😄 👨‍👩‍👧‍👦 👍🏽 🇺🇸🇫🇷 ❤️ ✨🎉",
    "combining: e\u0301 a\u0300\u0301\u0302 Z\u0351\u0352\u0353 \u0301\u0301 x\u20dd",
    "ǅungla ǈubljana Ǌ ǆ ᾈ ʰʲ ʷ ſt ﬁ ﬂ ℌ ℍ Ⅻ ½ ² ³ ①",
    "   leading spaces", "trailing spaces   ", "\t\ttabs\tand\t\tmore\t", "\n\n\nnewlines\n\n",
    "\r\n\r\nwindows\r\nline\r\n", "mixed \t \n \r\n  \u00a0\u2003\u3000 spaces", "a  b   c    d",
    "\u00a0\u00a0nbsp", "\u2028\u2029\u0085 separators", "\x0b\x0c vertical", "  \n  \n  ", " ", "", "\n",
    "1 12 123 1234 12345 123456 1234567 3.14159 -2.5e10 0x1F 1,000,000",
    "٣٤٥ ۱۲۳ १२३ ১২৩ 〇一二 ⅠⅡⅢ ¹²³",
    "!!!??? ... --- *** ((( ))) {{{ }}} /// \\\\ ||| ~~~ ``` '''",
    "a/b//c///d\n/e path/to/file.txt http://example.com/a?b=c&d=e#f",
    "CamelCaseWords and snake_case_words and SCREAMING_CASE and mIxEd",
    "HTTPServerError XMLHttpRequest iPhone McDonald's O'Reilly",
    "tab\tseparated\tvalues\nnext\tline",
    "x" * 300, " " * 257, "\n" * 130, "9" * 200, "ab" * 150, "😀" * 50,
    "The " + "very " * 60 + "end.",
]


def shakespeare() -> str:
    return require_file("tinyshakespeare", "input.txt").read_text(encoding="utf-8")
