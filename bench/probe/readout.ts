/**
 * What a frozen vision tower's features tell about a one-shape scene, and how fast a readout of the
 * connector's shape learns it. The tower is run as LLaVA runs it (its family's processor, the hidden
 * state of `layer`, the class token dropped); readouts are trained on `train` scenes and scored on
 * held-out `test` scenes (synthetic_shapes with one shape, the scenes of the tiny grid):
 *
 *   cell, side by side   linear on the patches of the shape's cell, concatenated (told where it is)
 *   cell, mean           linear on their mean
 *   MLP, cell mean       the connector's shape (Linear, GELU, Linear) on each patch, then the mean
 *                        over the shape's cell, then linear
 *   MLP, attention       the same MLP on each patch, then attention over every patch of the image
 *                        with one learned query (not told where the shape is: the decoder's case)
 *
 * Each is trained with Adam on full batches (`batch` 0) or minibatches; the test accuracy is taken
 * at a third, two thirds and all of `steps`. Deterministic: fixed scenes, seeded initial weights,
 * minibatches drawn by a seeded generator.
 */
import { makeScene, renderScene, SHAPE_COLOURS, SHAPE_KINDS } from "../../runtime/data/shapes.js";
import { preprocessImage, processorPreset, type ProcessorPreset } from "../../runtime/data/processor.js";
import { Rng } from "../../runtime/data/prng.js";
import { ParamView } from "../../runtime/models/common.js";
import { shapeFromConfig } from "../../runtime/models/hf_config.js";
import { visionEncoder } from "../../runtime/models/llava.js";
import type { PretrainedModel } from "../../runtime/models/model.js";
import type { VitShape } from "../../runtime/models/shapes.js";
import { tf } from "../../runtime/tf.js";

export interface ProbeOptions {
  /** scenes to train the readouts on, and held out (default 2,000 and 600) */
  readonly train?: number;
  readonly test?: number;
  /** Adam steps per readout (default 600) */
  readonly steps?: number;
  /** scenes per step; 0: every training scene (default 0) */
  readonly batch?: number;
  /** Adam's learning rate (default 3e-3) */
  readonly lr?: number;
  /** the hidden state read, as LLaVA's `mm_vision_select_layer` (default -2) */
  readonly layer?: number;
  /** the connector-shaped MLP's width (default 64, the 2B-like decoder's) */
  readonly width?: number;
  /** the tower's image size (default 32, the tiny towers') */
  readonly imageSize?: number;
  /**
   * CLIP and DINOv2: the shortest edge before the centre crop (default: the family's Hugging Face
   * ratio, CLIP's 1 and DINOv2's 256/224 rounded; std's tiny_dinov2 declares 36, not 37)
   */
  readonly resize?: number;
  /** the scenes' seed (default 0) */
  readonly seed?: number;
}

export const READOUTS = ["cell, side by side", "cell, mean", "MLP, cell mean", "MLP, attention"] as const;
export type Readout = (typeof READOUTS)[number];
export const TARGETS = ["colour", "kind"] as const;
export type Target = (typeof TARGETS)[number];

export interface ProbeRow {
  readonly readout: Readout;
  readonly target: Target;
  /** test accuracy (%) after a third, two thirds and all of the steps */
  readonly test: readonly [number, number, number];
  /** training accuracy (%) at the end */
  readonly train: number;
}

export interface ProbeResult {
  readonly family: VitShape["family"];
  readonly layer: number;
  /** the steps after which `test` was taken */
  readonly marks: readonly [number, number, number];
  /** the most frequent test label's share per target (%): what a readout of no information scores */
  readonly majority: Record<Target, number>;
  readonly rows: readonly ProbeRow[];
}

const PRESET: Record<VitShape["family"], ProcessorPreset> = { clip_vit: "clip", dinov2: "dinov2", siglip: "siglip" };
const CELLS = ["top left", "top right", "bottom left", "bottom right"] as const;
const COLOURS = Object.keys(SHAPE_COLOURS);

interface Features {
  /** [n, P, D]: every patch of the image */
  readonly all: tf.Tensor3D;
  /** [n, P/4, D]: the patches of the shape's cell */
  readonly cell: tf.Tensor3D;
  readonly labels: Record<Target, tf.Tensor1D>;
  readonly counts: Record<Target, number[]>;
}

