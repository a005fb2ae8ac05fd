/**
 * The backbones' pretraining objectives (runtime/train/objectives.ts): what each trains, that it
 * learns, and that everything it draws at random is a function of the seed and the step.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { collate, type TrainingSample } from "../../runtime/data/index.js";
import { initBackend } from "../../runtime/backend/index.js";
import { createModel, trainableParameters, type PretrainedModel } from "../../runtime/models/index.js";
import { tf } from "../../runtime/tf.js";
import { IMAGENET_MEAN, IMAGENET_STD } from "../../plan/normalization.js";
import { createOptimizer, readStep, trainStep } from "../../runtime/train/index.js";
import { createObjective, languageModelLabels, type Objective, type ObjectiveName } from "../../runtime/models/objectives.js";
import { TINY_DINO, TINY_LLAVA, tinyPixels } from "./tiny.js";

beforeAll(async () => {
  await initBackend({ backend: "wasm", threads: 1 });
});

const IMAGE = 31;
const DINO_LLAVA = { ...TINY_LLAVA, vision_config: TINY_DINO };

/** Samples with distinct images and distinct captions (the assistant's tokens: labels not -100). */
async function samples(n: number, seed = 1): Promise<TrainingSample[]> {
  const pixels = (await tinyPixels(n, 16, seed).data()) as Float32Array;
  const per = 3 * 16 * 16;
  return Array.from({ length: n }, (_, i) => {
    const caption = [5 + i, 9 + ((3 * i) % 7), 20 + (i % 5)];
    const inputIds = Int32Array.from([2, 4, ...Array(4).fill(IMAGE), 3, ...caption]);
    const labels = Int32Array.from([-100, -100, ...Array(4).fill(-100), -100, ...caption]);
    return { index: i, fileIndex: i, id: `s${i}`, inputIds, labels, pixelValues: pixels.slice(i * per, (i + 1) * per), imageStart: 2, truncated: false, mismatch: false };
  });
}

function objectiveFor(name: ObjectiveName, model: PretrainedModel, steps = 20): Objective {
  return createObjective(name, { model, seed: 5, steps, padId: 0, bosId: 2, imageTokenId: IMAGE, imageSize: { height: 16, width: 16 }, imageNormalization: { mean: IMAGENET_MEAN, std: IMAGENET_STD } });
}

async function values(params: ReadonlyMap<string, tf.Variable>, prefix: string): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [name, v] of params) if (name.startsWith(prefix)) out.set(name, (await v.data()) as Float32Array);
  return out;
}

/** Trains `steps` steps on one batch; returns the losses. */
async function train(model: PretrainedModel, objective: Objective, batch: TrainingSample[], steps: number, lr: number): Promise<number[]> {
  const params = new Map([...model.parameters, ...objective.parameters]);
  const trainable = new Set([...trainableParameters(model, ["vision"]).keys(), ...objective.parameters.keys()]);
  const optimizer = createOptimizer({ lr, weightDecay: 0 }, params);
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const b = objective.prepare(batch, step);
    try {
      const result = trainStep({ params, trainable, microBatches: [b], loss: (x) => objective.loss(x), optimizer, lr, clip: 1 });
      objective.afterStep?.([b], step + 1);
      losses.push((await readStep(result)).loss);
    } finally {
      tf.dispose([...b.tensors]);
    }
  }
  optimizer.dispose();
  return losses;
}

describe("lm", () => {
  it("makes every real token a label, but not padding or image positions", () => {
    const b = collate(
      [
        { inputIds: [2, 7, IMAGE, IMAGE, 8], labels: [-100, -100, -100, -100, 8], pixelValues: null },
        { inputIds: [2, 9], labels: [-100, 9], pixelValues: null },
      ],
      { padId: 3 },
    );
    languageModelLabels(b, IMAGE);
    expect(Array.from(b.labels)).toEqual([2, 7, -100, -100, 8, 2, 9, -100, -100, -100]);
  });
});

