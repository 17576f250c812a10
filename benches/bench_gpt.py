"""A tiny GPT side by side: training tokens/s of ferrograd's ``GPT2CausalLM.fit`` against a plain
PyTorch training loop of the same model (and Keras 3 / keras_hub's ``GPT2CausalLM.fit`` on the
PyTorch backend when a side environment has them), then KV-cache greedy decoding tokens/s at batch
1 against a hand-written PyTorch loop with its own cache (and Hugging Face ``generate`` /
keras_hub ``generate`` in the side environment).

    python benches/bench_gpt.py [--threads 2] [--rounds 3] [--steps 8] [--side-python /tmp/hfvenv/bin/python]
    python benches/bench_gpt.py --smoke          # a few seconds: checks the script runs

The model (nanoGPT's "tiny Shakespeare" size): vocabulary 65, block 128, 4 layers, 4 heads, width
128, MLP 512, GELU (tanh), pre-norm, tied output embedding, dropout 0; batch 32; Adam; random token
ids (throughput does not depend on them), so the script runs offline. Rounds alternate the
libraries of this process so a disturbance on a shared machine hits both; the side environment
(Keras 3, keras_hub, transformers; another interpreter, given by ``--side-python``) runs after,
with the same thread count, and is left out when not given or when its imports fail.

Decoding: a 16-token prompt grown to 128 tokens (112 generated) greedily, batch 1. ferrograd and
keras_hub prefill a cache the size of the whole output and attend one query row per step against
it (keras_hub's scheme); the PyTorch loop and Hugging Face grow their cache by concatenation.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--rounds", type=int, default=3)
ap.add_argument("--steps", type=int, default=8, help="training steps (batches) per timed run")
ap.add_argument("--prompt", type=int, default=16)
ap.add_argument("--side-python", default=None, help="an interpreter with keras 3 / keras_hub / transformers")
ap.add_argument("--smoke", action="store_true", help="tiny run: 2 steps, 1 round, 16 decoded tokens")
ap.add_argument("--worker", choices=["side"], default=None, help=argparse.SUPPRESS)
args = ap.parse_args()
if args.smoke:
    args.rounds, args.steps = 1, 2
os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402

VOCAB, BLOCK, LAYERS, HEADS, WIDTH, MLP, BATCH = 65, 128, 4, 4, 128, 512, 32
DECODE_LENGTH = 32 if args.smoke else BLOCK
rng = np.random.default_rng(0)


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def alternate(fns, rounds):
    for f in fns.values():
        f()
    times = {k: [] for k in fns}
    for _ in range(rounds):
        for k, f in fns.items():
            times[k].append(timed(f))
    return times


def train_data(steps):
    ids = rng.integers(0, VOCAB, (BATCH * steps, BLOCK + 1))
    return ids[:, :-1].astype(np.int32), ids[:, 1:].astype(np.int32)


def prompt_ids():
    return np.random.default_rng(1).integers(0, VOCAB, args.prompt).astype(np.int32)


# ---- ferrograd ---------------------------------------------------------------------------------------
def fg_model():
    from ferrograd.hub.models import GPT2Backbone, GPT2CausalLM

    backbone = GPT2Backbone(vocabulary_size=VOCAB, num_layers=LAYERS, num_heads=HEADS, hidden_dim=WIDTH,
                            intermediate_dim=MLP, dropout=0.0, max_sequence_length=BLOCK)
    return GPT2CausalLM(backbone)


def fg_train(x, y):
    import ferrograd as fg

    lm = fg_model()
    lm.compile(optimizer=fg.optimizers.Adam(1e-3))
    inputs = {"token_ids": x, "padding_mask": np.ones_like(x)}
    return lambda: lm.fit(inputs, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=False)


def fg_decode():
    lm = fg_model()
    lm.compile(sampler="greedy")
    prompt = prompt_ids().tolist()
    return lambda: lm.generate([prompt], max_length=DECODE_LENGTH)


# ---- PyTorch (a hand-written GPT of the same shapes) --------------------------------------------------
def torch_gpt():
    import torch
    from torch import nn
    from torch.nn import functional as F

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.ln_2 = nn.LayerNorm(WIDTH, eps=1e-5), nn.LayerNorm(WIDTH, eps=1e-5)
            self.c_attn, self.c_proj = nn.Linear(WIDTH, 3 * WIDTH), nn.Linear(WIDTH, WIDTH)
            self.c_fc, self.mlp_proj = nn.Linear(WIDTH, MLP), nn.Linear(MLP, WIDTH)

        def forward(self, x, past=None):
            b, t, _ = x.shape
            q, k, v = self.c_attn(self.ln_1(x)).split(WIDTH, dim=-1)
            q, k, v = (z.view(b, t, HEADS, WIDTH // HEADS).transpose(1, 2) for z in (q, k, v))  # (B, N, T, H)
            if past is not None:
                k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=past is None and t > 1)
            x = x + self.c_proj(y.transpose(1, 2).reshape(b, t, WIDTH))
            x = x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))
            return x, (k, v)

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte, self.wpe = nn.Embedding(VOCAB, WIDTH), nn.Embedding(BLOCK, WIDTH)
            self.blocks = nn.ModuleList(Block() for _ in range(LAYERS))
            self.ln_f = nn.LayerNorm(WIDTH, eps=1e-5)

        def forward(self, ids, cache=None, start=0):
            x = self.wte(ids) + self.wpe(torch.arange(start, start + ids.shape[1]))  # (B, T, D)
            new = []
            for i, block in enumerate(self.blocks):
                x, kv = block(x, None if cache is None else cache[i])
                new.append(kv)
            return self.ln_f(x) @ self.wte.weight.T, new  # (B, T, V)

    return GPT()


def torch_train(x, y):
    import torch

    model = torch_gpt()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xt, yt = torch.tensor(x, dtype=torch.long), torch.tensor(y, dtype=torch.long)

    def epoch():
        for i in range(0, len(xt), BATCH):
            opt.zero_grad(set_to_none=True)
            logits, _ = model(xt[i:i + BATCH])
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), yt[i:i + BATCH].reshape(-1))
            loss.backward()
            opt.step()
    return epoch


def torch_decode():
    import torch

    model = torch_gpt().eval()
    prompt = torch.tensor(prompt_ids()[None, :], dtype=torch.long)

    def run():
        with torch.inference_mode():
            logits, cache = model(prompt)
            ids = [int(logits[0, -1].argmax())]
            for pos in range(prompt.shape[1], DECODE_LENGTH - 1):
                logits, cache = model(torch.tensor([[ids[-1]]]), cache, pos)
                ids.append(int(logits[0, -1].argmax()))
        return ids
    return run


# ---- the side environment (Keras 3 + keras_hub, transformers) ------------------------------------------
def side_worker():
    """Runs in the side interpreter; prints one JSON line of {name: tokens/s}."""
    import torch

    torch.set_num_threads(args.threads)
    out = {}
    x, y = train_data(args.steps)
    try:
        import keras
        import keras_hub
    except ImportError as e:
        keras = None
        print(f"side: keras/keras_hub unavailable ({e})", file=sys.stderr)
    if keras is not None:
        backbone = keras_hub.models.GPT2Backbone(vocabulary_size=VOCAB, num_layers=LAYERS, num_heads=HEADS,
                                                 hidden_dim=WIDTH, intermediate_dim=MLP, dropout=0.0,
                                                 max_sequence_length=BLOCK)
        # keras_hub's Task.fit routes data through grain/tf.data; a plain keras.Model over the same
        # layers (the backbone, then the tied embedding's reverse projection) trains the same model
        logits = backbone.token_embedding(backbone(backbone.input), reverse=True)
        model = keras.Model(backbone.input, logits)
        model.compile(optimizer=keras.optimizers.Adam(1e-3),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        inputs = {"token_ids": x, "padding_mask": np.ones_like(x)}
        model.fit({k: v[:BATCH] for k, v in inputs.items()}, y[:BATCH], batch_size=BATCH, epochs=1, verbose=0)
        best = min(timed(lambda: model.fit(inputs, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=False))
                   for _ in range(args.rounds))
        out[f"keras {keras.__version__} (torch) fit"] = x.size / best
        lm = keras_hub.models.GPT2CausalLM(backbone=backbone, preprocessor=None)
        lm.compile(sampler="greedy")
        prompt = prompt_ids()
        ids = np.zeros((1, DECODE_LENGTH), np.int32)
        ids[0, :len(prompt)] = prompt
        mask = np.zeros((1, DECODE_LENGTH), bool)
        mask[0, :len(prompt)] = True

        def gen():
            return lm.generate({"token_ids": ids, "padding_mask": mask}, stop_token_ids=None)
        try:
            gen()
            best = min(timed(gen) for _ in range(args.rounds))
            out["keras_hub (torch) generate"] = (DECODE_LENGTH - len(prompt)) / best
        except ImportError as e:
            print(f"side: keras_hub generate unavailable ({e})", file=sys.stderr)
    try:
        import transformers

        config = transformers.GPT2Config(vocab_size=VOCAB, n_positions=BLOCK, n_embd=WIDTH, n_layer=LAYERS,
                                         n_head=HEADS, n_inner=MLP, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                                         bos_token_id=None, eos_token_id=None)
        model = transformers.GPT2LMHeadModel(config).eval()
        prompt = torch.tensor(prompt_ids()[None, :], dtype=torch.long)

        def hf_gen():
            with torch.inference_mode():
                return model.generate(prompt, max_length=DECODE_LENGTH, min_length=DECODE_LENGTH, do_sample=False,
                                      pad_token_id=0, eos_token_id=None)
        hf_gen()
        best = min(timed(hf_gen) for _ in range(args.rounds))
        out[f"transformers {transformers.__version__} generate"] = (DECODE_LENGTH - args.prompt) / best
    except ImportError as e:
        print(f"side: transformers unavailable ({e})", file=sys.stderr)
    print(json.dumps(out))


def side_results():
    if not args.side_python:
        return {}
    cmd = [args.side_python, os.path.abspath(__file__), "--worker", "side", "--threads", str(args.threads),
           "--rounds", str(args.rounds), "--steps", str(args.steps), "--prompt", str(args.prompt)]
    if args.smoke:
        cmd.append("--smoke")
    env = dict(os.environ, KERAS_BACKEND="torch", OMP_NUM_THREADS=str(args.threads))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        print(f"  (side environment failed: {proc.stderr.strip().splitlines()[-1:]})")
        return {}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def report(title, rates, base_key):
    print(title)
    base = rates[base_key]
    for k, rate in rates.items():
        extra = "" if k == base_key else f"  (ferrograd {base / rate:.2f}x)"
        print(f"  {k:44s} {rate:9.0f} tokens/s{extra}")


def main():
    import ferrograd as fg

    fg.set_num_threads(args.threads)
    try:
        import torch

        torch.set_num_threads(args.threads)
        have_torch = True
    except ImportError:  # the comparison column needs torch
        have_torch = False
    side = side_results()
    x, y = train_data(args.steps)
    fns = {"ferrograd GPT2CausalLM.fit": fg_train(x, y)}
    if have_torch:
        fns["torch loop"] = torch_train(x, y)
    times = alternate(fns, args.rounds)
    rates = {k: x.size / min(ts) for k, ts in times.items()}
    rates.update({k: v for k, v in side.items() if "fit" in k})
    report(f"training: GPT vocab {VOCAB}, block {BLOCK}, {LAYERS} layers, {HEADS} heads, width {WIDTH}, batch {BATCH},"
           f" {args.steps} steps per run, best of {args.rounds}, {args.threads} threads", rates,
           "ferrograd GPT2CausalLM.fit")
    fns = {"ferrograd GPT2CausalLM.generate": fg_decode()}
    if have_torch:
        fns["torch loop with KV cache"] = torch_decode()
    times = alternate(fns, args.rounds)
    new = DECODE_LENGTH - args.prompt
    rates = {k: new / min(ts) for k, ts in times.items()}
    rates.update({k: v for k, v in side.items() if "generate" in k})
    spread = {k: statistics.median(ts) / min(ts) for k, ts in times.items()}
    report(f"greedy decoding, batch 1: {args.prompt}-token prompt -> {DECODE_LENGTH} tokens ({new} generated), "
           f"best of {args.rounds} (median/best: " + ", ".join(f"{v:.2f}" for v in spread.values()) + ")", rates,
           "ferrograd GPT2CausalLM.generate")


if args.worker == "side":
    side_worker()
else:
    main()
