/**
 * The fused ops on WebGPU: WGSL compute programs run through tfjs-backend-webgpu's own program
 * interface (`backend.runWebGPUProgram`, as its built-in kernels do), one output per program.
 *
 *   op            forward                           backward
 *   GeGLU         1 element-wise pass               2 element-wise passes (d gate, d up)
 *   RMSNorm       1 pass, a workgroup per row       rstd per row; dx per row; dw in row chunks + sum
 *   cross-entropy nll per row; one mean             count of rows; d logits per row
 *   rotate-half   1 element-wise pass               1 pass (d x = -rotateHalf(dy))
 *
 * Composed from tfjs ops the same functions are 7-20 kernels each way. Numerics follow the wasm
 * kernels (float32, transformers' order); tanh is computed as tfjs-backend-webgpu computes it
 * (from exp, since some drivers' tanh is NaN for large inputs). Programs get the shapes of their
 * inputs and output from tfjs as uniforms; rows run one workgroup each (`WG` threads striding over
 * the row, a tree reduction in workgroup memory), and every barrier is reached by every thread.
 */
import { tf } from "../../tf.js";
import { GELU_BETA, GELU_KAPPA } from "../wasm_simd/kernels.js";
import { CROSS_ENTROPY } from "./cross_entropy.js";
import { GEGLU } from "./geglu.js";
import { RMS_NORM, type RmsNormOptions } from "./rms_norm.js";
import { ROTATE_HALF } from "./rotate_half.js";

/** The kernels registered on `webgpu` (forward and backward of each fused op). */
export const WEBGPU_FUSED_KERNELS = [GEGLU, RMS_NORM, CROSS_ENTROPY, ROTATE_HALF].flatMap((s) => [s.name, s.gradName]);

/** What tfjs-backend-webgpu needs of a program (its `WebGPUProgram` interface). */
interface Program {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  size?: boolean;
  uniforms?: string;
  getUserCode(): string;
}
type Uniform = { type: "float32" | "int32"; data: number[] };
interface WebGpuBackend {
  runWebGPUProgram(program: Program, inputs: tf.TensorInfo[], dtype: tf.DataType, uniforms?: Uniform[]): tf.TensorInfo;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.TypedArray): tf.TensorInfo;
  disposeData(dataId: unknown): boolean;
}

const ELEMENTWISE_WG = 64;
const MAX_F32 = "3.402823e+38";

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** One thread per element; `body` sees `index` (< uniforms.size). */
function elementwise(key: string, names: string[], shape: number[], body: string, uniforms?: string): Program {
  return {
    variableNames: names,
    outputShape: shape,
    shaderKey: key,
    dispatchLayout: { x: shape.map((_, i) => i) },
    dispatch: [Math.ceil(sizeOf(shape) / ELEMENTWISE_WG), 1, 1],
    workgroupSize: [ELEMENTWISE_WG, 1, 1],
    size: true,
    uniforms,
    getUserCode: () => `
      ${TANH}
      fn main(index : i32) {
        if (index < uniforms.size) {
          ${body}
        }
      }`,
  };
}

/** Threads per workgroup for a row of `length`: more for long rows (vocabulary-wide logits). */
function rowWorkgroup(length: number): number {
  return length >= 2048 ? 256 : 64;
}

/**
 * One workgroup per row of `rows`; `body` sees `row` (clamped to a real row), `live` (whether it
 * is one: tfjs may dispatch extra workgroups when rows exceed a dispatch dimension), `tid` and `WG`,
 * and can call `reduceSum` / `reduceMax` (every thread must call them, so never under `if`).
 */