describe("sft", () => {
  it("keeps the template's labels (the replies only), where `lm` makes every real token one", () => {
    const model = createModel(TINY_LLAVA, { seed: 3 });
    const text = [
      { index: 0, fileIndex: 0, id: "t0", inputIds: Int32Array.from([2, 7, 9, 3, 8, 11]), labels: Int32Array.from([-100, -100, -100, -100, 8, 11]), pixelValues: null, imageStart: -1, truncated: false, mismatch: false },
    ] as unknown as TrainingSample[];
    const labelsOf = async (name: ObjectiveName) => {
      const o = objectiveFor(name, model);
      expect(o.name).toBe(name);
      const b = o.prepare(text, 0) as unknown as { labels: tf.Tensor; tensors: tf.Tensor[] };
      const labels = Array.from((await b.labels.data()) as Int32Array);
      tf.dispose(b.tensors);
      o.dispose();
      return labels;
    };
    return Promise.all([labelsOf("sft"), labelsOf("lm"), labelsOf("llava")]).then(([sft, lm, llava]) => {
      expect(sft).toEqual([-100, -100, -100, -100, 8, 11]);
      expect(llava).toEqual(sft);
      expect(lm).toEqual([2, 7, 9, 3, 8, 11]);
      model.dispose();
    });
  });
});

describe("contrastive", () => {
  it("learns to match each image with its caption, training the vision tower and its own text tower only", async () => {
    const model = createModel(TINY_LLAVA, { seed: 3 });
    const objective = objectiveFor("contrastive", model);
    const batch = await samples(6);
    const frozen = await values(model.parameters, "language_model.");
    const connector = await values(model.parameters, "multi_modal_projector.");
    const vision = await values(model.parameters, "vision_tower.");
    const losses = await train(model, objective, batch, 40, 3e-3);
    expect(losses[0]).toBeGreaterThan(Math.log(6) - 0.3); // chance: ln 6 for six pairs
    expect(losses[losses.length - 1]).toBeLessThan(0.3 * losses[0]);
    for (const [name, before] of [...frozen, ...connector]) expect((await model.parameters.get(name)!.data()) as Float32Array).toEqual(before);
    let moved = 0;
    for (const [name, before] of vision) if (!((await model.parameters.get(name)!.data()) as Float32Array).every((x, i) => x === before[i])) moved++;
    expect(moved).toBeGreaterThan(vision.size / 2);
    expect([...objective.parameters.keys()].every((k) => k.startsWith("objective.") && !model.parameters.has(k))).toBe(true);
    objective.dispose();
    model.dispose();
  });

  it("refuses a batch where a sample has no image", async () => {
    const model = createModel(TINY_LLAVA, { seed: 3 });
    const objective = objectiveFor("contrastive", model);
    const batch = await samples(2);
    expect(() => objective.prepare([batch[0], { ...batch[1], pixelValues: null }], 0)).toThrow(/needs an image in every sample, but sample 1 \(`s1`\) has none/);
    objective.dispose();
    model.dispose();
  });
});

