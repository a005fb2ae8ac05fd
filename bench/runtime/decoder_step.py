"""The tiny decoder training step in PyTorch, on the same weights and batch as decoder_step.ts.

    node bench/out/bench/runtime/decoder_step.js --backend wasm --write /tmp/decoder   # writes the inputs
    python3 bench/runtime/decoder_step.py /tmp/decoder [--steps 5]

Other sizes (the GPU check, bench/gpu/): --config FILE reads the decoder's shape from a JSON file
with decoder.ts's DecoderConfig fields (layers, width, heads, headDim, mlp, vocab, seq, batch,
ropeTheta, rmsEps); --device cuda runs it on the GPU in float32 with TF32 off (eager PyTorch's exact
fp32 step), synchronising before each step's clock starts; the loss read (`.item()`) ends each step,
as the tfjs side reads its loss.

Debian's torch 1.13 runs its GEMMs in OpenBLAS (pthreads), which torch.set_num_threads does not
control: the fastest setting on a 2-core machine is one intra-op thread with OpenBLAS on both cores
(OPENBLAS_NUM_THREADS=2, its default); set_num_threads(2) oversubscribes and is ~2.7x slower.
Prints the same JSON line as decoder_step.ts: {backend, stepMs, medianMs, gflops, losses}.
"""
import argparse
import json
import math
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

# Same model and step as decoder.ts / decoder_step.ts; the shape defaults to TINY_DECODER.
LAYERS, WIDTH, HEADS, HEAD_DIM, MLP, VOCAB, SEQ, BATCH = 4, 256, 4, 64, 1024, 1024, 128, 8
ROPE_THETA, RMS_EPS = 10000.0, 1e-6
LR, WEIGHT_DECAY, MAX_GRAD_NORM = 1e-3, 0.01, 1.0