function perRow(key: string, names: string[], outputShape: number[], rows: number, wg: number, body: string, uniforms?: string): Program {
  return {
    variableNames: names,
    outputShape,
    shaderKey: `${key}_wg${wg}`,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [rows, 1, 1],
    workgroupSize: [wg, 1, 1],
    uniforms: `rows : i32, ${uniforms ?? ""}`,
    getUserCode: () => `
      const WG = ${wg};
      var<workgroup> red : array<f32, ${wg}>;
      fn reduceSum(tid : i32, v : f32) -> f32 {
        red[tid] = v;
        workgroupBarrier();
        for (var s = WG / 2; s > 0; s = s / 2) {
          if (tid < s) { red[tid] = red[tid] + red[tid + s]; }
          workgroupBarrier();
        }
        let total = red[0];
        workgroupBarrier();
        return total;
      }
      fn reduceMax(tid : i32, v : f32) -> f32 {
        red[tid] = v;
        workgroupBarrier();
        for (var s = WG / 2; s > 0; s = s / 2) {
          if (tid < s) { red[tid] = max(red[tid], red[tid + s]); }
          workgroupBarrier();
        }
        let total = red[0];
        workgroupBarrier();
        return total;
      }
      ${TANH}
      fn main(index : i32) {
        let tid = i32(localId.x);
        let r = index / WG;
        let live = r < uniforms.rows;
        let row = min(r, uniforms.rows - 1);
        ${body}
      }`,
  };
}

const TANH = `
  fn tanhStable(v : f32) -> f32 {
    let e = exp(-2.0 * abs(v));
    return sign(v) * (1.0 - e) / (1.0 + e);
  }`;

// ---------------------------------------------------------------------------------------------
// GeGLU: y = gelu_tanh(gate) * up; gelu_tanh(x) = (0.5 x)(1 + tanh(beta (x + kappa x^3)))

const GELU = `
  let g = gate[index];
  let t = tanhStable(${GELU_BETA} * (g + ${GELU_KAPPA} * ((g * g) * g)));`;

function gegluForward(args: { inputs: { gate?: tf.TensorInfo; up?: tf.TensorInfo }; backend: unknown }): tf.TensorInfo {
  const backend = args.backend as WebGpuBackend;
  const { gate, up } = args.inputs as Required<typeof args.inputs>;
  const program = elementwise("mmfmGeglu", ["gate", "up"], gate.shape, `${GELU}\n result[index] = ((0.5 * g) * (1.0 + t)) * up[index];`);
  return backend.runWebGPUProgram(program, [gate, up], "float32");
}

function gegluBackward(args: { inputs: { gate?: tf.TensorInfo; up?: tf.TensorInfo; dy?: tf.TensorInfo }; backend: unknown }): tf.TensorInfo[] {
  const backend = args.backend as WebGpuBackend;
  const { gate, up, dy } = args.inputs as Required<typeof args.inputs>;
  // d gate = dy * up * gelu'(g), gelu'(g) = 0.5 (1 + t) + 0.5 g (1 - t^2) beta (1 + 3 kappa g^2)
  const dGate = elementwise(
    "mmfmGegluDGate",
    ["gate", "up", "dy"],
    gate.shape,
    `${GELU}
     let dgelu = 0.5 * (1.0 + t) + (0.5 * g) * (1.0 - t * t) * ${GELU_BETA} * (1.0 + 3.0 * ${GELU_KAPPA} * (g * g));
     result[index] = dy[index] * up[index] * dgelu;`,
  );
  const dUp = elementwise("mmfmGegluDUp", ["gate", "dy"], gate.shape, `${GELU}\n result[index] = dy[index] * ((0.5 * g) * (1.0 + t));`);
  return [backend.runWebGPUProgram(dGate, [gate, up, dy], "float32"), backend.runWebGPUProgram(dUp, [gate, dy], "float32")];
}

// ---------------------------------------------------------------------------------------------
// RMSNorm over the last axis: y = x * rstd * (offset + w), rstd = 1 / sqrt(mean(x^2) + eps)

/** Rows of the chunks the weight gradient is summed in (then the chunks are summed). */
const DW_CHUNK = 64;

