/**
 * `self_distill`: DINO's self-supervised pretraining of a vision tower (Caron et al. 2021), the core
 * of DINOv2's recipe (Oquab et al. 2023). A student tower and a teacher tower of the same shape,
 * each with a projection head ending in K prototypes, see different crops of the same image; the
 * student is trained to give, for every crop, the distribution the teacher gives for the other global
 * crop(s), and the teacher is an exponential moving average of the student:
 *
 *   crops     2 global (area 35-100% of the image unless the stage's `global_crops` says otherwise,
 *             resized to the tower's image size) and 4 local (area 10-35% unless `local_crops`, half
 *             the size; DINOv2 interpolates its position table to them), each
 *             colour-jittered as DINO does (runtime/data/augment.ts: p = 0.8 brightness, contrast,
 *             saturation and hue, p = 0.2 grey), the hue turned by up to the stage's `hue_jitter`
 *             (DINO's 0.1 of a turn unless set)
 *   head      pooled (class) token -> Linear -> GELU -> Linear -> GELU -> Linear to 64 -> L2 normalise
 *             -> prototypes [K = 256, 64], each row normalised (DINO's weight-normalised last layer)
 *   teacher   p_t = Sinkhorn-Knopp(exp(h_t / 0.005)) on the global crops, no gradient: 3 rounds of
 *             making every prototype equally used over the batch and every crop's row sum to 1
 *             (DINOv2's centring; it keeps the teacher from collapsing to one prototype or to the
 *             uniform distribution), in the log domain
 *   student   log p_s = log_softmax(h_s / 0.1) on every crop
 *   loss      mean over pairs (teacher crop i, student crop v ≠ i) of -Σ p_t log p_s
 *   after each step: teacher <- m teacher + (1 - m) student, m rising from 0.996 to 1 along a cosine
 *             over the stage
 *
 * The teacher's temperature is lower than DINO's 0.04-0.07: a tiny tower's embeddings of these
 * small images start nearly alike (cosines close to 1), and at 0.05 Sinkhorn-Knopp then hands every
 * crop a near-uniform target; the student learned to answer uniformly and the loss stayed at log K
 * (5.54 of 5.545 after 192 steps). At 0.005 the targets differ between images and the loss falls.
 * The colour jitter is DINO's, and needed here: without it two crops of a scene agree on its set of
 * distinct colours, which alone tells the scenes apart, and the tower learned little of the kinds
 * (the grid's colour questions are read all the same: 1 in 5 views is grey, and the hue of the rest
 * only turns). In six saturated colours even DINO's hue range leaves colour the easy invariant, which
 * is why the tiny recipe turns hues by up to half a turn (`hue_jitter = 0.5`).
 * Left out of DINOv2's recipe: its iBOT masked-patch loss and KoLeo regulariser, and the flips
 * (the synthetic task asks about sides).
 * The crops depend only on (seed, step, sample), so a resumed stage sees the same ones.
 */
import { cropInto, DINO_COLOUR, jitterColours, randomBox, Rng, type TrainingSample } from "../data/index.js";
import { activate, dims, linear, Specs, type ParamView } from "./common.js";
import type { Init } from "./init.js";
import { VISION_PREFIX, visionEncoder } from "./llava.js";
import { tf } from "../tf.js";
import { imagesOf, joinedView, llavaShapeOf, objectiveVariables, type Objective, type ObjectiveBatch, type ObjectiveContext } from "./objective_common.js";

const PROTOTYPES = 256;
const HIDDEN = 128;
const BOTTLENECK = 64;
const GLOBAL_CROPS = 2;
const LOCAL_CROPS = 4;
const GLOBAL_SCALE: readonly [number, number] = [0.35, 1];
const LOCAL_SCALE: readonly [number, number] = [0.1, 0.35];
const STUDENT_TEMPERATURE = 0.1;
const TEACHER_TEMPERATURE = 0.005;
const SINKHORN_ROUNDS = 3;
const TEACHER_MOMENTUM = 0.996;
const HEAD = "objective.head";
const TEACHER = "objective.teacher.";

