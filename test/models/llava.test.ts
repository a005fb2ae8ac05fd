/** LLaVA specifics: where image features go, connectors, vision towers and feature selection. */
import { beforeAll, describe, expect, it } from "vitest";
import { tf } from "../../runtime/tf.js";
import { registerGradients } from "../../runtime/backend/gradients.js";
import { createModel, trainableParameters } from "../../runtime/models/index.js";
import { planMerge } from "../../runtime/models/llava_merge.js";
import { maxAbsDiff } from "./helpers.js";
import { TINY_DINO, TINY_GEMMA, TINY_LLAVA, TINY_SIGLIP, tinyPixels } from "./tiny.js";

beforeAll(async () => {
  await registerGradients();
  await tf.setBackend("cpu");
});

const IMG = 31;
const base = { imageTokenId: 9, padTokenId: -1, ignoreIndex: -100 };

describe("planMerge", () => {
  it("expand: one image token grows into the image's features; labels -100 there", () => {
    const plan = planMerge({ ...base, ids: [[5, 9, 7]], mask: null, labels: [[5, 9, 7]], images: 1, perImage: 3 });
    expect(plan.mode).toBe("expand");
    expect(plan.length).toBe(5);
    expect(Array.from(plan.source)).toEqual([0, 3, 4, 5, 2]); // text rows 0..2, features 3..5
    expect(plan.labels).toEqual([[5, -100, -100, -100, 7]]);
    expect(plan.mask).toEqual([[1, 1, 1, 1, 1]]);
    expect(plan.positions).toEqual([[0, 1, 2, 3, 4]]);
  });

  it("expand, left padding: shorter rows are right-aligned, positions count attended tokens", () => {
    const plan = planMerge({
      ...base,
      padTokenId: 0,
      ids: [[1, 9, 2, 9], [0, 0, 3, 9]],
      mask: [[1, 1, 1, 1], [0, 0, 1, 1]],
      labels: null,
      images: 3,
      perImage: 2,
    });
    expect(plan.length).toBe(6);
    // row 1: one image grows by 1, one free slot of padding goes on the left
    expect(plan.mask[1]).toEqual([0, 0, 0, 1, 1, 1]);
    expect(plan.positions![1]).toEqual([1, 1, 1, 0, 1, 2]);
    const zero = 8 + 3 * 2;
    // the free slot and both pad tokens read the zero row; token 3 is text row 6; image 3 is features 4-5
    expect(Array.from(plan.source.slice(6))).toEqual([zero, zero, zero, 6, 12, 13]);
  });

  it("in place: repeated image tokens take the features in order", () => {
    const plan = planMerge({ ...base, ids: [[5, 9, 9, 7]], mask: null, labels: [[5, 9, 9, 7]], images: 1, perImage: 2 });
    expect(plan.mode).toBe("inplace");
    expect(Array.from(plan.source)).toEqual([0, 4, 5, 3]);
    expect(plan.labels).toEqual([[5, -100, -100, 7]]);
    expect(plan.positions).toBeNull();
  });

  it("says how many tokens and features it found when they cannot match", () => {
    expect(() => planMerge({ ...base, ids: [[9, 9, 1]], mask: null, labels: null, images: 1, perImage: 3 })).toThrow(
      "image tokens and image features do not match: the input has 2 image token(s) (id 9) for 1 image(s) of 3 features; expected 1 (one per image) or 3 (one per feature)",
    );
  });
});

/** Runs a LLaVA with `n` in-place image tokens per image, which fails unless n = features per image. */
function runInPlace(config: object, n: number, pixels: tf.Tensor) {
  const model = createModel(config, { seed: 0 });
  const ids = [[2, ...new Array(n).fill(IMG), 5, 6]];
  const out = model.forward({ inputIds: tf.tensor2d(ids, undefined, "int32"), labels: tf.tensor2d(ids, undefined, "int32"), pixelValues: pixels });
  return { model, out };
}