function rmsNormForward(args: { inputs: { x?: tf.TensorInfo; weight?: tf.TensorInfo }; backend: unknown; attrs: RmsNormOptions }): tf.TensorInfo {
  const backend = args.backend as WebGpuBackend;
  const { x, weight } = args.inputs as Required<typeof args.inputs>;
  const d = x.shape[x.shape.length - 1];
  const rows = sizeOf(x.shape) / d;
  const program = perRow("mmfmRmsNorm", ["inp", "gamma"], x.shape, rows, rowWorkgroup(d), `
    let d = uniforms.d;
    let base = row * d;
    var ss = 0.0;
    for (var c = tid; c < d; c += WG) { let v = inp[base + c]; ss += v * v; }
    let rstd = 1.0 / sqrt(reduceSum(tid, ss) / f32(d) + uniforms.eps);
    if (live) {
      for (var c = tid; c < d; c += WG) { result[base + c] = (inp[base + c] * rstd) * (uniforms.offset + gamma[c]); }
    }`, "d : i32, eps : f32, offset : f32,");
  return backend.runWebGPUProgram(program, [x, weight], "float32", rmsUniforms(rows, d, args.attrs));
}

function rmsUniforms(rows: number, d: number, o: RmsNormOptions): Uniform[] {
  return [
    { type: "int32", data: [rows] },
    { type: "int32", data: [d] },
    { type: "float32", data: [o.eps] },
    { type: "float32", data: [o.offset] },
  ];
}

function rmsNormBackward(args: { inputs: { x?: tf.TensorInfo; weight?: tf.TensorInfo; dy?: tf.TensorInfo }; backend: unknown; attrs: RmsNormOptions }): tf.TensorInfo[] {
  const backend = args.backend as WebGpuBackend;
  const { x, weight, dy } = args.inputs as Required<typeof args.inputs>;
  const d = x.shape[x.shape.length - 1];
  const rows = sizeOf(x.shape) / d;
  const wg = rowWorkgroup(d);
  const uniforms = rmsUniforms(rows, d, args.attrs);
  const declared = "d : i32, eps : f32, offset : f32,";
  const rstd = backend.runWebGPUProgram(
    perRow("mmfmRmsNormRstd", ["inp"], [rows], rows, wg, `
      let d = uniforms.d;
      let base = row * d;
      var ss = 0.0;
      for (var c = tid; c < d; c += WG) { let v = inp[base + c]; ss += v * v; }
      let rstd = 1.0 / sqrt(reduceSum(tid, ss) / f32(d) + uniforms.eps);
      if (live && tid == 0) { result[row] = rstd; }`, declared),
    [x], "float32", uniforms,
  );
  // dx = rstd w' dy - x rstd^3 / d * sum(dy w' x), w' = offset + w
  const dx = backend.runWebGPUProgram(
    perRow("mmfmRmsNormDx", ["inp", "gamma", "dy", "rstd"], x.shape, rows, wg, `
      let d = uniforms.d;
      let base = row * d;
      let s = rstd[row];
      var wxdy = 0.0;
      for (var c = tid; c < d; c += WG) { wxdy += dy[base + c] * (uniforms.offset + gamma[c]) * inp[base + c]; }
      let k = s * s * s * reduceSum(tid, wxdy) / f32(d);
      if (live) {
        for (var c = tid; c < d; c += WG) {
          result[base + c] = s * (uniforms.offset + gamma[c]) * dy[base + c] - inp[base + c] * k;
        }
      }`, declared),
    [x, weight, dy, rstd], "float32", uniforms,
  );
  // dw[c] = sum over rows of dy x rstd: partial sums over chunks of rows, then over the chunks
  const chunks = Math.ceil(rows / DW_CHUNK);
  const partial = backend.runWebGPUProgram(
    elementwise("mmfmRmsNormDwPartial", ["inp", "dy", "rstd"], [chunks, d], `
      let d = uniforms.d;
      let chunk = index / d;
      let c = index - chunk * d;
      let end = min((chunk + 1) * ${DW_CHUNK}, uniforms.rows);
      var acc = 0.0;
      for (var r = chunk * ${DW_CHUNK}; r < end; r++) { acc += dy[r * d + c] * inp[r * d + c] * rstd[r]; }
      result[index] = acc;`, "rows : i32, d : i32,"),
    [x, dy, rstd], "float32", [{ type: "int32", data: [rows] }, { type: "int32", data: [d] }],
  );
  backend.disposeData(rstd.dataId);
  if (chunks === 1) return [dx, { dataId: partial.dataId, shape: [d], dtype: "float32" }];
  const dw = backend.runWebGPUProgram(
    elementwise("mmfmRmsNormDw", ["partial"], [d], `
      var acc = 0.0;
      for (var k = 0; k < uniforms.chunks; k++) { acc += partial[k * uniforms.size + index]; }
      result[index] = acc;`, "chunks : i32,"),
    [partial], "float32", [{ type: "int32", data: [chunks] }],
  );
  backend.disposeData(partial.dataId);
  return [dx, dw];
}