/** A crop's area range, checked: 0 < min <= max <= 1. */
function cropScale(name: string, range: readonly [number, number] | undefined, fallback: readonly [number, number]): readonly [number, number] {
  const [min, max] = range ?? fallback;
  if (!(min > 0 && min <= max && max <= 1)) throw new RangeError(`self_distill: ${name} must be [min, max] with 0 < min <= max <= 1 (fractions of the image's area), got [${min}, ${max}]`);
  return [min, max];
}

export interface SelfDistillBatch extends ObjectiveBatch {
  /** [GLOBAL_CROPS·B, 3, S, S], crop-major */
  readonly globals: tf.Tensor;
  /** [LOCAL_CROPS·B, 3, S/2, S/2], crop-major */
  readonly locals: tf.Tensor;
  /** the teacher's distributions over the prototypes for the global crops: [GLOBAL_CROPS·B, K] */
  readonly teacherProbs: tf.Tensor;
}

function headSpecs(s: Specs, width: number): void {
  const w: Init = { kind: "truncNormal", std: 0.02 };
  s.linear("mlp.0", width, HIDDEN, { bias: true, weight: w });
  s.linear("mlp.1", HIDDEN, HIDDEN, { bias: true, weight: w });
  s.linear("mlp.2", HIDDEN, BOTTLENECK, { bias: true, weight: w });
  s.add("prototypes.weight", [PROTOTYPES, BOTTLENECK], w);
}

/** pooled [N, D] -> prototype scores [N, K] */
function head(p: ParamView, x: tf.Tensor): tf.Tensor {
  let h = activate(linear(x, p, "mlp.0"), "gelu");
  h = activate(linear(h, p, "mlp.1"), "gelu");
  h = unit(linear(h, p, "mlp.2")); // [N, 64]
  return tf.matMul(h, unit(p.get("prototypes.weight")), false, true); // [N, K]
}

/**
 * Sinkhorn-Knopp (SwAV, DINOv2): scores [N, K] -> a distribution per row whose prototypes are used
 * equally over the N rows.
 */
function sinkhorn(scores: tf.Tensor): tf.Tensor {
  const [N, K] = dims(scores);
  // in the log domain: at this temperature exp() of the scores underflows to 0 in float32
  let q = tf.div(scores, TEACHER_TEMPERATURE); // log q, [N, K]
  for (let i = 0; i < SINKHORN_ROUNDS; i++) {
    q = tf.sub(q, tf.add(tf.logSumExp(q, 0, true), Math.log(K))); // every prototype gets 1/K of the mass
    q = tf.sub(q, tf.add(tf.logSumExp(q, 1, true), Math.log(N))); // every row gets 1/N
  }
  return tf.mul(tf.exp(q), N); // rows sum to 1
}

/** Rows scaled to unit length. */
function unit(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, tf.rsqrt(tf.add(tf.sum(tf.square(x), -1, true), 1e-12)));
}

let serial = 0;

