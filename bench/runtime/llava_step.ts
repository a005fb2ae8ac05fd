/**
 * Benchmark: one LLaVA fine-tuning step (CLIP frozen; connector and Gemma trained) on one backend.
 *
 *   npm run build && npx tsc -p tsconfig.bench.json && node bench/out/bench/runtime/llava_step.js --backend wasm --threads 2
 *
 * The model is the runtime's own (`createModel` from a Hugging Face-style config): CLIP ViT (112 px,
 * patch 14: 64 patches, width 256, 4 layers), a 2-layer MLP connector, and the tiny decoder of
 * decoder_step.ts as Gemma. Batch 8 x 128 tokens: 64 image tokens (filled in place by the image
 * features) then 64 text tokens. Options and output as decoder_step.ts (--backend, --threads,
 * --steps, --webgpu-software).
 */
import { tf } from "../../runtime/tf.js";
import { describeBackend, initBackend } from "../../runtime/backend/index.js";
import { createModel, trainableParameters } from "../../runtime/models/index.js";
import { createOptimizer, trainStep } from "../../runtime/train/index.js";

const IMAGE_TOKEN = 1023;
const PATCHES = 64;

export const BENCH_LLAVA = {
  model_type: "llava",
  image_token_index: IMAGE_TOKEN,
  vision_feature_layer: -2,
  vision_feature_select_strategy: "default",
  projector_type: "mlp",
  projector_hidden_act: "gelu",
  vision_config: {
    model_type: "clip_vision_model",
    hidden_size: 256,
    intermediate_size: 1024,
    num_hidden_layers: 4,
    num_attention_heads: 4,
    image_size: 112,
    patch_size: 14,
  },
  text_config: {
    model_type: "gemma",
    vocab_size: 1024,
    hidden_size: 256,
    intermediate_size: 1024,
    num_hidden_layers: 4,
    num_attention_heads: 4,
    num_key_value_heads: 1,
    head_dim: 64,
  },
};

const B = 8;
const T = 128;

/** FLOPs of one step: vision forward only (frozen), connector and language forward + backward. */
function stepFlops(params: Map<string, tf.Variable>): number {
  let vision = 0;
  let rest = 0;
  const usedLayers = BENCH_LLAVA.vision_config.num_hidden_layers - 1; // hidden state -2
  for (const [name, v] of params) {
    if (v.rank !== 2 || name.includes("position_embedding")) continue;
    const n = v.size;
    if (name.startsWith("vision_tower")) {
      const layer = /layers\.(\d+)\./.exec(name);
      if (layer == null ? name.includes("patch_embedding") : Number(layer[1] ?? Infinity) < usedLayers) vision += n;
    } else rest += n; // the tied embedding counts once: as the LM head
  }
  const vTokens = B * (PATCHES + 1);
  const { hidden_size: dv } = BENCH_LLAVA.vision_config;
  const { num_hidden_layers: lt, num_attention_heads: h, head_dim: hd } = BENCH_LLAVA.text_config;
  const visionAttention = 4 * usedLayers * (PATCHES + 1) * dv * vTokens;
  const textAttention = 12 * lt * T * h * hd * B * T;
  return 2 * vision * vTokens + visionAttention + 6 * rest * B * T + textAttention;
}

function inputs() {
  const ids = new Int32Array(B * T);
  const labels = new Int32Array(B * T);
  let s = 7;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      const token = t < PATCHES ? IMAGE_TOKEN : 2 + (s % 1000);
      ids[b * T + t] = token;
      labels[b * T + t] = token; // image positions become -100 inside the model
    }
  }
  const pixels = tf.randomUniform([B, 3, 112, 112], -1, 1, "float32", 3);
  return {
    inputIds: tf.tensor2d(ids, [B, T], "int32"),
    attentionMask: tf.ones([B, T], "int32"),
    labels: tf.tensor2d(labels, [B, T], "int32"),
    pixelValues: pixels,
  };
}

function parseArgs(argv: string[]) {
  const args: { backend?: string; threads?: number; steps: number; software: boolean } = { steps: 5, software: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--backend") args.backend = argv[++i];
    else if (a === "--threads") args.threads = Number(argv[++i]);
    else if (a === "--steps") args.steps = Number(argv[++i]);
    else if (a === "--webgpu-software") args.software = true;
    else throw new Error(`unknown option ${a}`);
  }
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const info = await initBackend({ backend: args.backend, threads: args.threads, webgpuSoftware: args.software });
  process.stderr.write(`backend: ${describeBackend(info)}\n`);
  const model = createModel(BENCH_LLAVA, { seed: 1 });
  const trainable = trainableParameters(model, ["connector", "language"]);
  const optimizer = createOptimizer({ lr: 1e-3, weightDecay: 0 }, model.parameters);
  const batch = inputs();
  const flops = stepFlops(model.parameters);
  const times: number[] = [];
  const losses: number[] = [];
  for (let i = 0; i <= args.steps; i++) {
    const t0 = performance.now();
    const r = trainStep({
      params: model.parameters,
      trainable: new Set(trainable.keys()),
      microBatches: [batch],
      loss: (b) => model.forward(b).loss as tf.Scalar,
      optimizer,
      lr: 1e-3,
      clip: 1,
    });
    losses.push((await r.loss.data())[0]);
    tf.dispose([r.loss, r.gradNorm as tf.Tensor]);
    const ms = performance.now() - t0;
    if (i > 0) times.push(ms);
    process.stderr.write(`step ${i}: loss ${losses[i].toFixed(6)} ${ms.toFixed(0)} ms${i === 0 ? " (warm-up)" : ""}\n`);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? NaN;
  const result = {
    backend: info.name,
    threads: info.threads,
    stepMs: times.map(Math.round),
    medianMs: Math.round(median),
    bestMs: Math.round(sorted[0] ?? NaN),
    gflops: +(flops / (median * 1e6)).toFixed(2),
    flopsPerStep: flops,
    losses,
  };
  process.stderr.write(`median ${result.medianMs} ms, ~${result.gflops} GFLOP/s (${(flops / 1e9).toFixed(2)} GFLOP per step)\n`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  optimizer.dispose();
  model.dispose();
  tf.dispose(Object.values(batch));
}

main().catch((e: unknown) => {
  process.stderr.write(`llava_step: ${(e as Error).message}\n`);
  if (process.env.MMFM_VERBOSE) process.stderr.write(`${(e as Error).stack}\n`);
  process.exitCode = 1;
});