// ---------------------------------------------------------------------------------------------
// Cross-entropy: mean over rows whose label is not ignoreIndex of logsumexp(row) - row[label]

type CeInputs = { logits?: tf.TensorInfo; labels?: tf.TensorInfo; dy?: tf.TensorInfo };

/** max and sum of exp(x - max) of the row at `base`, into `mx` and `se` (all threads). */
const ROW_STATS = `
  let v = uniforms.v;
  let base = row * v;
  var m = -${MAX_F32};
  for (var c = tid; c < v; c += WG) { m = max(m, logits[base + c]); }
  let mx = reduceMax(tid, m);
  var e = 0.0;
  for (var c = tid; c < v; c += WG) { e += exp(logits[base + c] - mx); }
  let se = reduceSum(tid, e);
  let label = labels[row];
  let valid = label != uniforms.ignoreIndex;
  let inRange = label >= 0 && label < v;`;

/** One workgroup over all rows: the number of rows whose label is not ignored (as f32). */
function validRows(backend: WebGpuBackend, labels: tf.TensorInfo, ignoreIndex: number, extra?: tf.TensorInfo): tf.TensorInfo {
  const names = extra == null ? ["labels"] : ["labels", "nll"];
  const sumNll = extra != null;
  const program = perRow(sumNll ? "mmfmCeMean" : "mmfmCeCount", names, [1], 1, 256, `
    var n = 0.0;
    var total = 0.0;
    for (var i = tid; i < uniforms.m; i += WG) {
      if (labels[i] != uniforms.ignoreIndex) {
        n += 1.0;
        ${sumNll ? "total += nll[i];" : ""}
      }
    }
    let count = reduceSum(tid, n);
    ${sumNll ? "let sum = reduceSum(tid, total);" : ""}
    if (tid == 0) {
      ${sumNll ? "result[0] = select(sum / count, uniforms.NAN, count == 0.0);" : "result[0] = count;"}
    }`, "m : i32, ignoreIndex : i32,");
  const M = labels.shape[0];
  return backend.runWebGPUProgram(program, extra == null ? [labels] : [labels, extra], "float32", [
    { type: "int32", data: [1] },
    { type: "int32", data: [M] },
    { type: "int32", data: [ignoreIndex] },
  ]);
}

function crossEntropyForward(args: { inputs: CeInputs; backend: unknown; attrs: { ignoreIndex: number } }): tf.TensorInfo {
  const backend = args.backend as WebGpuBackend;
  const { logits, labels } = args.inputs as Required<CeInputs>;
  const [M, V] = logits.shape;
  // nll per row: logsumexp - x[label]; 0 for ignored rows, NaN for labels outside [0, V)
  const nll = backend.runWebGPUProgram(
    perRow("mmfmCeNll", ["logits", "labels"], [M], M, rowWorkgroup(V), `${ROW_STATS}
      if (live && tid == 0) {
        var value = 0.0;
        if (valid) { value = select(uniforms.NAN, mx + log(se) - logits[base + label], inRange); }
        result[row] = value;
      }`, "v : i32, ignoreIndex : i32,"),
    [logits, labels], "float32",
    [{ type: "int32", data: [M] }, { type: "int32", data: [V] }, { type: "int32", data: [args.attrs.ignoreIndex] }],
  );
  const mean = validRows(backend, labels, args.attrs.ignoreIndex, nll);
  backend.disposeData(nll.dataId);
  return { dataId: mean.dataId, shape: [], dtype: "float32" };
}