export function selfDistillObjective(ctx: ObjectiveContext): Objective<SelfDistillBatch> {
  const shape = llavaShapeOf(ctx.model);
  const encoder = visionEncoder(shape.vision);
  const specs = new Specs();
  headSpecs(specs.scope(HEAD), shape.vision.width);
  const parameters = objectiveVariables(specs.list, ctx.seed, true);

  // the teacher starts as a copy of the student (tower and head); `teacherView` reads it under the student's names
  const studentVision = [...ctx.model.parameters].filter(([name]) => name.startsWith(`${VISION_PREFIX}.`));
  const buffers = new Map<string, tf.Variable>();
  const teacherByName = new Map<string, tf.Variable>();
  for (const [name, v] of [...studentVision, ...parameters]) {
    const copy = tf.variable(v, false, `mmfm.teacher${serial++}/${name}`);
    buffers.set(TEACHER + name, copy);
    teacherByName.set(name, copy);
  }
  const S = ctx.imageSize.height;
  const local = Math.max(1, Math.floor(S / 2));
  const hue = ctx.hueJitter ?? DINO_COLOUR.hue;
  if (!(hue >= 0 && hue <= 0.5)) throw new RangeError(`self_distill: the hue jitter must be in [0, 0.5] (a fraction of a turn), got ${hue}`);
  const colour = { ...DINO_COLOUR, hue };
  const globalScale = cropScale("global_crops", ctx.globalCrops, GLOBAL_SCALE);
  const localScale = cropScale("local_crops", ctx.localCrops, LOCAL_SCALE);

  const embed = (view: ParamView, pixels: tf.Tensor): tf.Tensor => {
    const pooled = encoder.forward(view.scope(VISION_PREFIX), pixels, false).poolerOutput;
    if (!pooled) throw new Error(`the self_distill objective needs a pooled image embedding, and a ${shape.vision.family} tower without a head has none`);
    return head(view.scope(HEAD), pooled);
  };

  return {
    name: "self_distill",
    parameters,
    buffers,
    prepare(samples: readonly TrainingSample[], step: number): SelfDistillBatch {
      const images = imagesOf(samples, "self_distill", ctx.imageSize);
      const B = images.count;
      const per = 3 * S * S;
      const globals = new Float32Array(GLOBAL_CROPS * B * per);
      const locals = new Float32Array(LOCAL_CROPS * B * 3 * local * local);
      samples.forEach((sample, b) => {
        const rng = new Rng(ctx.seed, step, sample.index);
        const src = images.pixels.subarray(b * per, (b + 1) * per);
        for (let c = 0; c < GLOBAL_CROPS; c++) {
          cropInto(src, S, randomBox(rng, S, globalScale), S, globals, (c * B + b) * per);
          jitterColours(rng, globals, (c * B + b) * per, S, ctx.imageNormalization, colour);
        }
        for (let c = 0; c < LOCAL_CROPS; c++) {
          cropInto(src, S, randomBox(rng, S, localScale), local, locals, (c * B + b) * 3 * local * local);
          jitterColours(rng, locals, (c * B + b) * 3 * local * local, local, ctx.imageNormalization, colour);
        }
      });
      const g = tf.tensor4d(globals, [GLOBAL_CROPS * B, 3, S, S]);
      const l = tf.tensor4d(locals, [LOCAL_CROPS * B, 3, local, local]);
      const teacherProbs = tf.tidy(() => sinkhorn(embed(joinedView(teacherByName), g)));
      return { globals: g, locals: l, teacherProbs, tensors: [g, l, teacherProbs] };
    },
    loss(b) {
      const view = joinedView(ctx.model.parameters, parameters);
      const B = dims(b.globals)[0] / GLOBAL_CROPS;
      const student = tf.concat([embed(view, b.globals), embed(view, b.locals)], 0); // [(G + L)·B, K]
      const logp = tf.logSoftmax(tf.div(student, STUDENT_TEMPERATURE), -1);
      const crops = GLOBAL_CROPS + LOCAL_CROPS;
      let total: tf.Tensor = tf.scalar(0);
      let pairs = 0;
      for (let t = 0; t < GLOBAL_CROPS; t++) {
        const pt = tf.slice(b.teacherProbs, [t * B, 0], [B, PROTOTYPES]);
        for (let v = 0; v < crops; v++) {
          if (v === t) continue;
          const ls = tf.slice(logp, [v * B, 0], [B, PROTOTYPES]);
          total = tf.add(total, tf.div(tf.neg(tf.sum(tf.mul(pt, ls))), B));
          pairs++;
        }
      }
      return tf.div(total, pairs) as tf.Scalar;
    },
    afterStep(_batches, step) {
      tf.tidy(() => {
        const m = 1 - (1 - TEACHER_MOMENTUM) * (Math.cos((Math.PI * step) / ctx.steps) + 1) / 2;
        const student = new Map<string, tf.Tensor>([...studentVision, ...parameters]);
        for (const [name, teacher] of teacherByName) {
          teacher.assign(tf.add(tf.mul(teacher, m), tf.mul(student.get(name)!, 1 - m)));
        }
      });
    },
    dispose() {
      for (const v of [...parameters.values(), ...buffers.values()]) v.dispose();
    },
  };
}