/** The tower's features of `n` one-shape scenes of a split. */
function features(model: PretrainedModel, shape: VitShape, split: "train" | "test", n: number, o: Required<ProbeOptions>): Features {
  const preset = processorPreset(PRESET[shape.family], o.imageSize);
  const config = o.resize > 0 && "shortestEdge" in preset.resize ? { ...preset, resize: { shortestEdge: o.resize } } : preset;
  const size = 3 * o.imageSize * o.imageSize;
  const pixels = new Float32Array(n * size);
  const colour: number[] = [];
  const kind: number[] = [];
  const where: number[] = [];
  for (let i = 0; i < n; i++) {
    const scene = makeScene(o.seed, split, i, 64, 1);
    pixels.set(preprocessImage(renderScene(scene, 64), config, "pad"), i * size);
    const object = scene.objects[0];
    colour.push(COLOURS.indexOf(object.colour));
    kind.push(SHAPE_KINDS.indexOf(object.kind));
    where.push(CELLS.indexOf(object.position as (typeof CELLS)[number]));
  }
  const encoder = visionEncoder(shape);
  const index = o.layer < 0 ? shape.depth + 1 + o.layer : o.layer;
  if (index < 0 || index > shape.depth) throw new RangeError(`layer ${o.layer}: the tower has hidden states 0..${shape.depth}`);
  const grid = o.imageSize / shape.patch;
  if (!Number.isInteger(grid) || grid % 2 !== 0) throw new RangeError(`a ${o.imageSize} px image in ${shape.patch} px patches does not split into a 2 x 2 grid of cells`);
  const half = grid / 2;
  return tf.tidy(() => {
    const input = tf.tensor4d(pixels, [n, 3, o.imageSize, o.imageSize]);
    let state = encoder.hiddenStates(new ParamView(model.parameters), input, index)[index];
    if (shape.classToken) state = tf.slice(state, [0, 1, 0], [n, grid * grid, -1]);
    const D = state.shape[2] as number;
    // [n, row, col, D] -> [n, cellRow, cellCol, patchRow, patchCol, D] -> [n * 4, half * half, D]
    const byCell = tf.reshape(tf.transpose(tf.reshape(state, [n, 2, half, 2, half, D]), [0, 1, 3, 2, 4, 5]), [n * 4, half * half, D]);
    const cell = tf.gather(byCell, tf.tensor1d(where.map((c, i) => i * 4 + c), "int32")) as tf.Tensor3D;
    const count = (ys: number[], k: number) => Array.from({ length: k }, (_, c) => ys.filter((y) => y === c).length);
    return {
      all: state as tf.Tensor3D,
      cell,
      labels: { colour: tf.tensor1d(colour, "int32"), kind: tf.tensor1d(kind, "int32") },
      counts: { colour: count(colour, COLOURS.length), kind: count(kind, SHAPE_KINDS.length) },
    };
  });
}

type Forward = (f: { all: tf.Tensor3D; cell: tf.Tensor3D }) => tf.Tensor;

/** A readout's parameters (seeded) and its forward pass. */
function readout(kind: Readout, D: number, P: number, width: number, classes: number, seed: number): { forward: Forward; variables: tf.Variable[] } {
  let s = seed;
  const v = (shape: number[], std: number) => tf.variable(std === 0 ? tf.zeros(shape) : tf.randomNormal(shape, 0, std, "float32", s++));
  const head = (inputs: number) => ({ W: v([inputs, classes], 0.01), b: v([classes], 0) });
  // LLaVA's mlp2x_gelu: Linear, GELU (here x * sigmoid(1.702 x)), Linear
  const mlp = () => {
    const W1 = v([D, width], 1 / Math.sqrt(D)), b1 = v([width], 0), W2 = v([width, width], 1 / Math.sqrt(width)), b2 = v([width], 0);
    const apply = (x: tf.Tensor3D): tf.Tensor3D => {
      const [n, p] = x.shape;
      const h = tf.add(tf.matMul(tf.reshape(x, [n * p, D]), W1), b1);
      return tf.reshape(tf.add(tf.matMul(tf.mul(h, tf.sigmoid(tf.mul(h, 1.702))), W2), b2), [n, p, width]);
    };
    return { apply, variables: [W1, b1, W2, b2] };
  };
  switch (kind) {
    case "cell, side by side": {
      const h = head(P * D);
      return { forward: (f) => tf.add(tf.matMul(tf.reshape(f.cell, [f.cell.shape[0], P * D]), h.W), h.b), variables: [h.W, h.b] };
    }
    case "cell, mean": {
      const h = head(D);
      return { forward: (f) => tf.add(tf.matMul(tf.mean(f.cell, 1), h.W), h.b), variables: [h.W, h.b] };
    }
    case "MLP, cell mean": {
      const m = mlp();
      const h = head(width);
      return { forward: (f) => tf.add(tf.matMul(tf.mean(m.apply(f.cell), 1), h.W), h.b), variables: [...m.variables, h.W, h.b] };
    }
    case "MLP, attention": {
      const m = mlp();
      const h = head(width);
      const query = v([width, 1], 0.1);
      const forward: Forward = (f) => {
        const x = m.apply(f.all);
        const [n, p] = x.shape;
        const weights = tf.softmax(tf.reshape(tf.matMul(tf.reshape(x, [n * p, width]), query), [n, p]), 1);
        return tf.add(tf.matMul(tf.sum(tf.mul(tf.expandDims(weights, 2), x), 1), h.W), h.b);
      };
      return { forward, variables: [...m.variables, query, h.W, h.b] };
    }
  }
}

