"""Mutation fuzzer for the file formats ferrograd reads: ``.keras``, safetensors, ``.tiktoken``
and GPT-2 ``encoder.json`` + ``vocab.bpe``.

Each format starts from a valid file and loads mutated copies: byte edits (flips, inserts,
deletions, truncation, duplicated runs, little-endian u64s such as 2**64-1 over length fields),
structural edits (config.json and safetensors-header values replaced by huge numbers, wrong types
or 900-deep nesting; zip members dropped, duplicated, renamed or added; rank lines dropped,
duplicated or given huge or negative ranks). A load must succeed or raise a documented exception
with a message; never crash, hang or allocate beyond the worker's limit (``fuzz_helpers``; the peak
RSS is also checked). A model that loads is called once. (tests/test_tokenizer.py and
tests/test_keras_api.py hold the hand-written malformed-file cases and their messages.)

CI mode: derandomized, ~100 files per format. Long mode: ``FERROGRAD_FUZZ_EXAMPLES=<files per
format>`` and optionally ``FERROGRAD_FUZZ_SEED=<int>``.
"""
import os

import fuzz_helpers as fh
import pytest

SEED = int(os.environ["FERROGRAD_FUZZ_SEED"]) if os.environ.get("FERROGRAD_FUZZ_SEED") else None
TIMEOUT = 300 if not fh.long_mode() else 24 * 3600


@pytest.mark.parametrize("fmt", ["keras", "safetensors", "tiktoken", "gpt2"])
def test_mutated_files_load_or_fail_cleanly(fmt):
    report = fh.run_in_subprocess("fuzz_files_worker", [fmt], fh.ci_examples(100), TIMEOUT, seed=SEED)
    assert not report["failures"], fh.format_failures(report)
    assert report["calls"] >= 50
    errors = sum(v for k, v in report["outcomes"].items() if k not in ("ok", "not applicable"))
    assert errors > 0, report["outcomes"]  # the mutations do break files
    assert report.get("max_rss_mib", 0) < 1024, report.get("max_rss_mib")