describe("vision towers and feature selection", () => {
  it("CLIP: 'default' drops the class token (4 features), 'full' keeps it (5)", () => {
    const a = runInPlace(TINY_LLAVA, 4, tinyPixels(1));
    expect(a.out.logits!.shape).toEqual([1, 7, 32]);
    const b = runInPlace({ ...TINY_LLAVA, vision_feature_select_strategy: "full" }, 5, tinyPixels(1));
    expect(b.out.logits!.shape).toEqual([1, 8, 32]);
    expect(() => runInPlace(TINY_LLAVA, 5, tinyPixels(1))).toThrow(/has 5 image token\(s\) \(id 31\) for 1 image\(s\) of 4 features/);
    [a.model, b.model].forEach((m) => m.dispose());
  });

  it("LLaVA's names 'patch' and 'cls_patch' mean 'default' and 'full'", () => {
    const patch = runInPlace({ ...TINY_LLAVA, vision_feature_select_strategy: "patch" }, 4, tinyPixels(1));
    const clsPatch = runInPlace({ ...TINY_LLAVA, vision_feature_select_strategy: "cls_patch" }, 5, tinyPixels(1));
    const byDefault = runInPlace(TINY_LLAVA, 4, tinyPixels(1));
    const full = runInPlace({ ...TINY_LLAVA, vision_feature_select_strategy: "full" }, 5, tinyPixels(1));
    // the same seed gives the same weights: the same features give the same logits, to the bit
    expect(maxAbsDiff(patch.out.logits!, byDefault.out.logits!)).toBe(0);
    expect(maxAbsDiff(clsPatch.out.logits!, full.out.logits!)).toBe(0);
    expect(() => runInPlace({ ...TINY_LLAVA, vision_feature_select_strategy: "patch" }, 5, tinyPixels(1))).toThrow(/for 1 image\(s\) of 4 features/);
    expect(() => runInPlace({ ...TINY_LLAVA, vision_feature_select_strategy: "cls_patch" }, 4, tinyPixels(1))).toThrow(/for 1 image\(s\) of 5 features/);
    [patch, clsPatch, byDefault, full].forEach((r) => r.model.dispose());
  });

  it("an image token id past the text vocabulary works (its embedding row is never used)", () => {
    const model = createModel({ ...TINY_LLAVA, image_token_index: 40 }, { seed: 0 });
    const ids = tf.tensor2d([[2, 40, 40, 40, 40, 5]], undefined, "int32");
    const out = model.forward({ inputIds: ids, labels: ids, pixelValues: tinyPixels(1) });
    expect(Number.isFinite(out.loss!.dataSync()[0])).toBe(true);
    model.dispose();
  });

  it("SigLIP has no class token: 'default' keeps every patch", () => {
    // 16 px in 8 px patches: 4 patches, all of them features (a CLIP tower would drop one of 5 tokens)
    const { model, out } = runInPlace({ ...TINY_LLAVA, vision_config: TINY_SIGLIP }, 4, tinyPixels(1));
    expect(out.logits!.shape).toEqual([1, 7, 32]);
    expect(Number.isFinite(out.loss!.dataSync()[0])).toBe(true);
    expect(() => runInPlace({ ...TINY_LLAVA, vision_config: TINY_SIGLIP }, 3, tinyPixels(1))).toThrow(/for 1 image\(s\) of 4 features/);
    model.dispose();
  });

  it("DINOv2: class token dropped, positions interpolated for a larger image (3×3 patches)", () => {
    const { model, out } = runInPlace({ ...TINY_LLAVA, vision_config: TINY_DINO }, 9, tinyPixels(1, 24));
    expect(out.logits!.shape).toEqual([1, 12, 32]);
    expect(Number.isFinite(out.loss!.dataSync()[0])).toBe(true);
    expect(() => runInPlace({ ...TINY_LLAVA, vision_config: TINY_DINO }, 10, tinyPixels(1, 24))).toThrow(/for 1 image\(s\) of 9 features/);
    model.dispose();
  });

  it("several feature layers are concatenated along the width", () => {
    const config = { ...TINY_LLAVA, vision_feature_layer: [-2, -1] };
    const { model } = runInPlace(config, 4, tinyPixels(1));
    expect(model.parameters.get("multi_modal_projector.linear_1.weight")!.shape).toEqual([16, 32]);
    model.dispose();
  });
});

describe("connectors", () => {
  it.each([
    ["identity", { projector_type: "identity" }, []],
    ["linear", { projector_type: "linear" }, ["linear_1"]],
    ["mlp of depth 3", { projector_type: "mlp", projector_depth: 3 }, ["linear_1", "linear_2", "linear_3"]],
  ])("%s", (_, fields, layers) => {
    const config = { ...TINY_LLAVA, ...fields };
    const model = createModel(config, { seed: 0 });
    const keys = [...trainableParameters(model, ["connector"]).keys()].sort();
    expect(keys).toEqual(layers.flatMap((l) => [`multi_modal_projector.${l}.bias`, `multi_modal_projector.${l}.weight`]));
    const inputs = { inputIds: tf.tensor2d([[2, IMG, 5, 6]], undefined, "int32"), labels: tf.tensor2d([[2, IMG, 5, 6]], undefined, "int32"), pixelValues: tinyPixels(1) };
    const vision = [...trainableParameters(model, ["vision"]).values()];
    const { grads } = tf.variableGrads(() => model.forward(inputs).loss!, [...model.parameters.values()]);
    // the loss reaches the vision tower through the connector (identity included)
    expect(vision.some((v) => grads[v.name] && tf.any(tf.notEqual(grads[v.name], 0)).dataSync()[0])).toBe(true);
    model.dispose();
  });

  it("identity needs equal widths", () => {
    expect(() => createModel({ ...TINY_LLAVA, projector_type: "identity", text_config: { ...TINY_GEMMA, hidden_size: 24 } }, { seed: 0 })).toThrow(
      /an identity projector needs vision feature width 16 to equal text hidden_size 24/,
    );
  });
});

describe("composition", () => {
  it("without images, LLaVA's logits are its Gemma's logits", () => {
    const llava = createModel(TINY_LLAVA, { seed: 4 });
    const gemma = createModel(TINY_LLAVA.text_config, { seed: 9 });
    for (const [k, v] of gemma.parameters) v.assign(llava.parameters.get(`language_model.${k}`)!);
    const inputIds = tf.tensor2d([[3, 8, 1, 30]], undefined, "int32");
    expect(maxAbsDiff(llava.forward({ inputIds }).logits!, gemma.forward({ inputIds }).logits!)).toBe(0);
    [llava, gemma].forEach((m) => m.dispose());
  });
});
