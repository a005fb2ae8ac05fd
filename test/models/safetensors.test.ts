/** The safetensors reader and writer: dtypes, header validation, round trips, sharded folders. */
import { mkdtemp, readFile, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openCheckpoint, readCheckpoint, readHeader, writeCheckpoint } from "../../runtime/weights/checkpoint.js";
import { decodeTensor, halfToFloat, parseHeader, serializeSafetensors } from "../../runtime/weights/safetensors.js";
import { fixture } from "./helpers.js";

async function tmp(): Promise<string> {
  return mkdtemp(join(tmpdir(), "mmfm-st-"));
}

/** A safetensors file from a header object and data bytes. */
function build(header: unknown, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe("dtypes written by numpy", () => {
  it("decodes F16, BF16, F64 to float32 and integer types to int32, exactly", async () => {
    const path = fixture("dtypes.safetensors");
    const header = await readHeader(path);
    const bytes = new Uint8Array(await readFile(path));
    const get = (name: string) => {
      const e = header.entries.get(name)!;
      return decodeTensor(e, bytes.subarray(header.dataStart + e.begin, header.dataStart + e.end), path);
    };
    expect(Array.from(get("f16").data)).toEqual(Array.from(get("f16_as_f32").data));
    expect(Array.from(get("bf16").data)).toEqual(Array.from(get("bf16_as_f32").data));
    expect(get("f16").dtype).toBe("float32");
    expect(Array.from(get("f64").data)).toEqual(Array.from(Float32Array.from([0, -1.5, 3.140625, 65504, 2 ** -24, -0, 1e-3])));
    expect(Array.from(get("i64").data)).toEqual([0, -1, 2147483647, -2147483648, 7]);
    expect(get("i64").dtype).toBe("int32");
    expect(Array.from(get("i32").data)).toEqual([0, -1, 2147483647, -2147483648, 7]);
    expect(Array.from(get("u8").data)).toEqual([0, 255, 7]);
    expect(Array.from(get("i8").data)).toEqual([-128, 127, 0]);
    expect(Array.from(get("i16").data)).toEqual([-32768, 32767, 5]);
    expect(Array.from(get("bool").data)).toEqual([1, 0, 1]);
  });

  it("half floats: subnormals, infinities, NaN", () => {
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(halfToFloat(0xfc00)).toBe(-Infinity);
    expect(halfToFloat(0x7e00)).toBeNaN();
    expect(halfToFloat(0x3c00)).toBe(1);
  });

  it("refuses an I64 value outside int32 instead of wrapping it", () => {
    const data = new Uint8Array(8);
    new DataView(data.buffer).setBigInt64(0, 2n ** 40n, true);
    const file = build({ big: { dtype: "I64", shape: [1], data_offsets: [0, 8] } }, data);
    const h = parseHeader(file, file.length, "big.safetensors");
    expect(() => decodeTensor(h.entries.get("big")!, data, "big.safetensors")).toThrow(/1099511627776.*outside the int32 range/);
  });
});

describe("header validation", () => {
  it("reports every bad entry with its numbers", () => {
    const file = build(
      {
        a: { dtype: "F32", shape: [2, 2], data_offsets: [0, 12] },
        b: { dtype: "Q4", shape: [1], data_offsets: [12, 13] },
        c: { dtype: "F32", shape: [-1], data_offsets: [0, 4] },
        d: { dtype: "F32", shape: [1], data_offsets: [8, 4] },
      },
      new Uint8Array(16),
    );
    let message = "";
    try {
      parseHeader(file, file.length, "bad.safetensors");
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/bad\.safetensors/);
    expect(message).toMatch(/`a`: F32 shape \[2, 2\] needs 16 bytes but data_offsets \[0, 12\] span 12/);
    expect(message).toMatch(/`b`: dtype "Q4" is not supported/);
    expect(message).toMatch(/`c`: shape must be a list of non-negative integers/);
    expect(message).toMatch(/`d`: data_offsets must be \[begin, end\]/);
  });

  it("rejects gaps, overlaps and a header longer than the file", () => {
    const gap = build({ a: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8));
    expect(() => parseHeader(gap, gap.length, "gap")).toThrow(/bytes 0-4 .* belong to no tensor/);
    const overlap = build(
      { a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F32", shape: [1], data_offsets: [4, 8] } },
      new Uint8Array(8),
    );
    expect(() => parseHeader(overlap, overlap.length, "overlap")).toThrow(/overlaps/);
    const trailing = build({ a: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, new Uint8Array(12));
    expect(() => parseHeader(trailing, trailing.length, "trailing")).toThrow(/has 12 bytes but the tensors cover only 4/);
    const short = new Uint8Array(16);
    new DataView(short.buffer).setBigUint64(0, 1000n, true);
    expect(() => parseHeader(short, short.length, "short")).toThrow(/claims 1000 bytes but the file has 16/);
    const notJson = build({});
    notJson.set(new TextEncoder().encode("{x"), 8);
    expect(() => parseHeader(notJson, notJson.length, "nj")).toThrow(/not valid UTF-8 JSON/);
  });
});

describe("writing", () => {
  it("round-trips F32 and I32 with an 8-byte aligned header and format metadata", async () => {
    const tensors = [
      { name: "w", shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-30, -7]) },
      { name: "ids", shape: [3], data: Int32Array.from([5, -1, 2147483647]) },
      { name: "scalar", shape: [], data: Float32Array.from([42]) },
    ];
    const bytes = serializeSafetensors(tensors);
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const h = parseHeader(bytes, bytes.length, "mem");
    expect(h.metadata).toEqual({ format: "pt" });
    for (const t of tensors) {
      const e = h.entries.get(t.name)!;
      const back = decodeTensor(e, bytes.subarray(h.dataStart + e.begin, h.dataStart + e.end), "mem");
      expect(back.shape).toEqual(t.shape);
      expect(Array.from(back.data)).toEqual(Array.from(t.data));
    }
  });

  it("shards large checkpoints with an index and reads them back", async () => {
    const dir = await tmp();
    const tensors = Array.from({ length: 5 }, (_, i) => ({ name: `layer.${i}.weight`, shape: [4, 4], data: new Float32Array(16).fill(i) }));
    const files = await writeCheckpoint(dir, tensors, { maxShardBytes: 150 });
    expect(files).toContain("model.safetensors.index.json");
    expect(files.filter((f) => f.endsWith(".safetensors")).length).toBe(3); // two 64-byte tensors per 150-byte shard
    const back = await readCheckpoint(dir);
    expect([...back.keys()].sort()).toEqual(tensors.map((t) => t.name).sort());
    expect(Array.from(back.get("layer.3.weight")!.data)).toEqual(new Array(16).fill(3));
  });

  it("reports an index that disagrees with its shards", async () => {
    const dir = await tmp();
    await writeCheckpoint(dir, [{ name: "a", shape: [1], data: Float32Array.of(1) }, { name: "b", shape: [1], data: Float32Array.of(2) }], { maxShardBytes: 4 });
    const index = JSON.parse(await readFile(join(dir, "model.safetensors.index.json"), "utf8"));
    index.weight_map.ghost = "model-00001-of-00002.safetensors";
    index.weight_map.b = "model-00001-of-00002.safetensors";
    await writeFile(join(dir, "model.safetensors.index.json"), JSON.stringify(index));
    await expect(openCheckpoint(dir)).rejects.toThrow(
      /the index puts `b` in model-00001-of-00002.safetensors, which does not hold it\n\s*the index puts `ghost`/,
    );
  });

  it("explains a folder without safetensors weights", async () => {
    const dir = await tmp();
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "pytorch_model.bin"), "x");
    await expect(openCheckpoint(dir)).rejects.toThrow(/neither model.safetensors nor model.safetensors.index.json \(found pytorch_model.bin/);
  });
});
