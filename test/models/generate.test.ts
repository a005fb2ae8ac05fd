/** Greedy generation with a key/value cache equals greedy decoding without one. */
import { beforeAll, describe, expect, it } from "vitest";
import { tf } from "../../runtime/tf.js";
import { generate, loadPretrained, type PretrainedModel } from "../../runtime/models/index.js";
import { fixture, readIo, toTensor } from "./helpers.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

/** Reference: rerun the whole sequence at every step, positions from the mask as generate uses them. */
function greedyWithoutCache(
  model: PretrainedModel,
  ids: number[][],
  mask: number[][],
  steps: number,
  pixelValues?: tf.Tensor,
  positionsFromMask = true,
): number[][] {
  const seqs = ids.map((r) => r.slice());
  const masks = mask.map((r) => r.slice());
  const out: number[][] = ids.map(() => []);
  for (let s = 0; s < steps; s++) {
    const next = tf.tidy(() => {
      const positions = masks.map((row) => {
        let sum = 0;
        return row.map((v) => ((sum += v), v === 0 ? 1 : sum - 1));
      });
      const logits = model.forward({
        inputIds: tf.tensor2d(seqs, undefined, "int32"),
        attentionMask: tf.tensor2d(masks, undefined, "int32"),
        positionIds: positionsFromMask && !pixelValues ? tf.tensor2d(positions, undefined, "int32") : undefined,
        pixelValues,
      }).logits!;
      const [B, L, V] = logits.shape;
      return Array.from(tf.argMax(tf.reshape(tf.slice(logits, [0, L - 1, 0], [B, 1, V]), [B, V]), -1).dataSync());
    });
    next.forEach((t, b) => {
      out[b].push(t);
      seqs[b].push(t);
      masks[b].push(1);
    });
  }
  return out;
}

const rows = (t: tf.Tensor) => t.arraySync() as number[][];

describe("generate", () => {
  it.each(["gemma_tiny", "llama_tiny", "llama_gqa"])("%s, padded batch: cached greedy equals uncached greedy", async (name) => {
    const model = await loadPretrained(fixture(name));
    const io = await readIo(name);
    const inputIds = toTensor(io.get("input_ids"));
    const attentionMask = toTensor(io.get("attention_mask"));
    const before = tf.memory().numTensors;
    const cached = await generate(model, { inputIds, attentionMask, maxNewTokens: 6 });
    expect(tf.memory().numTensors).toBe(before);
    const reference = greedyWithoutCache(model, rows(inputIds), rows(attentionMask), 6);
    expect(cached).toEqual(reference);
    expect(new Set(cached.flat()).size).toBeGreaterThan(1); // not one token repeated everywhere
    model.dispose();
  });

  it("stops a row at a stop token and keeps the others going", async () => {
    const model = await loadPretrained(fixture("gemma_gqa"));
    const io = await readIo("gemma_gqa");
    const inputIds = tf.slice(toTensor(io.get("input_ids")), 0, 2);
    const free = await generate(model, { inputIds, maxNewTokens: 5 });
    const stop = free[0][1];
    const stopped = await generate(model, { inputIds, maxNewTokens: 5, stopTokenIds: [stop] });
    expect(stopped[0]).toEqual(free[0].slice(0, free[0].indexOf(stop) + 1));
    const rowOneStop = free[1].indexOf(stop);
    expect(stopped[1]).toEqual(rowOneStop >= 0 ? free[1].slice(0, rowOneStop + 1) : free[1]);
    expect(await generate(model, { inputIds, maxNewTokens: 0 })).toEqual([[], []]);
    model.dispose();
  });

  it.each([
    ["llava_clip_gemma", "expand_left"],
    ["llava_clip_gemma", "expand_right"],
    ["llava_clip_llama", "expand_left"],
  ])("%s (%s): cached greedy with images equals uncached greedy", async (name, c) => {
    const model = await loadPretrained(fixture(name));
    const io = await readIo(name);
    const inputIds = toTensor(io.get(`${c}.input_ids`));
    const attentionMask = toTensor(io.get(`${c}.attention_mask`));
    const pixelValues = toTensor(io.get(`${c}.pixel_values`));
    const cached = await generate(model, { inputIds, attentionMask, pixelValues, maxNewTokens: 5 });
    const reference = greedyWithoutCache(model, rows(inputIds), rows(attentionMask), 5, pixelValues);
    expect(cached).toEqual(reference);
    model.dispose();
  });

  it("refuses a vision-only model", async () => {
    const model = await loadPretrained(fixture("clip_vision"));
    await expect(generate(model, { inputIds: tf.tensor2d([[1]], undefined, "int32"), maxNewTokens: 2 })).rejects.toThrow(
      /generate needs a gemma, llama or llava model, got clip_vision_model/,
    );
    model.dispose();
  });
});
