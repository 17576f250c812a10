"""A nanoGPT-style GPT on Tiny Shakespeare, written with plain Keras layers, then sampling from it.

    FERROGRAD_DATA=../shared/data python examples/char_gpt.py [--steps 2000] [--seed 0]
        [--tokens char|bpe] [--vocab-size 512] [--ffn gelu|swiglu|moe] [--compare-torch] [--quick]

The text is read from ``$FERROGRAD_DATA/tinyshakespeare/input.txt`` (default ``../shared/data``
next to the repository); the first 90% trains, the last 10% is held out. ``--tokens char`` (the
default) models characters (65 symbols); ``--tokens bpe`` first trains ferrograd's byte-level
BPE tokenizer on the training text (``--vocab-size`` ids) and models its tokens instead.

The model is the tiny GPT of the benchmarks: block 128, 4 pre-norm decoder blocks of width 128
with 4 heads, each ``x + MHA(LN(x), causal)`` then ``x + Dense(C)(gelu(Dense(4C)(LN(x))))``,
a final LayerNorm and a Dense head to logits; learned token and position embeddings; AdamW::

    ids (B, T) -> tokens + positions (B, T, C) -> 4 x block (B, T, C) -> LN -> Dense(V) (B, T, V)

``--ffn swiglu`` swaps each block's feed-forward for a SwiGLU (``hub.layers.SwiGLU``, hidden width
8C/3: the same parameter count); ``--ffn moe`` for a mixture of 4 GELU experts of width 2C with
top-2 routing (``hub.layers.MixtureOfExperts``; its load-balancing loss joins the training loss).

Every step takes 32 random windows of 128 tokens and predicts every next token. With
``--compare-torch`` the same model is built as a plain PyTorch module with ferrograd's initial
weights copied in, trained on the same batches with the same AdamW settings, and both
held-out losses are printed side by side (they agree to float32 round-off growing over the
steps, not bit for bit). Sampling feeds the last ``block`` tokens back in, one new token at a
time, drawn from ``softmax(logits / temperature)``.
Measured (characters, ``--steps 1000 --compare-torch``, seed 0, 2-core AMD EPYC): held-out loss
1.790 (2.58 bits per character) against the PyTorch twin's 1.799; the training losses of the two
stayed within 0.004 of each other at every logged step.
"""
import argparse
import math
import os
import pathlib
import sys
import time

import numpy as np

import ferrograd as keras
from ferrograd import layers, ops

REPO = pathlib.Path(__file__).resolve().parents[1]
BLOCK, WIDTH, HEADS, DEPTH, BATCH = 128, 128, 4, 4, 32
EPS = 1e-5  # GPT's LayerNorm epsilon (Keras' default is 1e-3)


def data_path():
    root = os.environ.get("FERROGRAD_DATA") or str(REPO.parent / "shared" / "data")
    return pathlib.Path(root) / "tinyshakespeare" / "input.txt"


class TokenAndPositionEmbedding(layers.Layer):
    """Token embedding plus a learned position embedding of the first ``T`` positions."""

    def __init__(self, max_length, vocab_size, width, **kwargs):
        super().__init__(**kwargs)
        self.max_length, self.vocab_size, self.width = max_length, vocab_size, width
        init = keras.initializers.RandomNormal(stddev=0.02)
        self.token_emb = layers.Embedding(vocab_size, width, embeddings_initializer=init, name="token")
        self.pos_emb = layers.Embedding(max_length, width, embeddings_initializer=init, name="position")

    def build(self, input_shape):
        self.token_emb.build(input_shape)
        self.pos_emb.build((input_shape[-1],))

    def call(self, ids):  # (B, T) int -> (B, T, C)
        positions = ops.arange(0, ops.shape(ids)[-1], dtype="int32")  # (T,)
        return self.token_emb(ids) + self.pos_emb(positions)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.width,)

    def get_config(self):
        return {**super().get_config(), "max_length": self.max_length, "vocab_size": self.vocab_size,
                "width": self.width}