function accuracy(forward: Forward, f: Features, target: Target): number {
  // counted as an integer, so a readout of no information scores exactly the majority's share
  const right = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(forward(f), 1), f.labels[target]), "int32")).dataSync()[0] as number);
  return (100 * right) / f.labels[target].shape[0];
}

/** Probes `model` (a vision tower loaded with loadPretrained). */
export function probeTower(model: PretrainedModel, options: ProbeOptions = {}): ProbeResult {
  const o: Required<ProbeOptions> = { train: 2000, test: 600, steps: 600, batch: 0, lr: 3e-3, layer: -2, width: 64, imageSize: 32, resize: 0, seed: 0, ...options };
  const { shape } = shapeFromConfig(model.config);
  if (!("patch" in shape) || !("classToken" in shape)) throw new TypeError(`not a vision tower: ${model.modelType}`);
  const vit = shape as VitShape;
  const train = features(model, vit, "train", o.train, o);
  const test = features(model, vit, "test", o.test, o);
  const D = train.all.shape[2];
  const P = train.cell.shape[1];
  const rows: ProbeRow[] = [];
  const marks: [number, number, number] = [Math.round(o.steps / 3), Math.round((2 * o.steps) / 3), o.steps];
  for (const target of TARGETS) {
    const classes = target === "colour" ? COLOURS.length : SHAPE_KINDS.length;
    for (const [r, name] of READOUTS.entries()) {
      const { forward, variables } = readout(name, D, P, o.width, classes, 1000 * (r + 1) + classes);
      const optimizer = tf.train.adam(o.lr);
      const rng = new Rng(o.seed, 7, r, classes);
      const scores: number[] = [];
      for (let step = 1; step <= o.steps; step++) {
        tf.tidy(() => {
          let batch: { all: tf.Tensor3D; cell: tf.Tensor3D; y: tf.Tensor1D } = { all: train.all, cell: train.cell, y: train.labels[target] };
          if (o.batch > 0) {
            const idx = tf.tensor1d(Array.from({ length: o.batch }, () => rng.range(0, o.train - 1)), "int32");
            batch = { all: tf.gather(train.all, idx), cell: tf.gather(train.cell, idx), y: tf.gather(train.labels[target], idx) };
          }
          optimizer.minimize(() => tf.losses.softmaxCrossEntropy(tf.oneHot(batch.y, classes), forward(batch)) as tf.Scalar, false, variables);
        });
        if (marks.includes(step)) scores.push(accuracy(forward, test, target));
      }
      rows.push({ readout: name, target, test: [scores[0], scores[1], scores[2]], train: accuracy(forward, train, target) });
      optimizer.dispose();
      for (const variable of variables) variable.dispose();
    }
  }
  const majority = Object.fromEntries(TARGETS.map((t) => [t, (100 * Math.max(...test.counts[t])) / o.test])) as Record<Target, number>;
  for (const f of [train, test]) tf.dispose([f.all, f.cell, f.labels.colour, f.labels.kind]);
  return { family: vit.family, layer: o.layer, marks, majority, rows };
}

/** The result as a Markdown table. */
export function probeTable(result: ProbeResult): string {
  const lines = [
    `| target | readout | test after ${result.marks.join(" / ")} steps | train |`,
    "| --- | --- | --- | --- |",
    ...result.rows.map((r) => `| ${r.target} (majority ${result.majority[r.target].toFixed(1)}) | ${r.readout} | ${r.test.map((a) => a.toFixed(1)).join(" / ")} | ${r.train.toFixed(1)} |`),
  ];
  return lines.join("\n");
}