describe("self_distill", () => {
  it("draws its crops from the seed, the step and the sample alone", async () => {
    const model = createModel(DINO_LLAVA, { seed: 3 });
    const a = objectiveFor("self_distill", model);
    const b = objectiveFor("self_distill", model);
    const batch = await samples(3);
    const read = async (o: Objective, step: number, s: TrainingSample[]) => {
      const x = o.prepare(s, step) as unknown as { globals: tf.Tensor; locals: tf.Tensor; tensors: tf.Tensor[] };
      const out = [(await x.globals.data()) as Float32Array, (await x.locals.data()) as Float32Array];
      tf.dispose(x.tensors);
      return out;
    };
    const [g0, l0] = await read(a, 4, batch);
    const [g1, l1] = await read(b, 4, batch);
    expect(g1).toEqual(g0);
    expect(l1).toEqual(l0);
    expect((await read(a, 5, batch))[0]).not.toEqual(g0);
    // a sample's crops do not depend on its batch: sample 2 alone gets the crops it got beside 0 and 1
    const [alone] = await read(a, 4, [batch[2]]);
    const per = 3 * 16 * 16;
    expect(alone.slice(0, per)).toEqual(g0.slice(2 * per, 3 * per));
    a.dispose();
    b.dispose();
    model.dispose();
  });

  it("turns its views' hues as far as `hueJitter` says: DINO's 0.1 of a turn by default", async () => {
    // one colour everywhere, with green = blue: brightness, contrast, saturation and clamping keep its
    // hue at 0, so a view's hue is the jitter's turn (or none: grey views, and views not jittered)
    const model = createModel(DINO_LLAVA, { seed: 3 });
    const per = 3 * 16 * 16;
    const rgb = [0.7, 0.3, 0.3];
    const pixel = rgb.map((v, c) => (v - IMAGENET_MEAN[c]) / IMAGENET_STD[c]);
    const base = (await samples(16))[0];
    const batch = Array.from({ length: 16 }, (_, i) => ({ ...base, index: i, id: `s${i}`, pixelValues: Float32Array.from({ length: per }, (_, k) => pixel[Math.floor(k / 256)]) }));
    const turns = async (hueJitter: number | undefined): Promise<number[]> => {
      const objective = createObjective("self_distill", { model, seed: 5, steps: 20, padId: 0, bosId: 2, imageTokenId: IMAGE, imageSize: { height: 16, width: 16 }, imageNormalization: { mean: IMAGENET_MEAN, std: IMAGENET_STD }, hueJitter });
      const out: number[] = [];
      for (let step = 0; step < 4; step++) {
        const x = objective.prepare(batch, step) as unknown as { globals: tf.Tensor; tensors: tf.Tensor[] };
        const g = (await x.globals.data()) as Float32Array;
        tf.dispose(x.tensors);
        for (let v = 0; v < g.length / per; v++) {
          const [r, gr, b] = [0, 1, 2].map((c) => g[v * per + c * 256] * IMAGENET_STD[c] + IMAGENET_MEAN[c]);
          const max = Math.max(r, gr, b), d = max - Math.min(r, gr, b);
          if (d < 1e-3) continue; // grey
          const h = max === r ? ((gr - b) / d) / 6 : max === gr ? ((b - r) / d + 2) / 6 : ((r - gr) / d + 4) / 6;
          out.push(((h + 1.5) % 1) - 0.5); // in [-0.5, 0.5)
        }
      }
      objective.dispose();
      return out;
    };
    const widest = (xs: number[]) => Math.max(...xs.map(Math.abs));
    const dino = await turns(undefined);
    expect(widest(dino)).toBeLessThanOrEqual(0.1 + 1e-3);
    expect(widest(dino)).toBeGreaterThan(0.05);
    const half = await turns(0.5);
    expect(half.length).toBeGreaterThan(64);
    expect(widest(half)).toBeGreaterThan(0.4);
    expect(half.filter((h) => Math.abs(h) > 0.1 + 1e-3).length).toBeGreaterThan(half.length / 2);
    expect(widest(await turns(0))).toBeLessThan(1e-3);
    model.dispose();
  });

  it("cuts its global and local crops from the areas `globalCrops` and `localCrops` say, each range its own crops", async () => {
    // white with black stripes 2 px wide every 4 px: a crop's width shows as the dark runs along a row
    // of the view (the colour jitter keeps dark below light within a view; the crop's bilinear
    // resampling may blur a stripe's edge, not merge two)
    const model = createModel(DINO_LLAVA, { seed: 3 });
    const per = 3 * 16 * 16;
    const value = (x: number, c: number) => ((x % 4 < 2 ? 0 : 1) - IMAGENET_MEAN[c]) / IMAGENET_STD[c];
    const base = (await samples(1))[0];
    const batch = Array.from({ length: 16 }, (_, i) => ({ ...base, index: i, id: `s${i}`, pixelValues: Float32Array.from({ length: per }, (_, k) => value(k % 16, Math.floor(k / 256))) }));
    const views = async (crops: { globalCrops?: [number, number]; localCrops?: [number, number] }) => {
      const objective = createObjective("self_distill", { model, seed: 5, steps: 20, padId: 0, bosId: 2, imageTokenId: IMAGE, imageSize: { height: 16, width: 16 }, imageNormalization: { mean: IMAGENET_MEAN, std: IMAGENET_STD }, ...crops });
      const x = objective.prepare(batch, 0) as unknown as { globals: tf.Tensor; locals: tf.Tensor; tensors: tf.Tensor[] };
      const out = { globals: (await x.globals.data()) as Float32Array, locals: (await x.locals.data()) as Float32Array };
      tf.dispose(x.tensors);
      objective.dispose();
      return out;
    };
    /** the mean number of dark runs along the middle row of each global view */
    const darkRuns = (globals: Float32Array) => {
      const counts: number[] = [];
      for (let v = 0; v < globals.length / per; v++) {
        const row = Array.from({ length: 16 }, (_, x) => [0, 1, 2].reduce((a, c) => a + globals[v * per + c * 256 + 8 * 16 + x] * IMAGENET_STD[c] + IMAGENET_MEAN[c], 0));
        const middle = (Math.min(...row) + Math.max(...row)) / 2;
        counts.push(row.filter((l, x) => l < middle && (x === 0 || row[x - 1] >= middle)).length);
      }
      return counts.reduce((a, n) => a + n, 0) / counts.length;
    };
    const dino = await views({});
    const whole = await views({ globalCrops: [0.95, 1] });
    const small = await views({ globalCrops: [0.1, 0.12] });
    expect(darkRuns(whole.globals)).toBeGreaterThan(3.2); // 4 stripes in 16 px, at least 13.9 px of them in view
    expect(darkRuns(small.globals)).toBeLessThan(2.2); // at most 5.6 px in view
    expect(darkRuns(dino.globals)).toBeGreaterThan(darkRuns(small.globals));
    expect(darkRuns(dino.globals)).toBeLessThan(darkRuns(whole.globals));
    // each range draws the same random numbers: the other crops stay as they were, bit for bit
    expect(whole.locals).toEqual(dino.locals);
    const wideLocals = await views({ localCrops: [0.5, 0.6] });
    expect(wideLocals.globals).toEqual(dino.globals);
    expect(wideLocals.locals).not.toEqual(dino.locals);
    expect(() => createObjective("self_distill", { model, seed: 5, steps: 20, padId: 0, bosId: 2, imageTokenId: IMAGE, imageSize: { height: 16, width: 16 }, imageNormalization: { mean: IMAGENET_MEAN, std: IMAGENET_STD }, localCrops: [0.5, 0.2] })).toThrow(/local_crops must be \[min, max\]/);
    model.dispose();
  });

  it("gives the student targets that tell images apart, even where the tower's embeddings start alike", async () => {
    // a too-warm teacher (0.05) handed every crop a near-uniform target here, the student learned to
    // answer uniformly and the loss stayed at log K; each row must be far from uniform and the rows
    // must differ, with every prototype still used about equally over the batch (Sinkhorn-Knopp)
    const model = createModel(DINO_LLAVA, { seed: 3 });
    const objective = objectiveFor("self_distill", model);
    const x = objective.prepare(await samples(8), 0) as unknown as { teacherProbs: tf.Tensor; tensors: tf.Tensor[] };
    const [N, K] = x.teacherProbs.shape;
    const p = (await x.teacherProbs.data()) as Float32Array;
    tf.dispose(x.tensors);
    const rows = Array.from({ length: N }, (_, n) => p.subarray(n * K, (n + 1) * K));
    for (const row of rows) {
      expect(row.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 4);
      const entropy = -row.reduce((a, v) => a + (v > 0 ? v * Math.log(v) : 0), 0);
      expect(entropy).toBeLessThan(Math.log(K) - 0.75); // 0.05 gave 5.39-5.52 of log K = 5.55 here, 0.005 gives 3.8-4.6
    }
    const top = rows.map((row) => row.indexOf(Math.max(...row)));
    expect(new Set(top).size).toBeGreaterThan(N / 2);
    const columns = Array.from({ length: K }, (_, k) => rows.reduce((a, row) => a + row[k], 0));
    for (const c of columns) {
      // three rounds, the last on the rows: the columns' shares are close to equal, not exactly
      expect(c).toBeGreaterThan((0.5 * N) / K);
      expect(c).toBeLessThan((1.5 * N) / K);
    }
    objective.dispose();
    model.dispose();
  });

  it("lowers its loss, moves the teacher towards the student, and trains nothing but the vision tower and its head", async () => {
    const model = createModel(DINO_LLAVA, { seed: 3 });
    const objective = objectiveFor("self_distill", model, 30);
    const batch = await samples(8);
    const frozen = await values(model.parameters, "language_model.");
    const teacher0 = await values(objective.buffers, "objective.teacher.vision_tower.");
    const losses = await train(model, objective, batch, 30, 2e-3);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(Math.min(...losses.slice(-5))).toBeLessThan(losses[0]);
    for (const [name, before] of frozen) expect((await model.parameters.get(name)!.data()) as Float32Array).toEqual(before);
    // the teacher moved, but lags behind the student (an average of its past)
    const name = [...teacher0.keys()].find((k) => k.endsWith("patch_embeddings.projection.weight"))!;
    const t0 = teacher0.get(name)!;
    const t1 = (await objective.buffers.get(name)!.data()) as Float32Array;
    const s1 = (await model.parameters.get(name.slice("objective.teacher.".length))!.data()) as Float32Array;
    const distance = (x: Float32Array, y: Float32Array) => Math.sqrt(x.reduce((n, v, i) => n + (v - y[i]) ** 2, 0));
    expect(distance(t1, t0)).toBeGreaterThan(0);
    expect(distance(t1, t0)).toBeLessThan(distance(s1, t0));
    objective.dispose();
    model.dispose();
  });
});