def feed_forward(kind, i, init):
    """The block's feed-forward: Dense(4C, gelu) -> Dense(C), a SwiGLU of the same parameter count,
    or a mixture of 4 experts (top-2 routing, load-balancing loss added to the model's losses)."""
    from ferrograd import hub

    if kind == "swiglu":
        return hub.layers.SwiGLU(8 * WIDTH // 3, name=f"swiglu_{i}")
    if kind == "moe":
        return hub.layers.MixtureOfExperts(4, 2 * WIDTH, top_k=2, name=f"moe_{i}")
    up = layers.Dense(4 * WIDTH, activation="gelu", kernel_initializer=init, name=f"up_{i}")
    down = layers.Dense(WIDTH, kernel_initializer=init, name=f"down_{i}")
    return up, down


def build_gpt(vocab, ffn="gelu"):
    """The functional GPT and its layers by role (the PyTorch twin reads its weights from them)."""
    init = keras.initializers.RandomNormal(stddev=0.02)
    ids = keras.Input((None,), dtype="int32")  # (B, T), T <= BLOCK
    emb = TokenAndPositionEmbedding(BLOCK, vocab, WIDTH, name="embed")
    x = emb(ids)  # (B, T, C)
    blocks = []
    for i in range(DEPTH):
        ln1 = layers.LayerNormalization(epsilon=EPS, name=f"ln1_{i}")
        att = layers.MultiHeadAttention(HEADS, WIDTH // HEADS, kernel_initializer=init, name=f"attn_{i}")
        ln2 = layers.LayerNormalization(epsilon=EPS, name=f"ln2_{i}")
        ff = feed_forward(ffn, i, init)
        h = ln1(x)
        x = x + att(h, h, use_causal_mask=True)  # (B, T, C)
        x = x + (ff[1](ff[0](ln2(x))) if isinstance(ff, tuple) else ff(ln2(x)))  # (B, T, C)
        blocks.append((ln1, att, ln2) + (ff if isinstance(ff, tuple) else (ff,)))
    ln_f = layers.LayerNormalization(epsilon=EPS, name="ln_f")
    head = layers.Dense(vocab, kernel_initializer=init, name="head")
    logits = head(ln_f(x))  # (B, T, V)
    return keras.Model(ids, logits, name="gpt"), (emb, blocks, ln_f, head)


def torch_twin(parts):
    """The same network as a plain PyTorch module holding copies of ferrograd's weights."""
    import torch
    import torch.nn.functional as F

    emb, blocks, ln_f, head = parts

    def p(w):
        return torch.nn.Parameter(torch.tensor(np.array(w.numpy(), np.float32)))

    class GPT(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.tok, self.pos = p(emb.token_emb.embeddings), p(emb.pos_emb.embeddings)
            self.blocks = torch.nn.ModuleList()
            for ln1, att, ln2, up, down in blocks:
                b = torch.nn.Module()
                b.ln1 = torch.nn.ParameterList([p(w) for w in ln1.weights])  # gamma, beta
                b.attn = torch.nn.ParameterList([p(w) for w in att.weights])  # q, k, v, o (kernel, bias)
                b.ln2 = torch.nn.ParameterList([p(w) for w in ln2.weights])
                b.mlp = torch.nn.ParameterList([p(w) for w in (*up.weights, *down.weights)])
                self.blocks.append(b)
            self.ln_f = torch.nn.ParameterList([p(w) for w in ln_f.weights])
            self.head = torch.nn.ParameterList([p(w) for w in head.weights])

        def forward(self, idx):  # (B, T) -> (B, T, V)
            t = idx.shape[1]
            x = self.tok[idx] + self.pos[:t]
            for b in self.blocks:
                h = F.layer_norm(x, (WIDTH,), b.ln1[0], b.ln1[1], EPS)
                qk, qb, kk, kb, vk, vb, ok, ob = b.attn
                q = (torch.einsum("btc,cnh->bnth", h, qk) + qb[None, :, None])  # (B, N, T, H)
                k = (torch.einsum("btc,cnh->bnth", h, kk) + kb[None, :, None])
                v = (torch.einsum("btc,cnh->bnth", h, vk) + vb[None, :, None])
                a = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, N, T, H)
                x = x + torch.einsum("bnth,nhc->btc", a, ok) + ob
                h = F.layer_norm(x, (WIDTH,), b.ln2[0], b.ln2[1], EPS)
                uk, ub, dk, db = b.mlp
                x = x + F.gelu(h @ uk + ub) @ dk + db
            x = F.layer_norm(x, (WIDTH,), self.ln_f[0], self.ln_f[1], EPS)
            return x @ self.head[0] + self.head[1]

    return GPT()


def windows(ids, starts):
    """Inputs (n, BLOCK) and next-token targets (n, BLOCK) of the windows starting at ``starts``."""
    w = ids[starts[:, None] + np.arange(BLOCK + 1)]
    return w[:, :-1], w[:, 1:]


def sample(model, prompt_ids, length, temperature, rng):
    out = list(prompt_ids)
    for _ in range(length):
        ctx = np.array([out[-BLOCK:]], np.int32)  # (1, t <= BLOCK)
        logits = model.predict_on_batch(ctx)  # (1, t, V)
        z = logits[0, -1].astype(np.float64) / max(temperature, 1e-6)
        prob = np.exp(z - z.max())
        out.append(int(rng.choice(len(prob), p=prob / prob.sum())))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=2000, help="training steps of 32 x 128 tokens")
    ap.add_argument("--learning-rate", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tokens", choices=("char", "bpe"), default="char")
    ap.add_argument("--vocab-size", type=int, default=512, help="BPE vocabulary size (with --tokens bpe)")
    ap.add_argument("--ffn", choices=("gelu", "swiglu", "moe"), default="gelu",
                    help="feed-forward of each block: Dense-GELU-Dense, SwiGLU or a 4-expert top-2 mixture")
    ap.add_argument("--compare-torch", action="store_true", help="train the same model in a PyTorch loop too")
    ap.add_argument("--temperature", type=float, default=0.8)
    ap.add_argument("--prompt", default="ROMEO:\n")
    ap.add_argument("--sample-length", type=int, default=300, help="tokens to generate")
    ap.add_argument("--log-every", type=int, default=250)
    ap.add_argument("--quick", action="store_true", help="smoke run: 40 steps, a short sample")
    args = ap.parse_args()
    if args.quick:
        args.steps, args.log_every, args.sample_length = 40, 20, 60

    path = data_path()
    if not path.is_file():
        sys.exit(f"Tiny Shakespeare not found at {path}: set FERROGRAD_DATA to the folder holding "
                 "tinyshakespeare/input.txt (default: ../shared/data next to the repository)")
    text = path.read_text(encoding="utf-8")
    split_at = len(text) * 9 // 10
    if args.tokens == "char":
        chars = sorted(set(text))
        stoi = {ch: i for i, ch in enumerate(chars)}
        vocab = len(chars)
        ids = np.array([stoi[ch] for ch in text], np.int32)
        split = split_at

        def encode(s):
            return [stoi[ch] for ch in s]

        def decode(toks):
            return "".join(chars[t] for t in toks)
    else:
        t0 = time.perf_counter()
        tok = keras.tokenizers.BPETokenizer.train(text[:split_at], vocab_size=args.vocab_size, pattern="gpt2")
        vocab = tok.n_vocab
        train_ids, held_ids = tok.encode_ordinary(text[:split_at]), tok.encode_ordinary(text[split_at:])
        ids = np.array(train_ids + held_ids, np.int32)
        split = len(train_ids)
        encode, decode = tok.encode_ordinary, tok.decode
        print(f"BPE tokenizer trained in {time.perf_counter() - t0:.1f} s: {vocab} ids, "
              f"{len(text) / len(ids):.2f} characters per token")
    train, held = ids[:split], ids[split:]
    print(f"{len(text):,} characters -> {len(ids):,} tokens of a {vocab}-symbol vocabulary; "
          f"{len(train):,} train / {len(held):,} held out")

    keras.utils.set_random_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    if args.compare_torch and args.ffn != "gelu":
        sys.exit("--compare-torch builds the PyTorch twin of the GELU feed-forward only")
    model, parts = build_gpt(vocab, args.ffn)
    optimizer = keras.optimizers.AdamW(args.learning_rate, weight_decay=args.weight_decay, epsilon=1e-8)
    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.summary()
    twin = torch_optim = None
    if args.compare_torch:
        try:
            import torch
        except ImportError:
            sys.exit("--compare-torch needs PyTorch (python ../shared/wheels/install_torch.py)")
        twin = torch_twin(parts)
        # Keras' AdamW decays every weight by default, as torch's does here: same update.
        torch_optim = torch.optim.AdamW(twin.parameters(), lr=args.learning_rate, weight_decay=args.weight_decay,
                                        eps=1e-8)
        torch_time, torch_losses = 0.0, []

    n_held = 32 if args.quick else 256
    hx, hy = windows(held, np.linspace(0, len(held) - BLOCK - 1, n_held).astype(np.int64))
    t0 = time.perf_counter()
    losses, train_time, logged_time = [], 0.0, 0.0
    for step in range(1, args.steps + 1):
        x, y = windows(train, rng.integers(0, len(train) - BLOCK - 1, BATCH))  # (B, T) each
        t1 = time.perf_counter()
        losses.append(float(model.train_on_batch(x, y)))
        train_time += time.perf_counter() - t1
        if twin is not None:
            t1 = time.perf_counter()
            logits = twin(torch.from_numpy(x.astype(np.int64)))
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, vocab), torch.from_numpy(y.astype(np.int64))
                                                     .reshape(-1))
            torch_optim.zero_grad()
            loss.backward()
            torch_optim.step()
            torch_time += time.perf_counter() - t1
            torch_losses.append(loss.item())
        if step % args.log_every == 0 or step == args.steps:
            line = (f"step {step}/{args.steps}  loss {np.mean(losses):.4f}  "
                    f"{len(losses) * BATCH * BLOCK / (train_time - logged_time):,.0f} tokens/s")
            if twin is not None:
                line += f"  (PyTorch twin loss {np.mean(torch_losses):.4f})"
                torch_losses = []
            print(line, flush=True)
            logged_time, losses = train_time, []

    held_loss = float(model.evaluate(hx, hy, batch_size=64, verbose=0))
    tps = args.steps * BATCH * BLOCK / train_time
    print(f"held-out loss {held_loss:.4f}  ({held_loss / math.log(2):.3f} bits per token)  "
          f"{tps:,.0f} tokens/s  training {train_time:.1f} s")
    if twin is not None:
        with torch.no_grad():
            tl = [float(torch.nn.functional.cross_entropy(
                twin(torch.from_numpy(hx[i:i + 64].astype(np.int64))).reshape(-1, vocab),
                torch.from_numpy(hy[i:i + 64].astype(np.int64)).reshape(-1), reduction="sum"))
                for i in range(0, len(hx), 64)]
        torch_held = sum(tl) / hy.size
        print(f"PyTorch twin: held-out loss {torch_held:.4f}  "
              f"{args.steps * BATCH * BLOCK / torch_time:,.0f} tokens/s  training {torch_time:.1f} s  "
              f"(difference {held_loss - torch_held:+.4f}; ferrograd {torch_time / train_time:.2f}x its speed)")

    t1 = time.perf_counter()
    out = sample(model, encode(args.prompt), args.sample_length, args.temperature, rng)
    print(f"--- sample (temperature {args.temperature}, {args.sample_length} tokens in "
          f"{time.perf_counter() - t1:.1f} s) ---")
    print(decode(out))
    print("---")
    print(f"wall time {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
