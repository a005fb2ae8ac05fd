/** Shared helpers for test/train: tolerant comparisons and the committed PyTorch reference. */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

export interface AdamWStep {
  lr: number;
  grads: number[][];
  norm: number | null;
  params: number[][];
  exp_avg: number[][];
  exp_avg_sq: number[][];
}

export interface AdamWCase {
  name: string;
  shapes: number[][];
  betas: [number, number];
  eps: number;
  weight_decay: number;
  clip: number | null;
  initial: number[][];
  steps: AdamWStep[];
}

export interface ScheduleCase {
  kind: "constant" | "constant_with_warmup" | "linear" | "cosine";
  total: number;
  ratio: number;
  warmup: number;
  base_lr: number;
  lrs: number[];
}

export interface TorchReference {
  torch: string;
  adamw: AdamWCase[];
  schedules: ScheduleCase[];
}

const here = path.dirname(fileURLToPath(import.meta.url));

/** Numbers made by fixtures/torch_reference.py with PyTorch 1.13 (see that script). */
export function torchReference(): TorchReference {
  return JSON.parse(fs.readFileSync(path.join(here, "fixtures", "torch_reference.json"), "utf8")) as TorchReference;
}

/** Largest |a - b| / (atol + rtol |b|) over the arrays; <= 1 means within tolerance. */
export function worstRatio(a: ArrayLike<number>, b: ArrayLike<number>, rtol: number, atol: number): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / (atol + rtol * Math.abs(b[i])));
  return worst;
}

export function bitsEqual(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