def load_config(path):
    """Sets the shape from a DecoderConfig JSON file (decoder.ts)."""
    global LAYERS, WIDTH, HEADS, HEAD_DIM, MLP, VOCAB, SEQ, BATCH, ROPE_THETA, RMS_EPS
    with open(path) as f:
        c = json.load(f)
    if c.get("kvHeads", 1) != 1:
        raise SystemExit(f"decoder_step.py: only one key/value head is supported, got {c['kvHeads']}")
    LAYERS, WIDTH, HEADS, HEAD_DIM = c["layers"], c["width"], c["heads"], c["headDim"]
    MLP, VOCAB, SEQ, BATCH = c["mlp"], c["vocab"], c["seq"], c["batch"]
    ROPE_THETA, RMS_EPS = float(c["ropeTheta"]), float(c["rmsEps"])


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        dtype = {"F32": np.float32, "I32": np.int32}[meta["dtype"]]
        start, end = meta["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[start:end], dtype=dtype).reshape(meta["shape"]).copy())
    return out


def rope_tables():
    half = HEAD_DIM // 2
    cos = torch.zeros(SEQ, HEAD_DIM, dtype=torch.float64)
    sin = torch.zeros(SEQ, HEAD_DIM, dtype=torch.float64)
    for j in range(half):
        inv = float(np.float32(1.0 / ROPE_THETA ** ((2 * j) / HEAD_DIM)))  # as decoder.ts: fround
        for t in range(SEQ):
            a = t * inv
            for o in (0, half):
                cos[t, o + j] = math.cos(a)
                sin[t, o + j] = math.sin(a)
    return cos.float(), sin.float()


def causal_mask():
    m = torch.zeros(HEADS * SEQ, SEQ)
    for t in range(SEQ):
        m[t::SEQ, t + 1:] = -1e9  # rows are (head, position) folded
    return m


def rms_norm(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + RMS_EPS) * (1.0 + w)


def rotate_half(x):
    return torch.cat([-x[..., HEAD_DIM // 2:], x[..., : HEAD_DIM // 2]], dim=-1)


def loss_fn(p, ids, targets, cos, sin, mask):
    B, T, H, Hd = BATCH, SEQ, HEADS, HEAD_DIM
    x = p["model.embed_tokens.weight"][ids.reshape(-1)] * math.sqrt(WIDTH)  # [BT, D]
    for i in range(LAYERS):
        pre = f"model.layers.{i}"
        h = rms_norm(x, p[f"{pre}.input_layernorm.weight"])
        q = (h @ p[f"{pre}.self_attn.q_proj.weight"].T).reshape(B, T, H, Hd).transpose(1, 2)
        k = (h @ p[f"{pre}.self_attn.k_proj.weight"].T).reshape(B, 1, T, Hd)
        v = (h @ p[f"{pre}.self_attn.v_proj.weight"].T).reshape(B, T, Hd)
        q = (q * cos + rotate_half(q) * sin).reshape(B, H * T, Hd)
        k = (k * cos + rotate_half(k) * sin).reshape(B, T, Hd)
        scores = (q @ k.transpose(1, 2)) * (1 / math.sqrt(Hd)) + mask
        attn = (torch.softmax(scores, -1) @ v).reshape(B, H, T, Hd).transpose(1, 2).reshape(B * T, H * Hd)
        x = x + attn @ p[f"{pre}.self_attn.o_proj.weight"].T
        h2 = rms_norm(x, p[f"{pre}.post_attention_layernorm.weight"])
        act = F.gelu(h2 @ p[f"{pre}.mlp.gate_proj.weight"].T, approximate="tanh") * (h2 @ p[f"{pre}.mlp.up_proj.weight"].T)
        x = x + act @ p[f"{pre}.mlp.down_proj.weight"].T
    logits = rms_norm(x, p["model.norm.weight"]) @ p["model.embed_tokens.weight"].T
    return F.cross_entropy(logits, targets.reshape(-1).long())


def step_flops():
    matmul = LAYERS * (WIDTH * HEADS * HEAD_DIM * 2 + WIDTH * HEAD_DIM * 2 + 3 * WIDTH * MLP) + VOCAB * WIDTH
    tokens = BATCH * SEQ
    return 6 * matmul * tokens + 12 * LAYERS * SEQ * HEADS * HEAD_DIM * tokens


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads (OpenBLAS has its own)")
    ap.add_argument("--config", help="a DecoderConfig JSON file (default: the tiny decoder)")
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    args = ap.parse_args()
    if args.config:
        load_config(args.config)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = False  # fp32 GEMMs in fp32, as WebGPU computes them
        torch.backends.cudnn.allow_tf32 = False
    weights = read_safetensors(f"{args.dir}/weights.safetensors")
    batch = read_safetensors(f"{args.dir}/batch.safetensors")
    params = {k: torch.nn.Parameter(v.to(device)) for k, v in weights.items()}
    opt = torch.optim.AdamW(params.values(), lr=LR, weight_decay=WEIGHT_DECAY)
    cos, sin = (t.to(device) for t in rope_tables())
    mask = causal_mask().to(device)
    ids, targets = batch["ids"].long().to(device), batch["targets"].to(device)
    losses, times = [], []
    for i in range(args.steps + 1):
        if cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(params, ids, targets, cos, sin, mask)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params.values(), MAX_GRAD_NORM)
        opt.step()
        losses.append(loss.item())
        ms = (time.perf_counter() - t0) * 1000
        if i > 0:
            times.append(ms)
        print(f"step {i}: loss {losses[-1]:.6f} {ms:.0f} ms{' (warm-up)' if i == 0 else ''}", file=sys.stderr)
    med = sorted(times)[len(times) // 2]
    flops = step_flops()
    print(f"median {med:.0f} ms, {flops / med / 1e6:.2f} GFLOP/s", file=sys.stderr)
    print(json.dumps({
        "backend": f"torch {torch.__version__}", "threads": args.threads, "device": args.device,
        "deviceName": torch.cuda.get_device_name(device) if cuda else None, "tf32": False if cuda else None,
        "stepMs": [round(t) for t in times], "medianMs": round(med), "bestMs": round(min(times)),
        "gflops": round(flops / med / 1e6, 2), "flopsPerStep": flops, "losses": losses,
    }))


if __name__ == "__main__":
    main()
