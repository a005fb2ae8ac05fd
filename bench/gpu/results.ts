/**
 * What the GPU check records (result.json, schema `mmfm-gpu-check/1`): written by check.ts, read by
 * report.ts, which renders it.
 */
import type { WebGpuStart } from "../../runtime/backend/webgpu.js";
import type { DecoderConfig } from "../runtime/decoder.js";
import type { CheckSize } from "./configs.js";
import type { LimitResult } from "./limit.js";
import type { ParityResult, StepTimes } from "./steps.js";

export interface TorchRun {
  backend: string;
  device: string;
  deviceName: string | null;
  stepMs: number[];
  medianMs: number;
  bestMs: number;
  gflops: number;
  losses: number[];
}

export interface DecoderResult {
  name: string;
  config: DecoderConfig;
  params: number;
  webgpu?: StepTimes;
  webgpuUnfused?: StepTimes;
  torch?: TorchRun;
  /** PyTorch's median step time over mmfm's (1 = as fast; the first milestone is 0.5). */
  speedVsTorch?: number;
  /** |mmfm's first loss - PyTorch's| on the same weights and batch. */
  firstLossDiff?: number;
  skipped?: string[];
}

export interface CheckResult {
  schema: "mmfm-gpu-check/1";
  date: string;
  size: CheckSize;
  host: { node: string; execPath: string; platform: string; cpu: string; cores: number; memoryGiB: number; gpu: string | null };
  webgpu?: WebGpuStart & { description: string };
  parity?: ParityResult;
  decoders: DecoderResult[];
  torch?: { version: string; cuda: boolean } | { missing: string };
  limit?: LimitResult;
  skipped: string[];
  errors: string[];
  seconds: number;
}