function crossEntropyBackward(args: { inputs: CeInputs; backend: unknown; attrs: { ignoreIndex: number } }): tf.TensorInfo[] {
  const backend = args.backend as WebGpuBackend;
  const { logits, labels, dy } = args.inputs as Required<CeInputs>;
  const [M, V] = logits.shape;
  const count = validRows(backend, labels, args.attrs.ignoreIndex);
  // d logits = (softmax - onehot(label)) * dy / count on valid rows, 0 on ignored ones
  const dLogits = backend.runWebGPUProgram(
    perRow("mmfmCeGrad", ["logits", "labels", "dy", "counted"], [M, V], M, rowWorkgroup(V), `${ROW_STATS}
      let g = dy[0] / counted[0];
      if (live) {
        for (var c = tid; c < v; c += WG) {
          var value = 0.0;
          if (valid) { value = (exp(logits[base + c] - mx) / se - select(0.0, 1.0, c == label)) * g; }
          result[base + c] = value;
        }
      }`, "v : i32, ignoreIndex : i32,"),
    [logits, labels, dy, count], "float32",
    [{ type: "int32", data: [M] }, { type: "int32", data: [V] }, { type: "int32", data: [args.attrs.ignoreIndex] }],
  );
  backend.disposeData(count.dataId);
  const dLabels = backend.makeTensorInfo([M], "int32", new Int32Array(M));
  return [dLogits, dLabels];
}

// ---------------------------------------------------------------------------------------------
// rotate_half: [x1, x2] -> sign * [-x2, x1] over the last axis

function rotate(backend: WebGpuBackend, x: tf.TensorInfo, sign: 1 | -1): tf.TensorInfo {
  const d = x.shape[x.shape.length - 1];
  const program = elementwise("mmfmRotateHalf", ["inp"], x.shape, `
    let half = uniforms.d / 2;
    let j = index % uniforms.d;
    let rowStart = index - j;
    var v = 0.0;
    if (j < half) { v = -inp[rowStart + j + half]; } else { v = inp[rowStart + j - half]; }
    result[index] = uniforms.sign * v;`, "d : i32, sign : f32,");
  return backend.runWebGPUProgram(program, [x], "float32", [{ type: "int32", data: [d] }, { type: "float32", data: [sign] }]);
}

// ---------------------------------------------------------------------------------------------

/** Registers the WGSL kernels on `webgpu` (idempotent; the gradients are registered by each op). */
export function registerWebGpuFusedKernels(): void {
  const kernels: [string, (args: never) => tf.TensorInfo | tf.TensorInfo[]][] = [
    [GEGLU.name, gegluForward],
    [GEGLU.gradName, gegluBackward],
    [RMS_NORM.name, rmsNormForward],
    [RMS_NORM.gradName, rmsNormBackward],
    [CROSS_ENTROPY.name, crossEntropyForward],
    [CROSS_ENTROPY.gradName, crossEntropyBackward],
    [ROTATE_HALF.name, (a: { inputs: { x?: tf.TensorInfo }; backend: unknown }) => rotate(a.backend as WebGpuBackend, a.inputs.x as tf.TensorInfo, 1)],
    // the gradient kernel gets {x, dy} and returns d/dx = -rotateHalf(dy)
    [ROTATE_HALF.gradName, (a: { inputs: { dy?: tf.TensorInfo }; backend: unknown }) => [rotate(a.backend as WebGpuBackend, a.inputs.dy as tf.TensorInfo, -1)]],
  ];
  for (const [name, fn] of kernels) {
    if (tf.getKernel(name, "webgpu") == null) {
      tf.registerKernel({ kernelName: name, backendName: "webgpu", kernelFunc: fn as unknown as tf.KernelFunc });
    }
  }
}
