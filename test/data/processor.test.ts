/**
 * Image decoding and preprocessing against values computed independently by Pillow 9.4 and numpy
 * (test/data/fixtures/make_image_fixture.py), plus hand-computable cases.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { decodeImage, ImageDecodeError, type RgbImage } from "../../runtime/data/images.js";
import {
  CLIP_MEAN,
  CLIP_STD,
  centreCrop,
  checkProcessorConfig,
  clipProcessor,
  dinov2Processor,
  expandToSquare,
  type ImageProcessorConfig,
  outputSize,
  padColour,
  preprocessImage,
  processPixels,
  resizedSize,
  siglipProcessor,
} from "../../runtime/data/processor.js";
import { axisCoefficients, cubicKernel, resizeBicubic } from "../../runtime/data/resample.js";

const dir = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "images");

interface Case {
  input: string;
  config: string;
  aspect: "pad" | "crop";
  height: number;
  width: number;
  pixelsSha256: string;
  valuesSha256: string;
  pixels?: string;
  values?: string;
  probes?: [number, number, number, number][];
}
interface Fixture {
  configs: Record<string, ImageProcessorConfig>;
  decoded: Record<string, { width: number; height: number; sha256: string; rgb: string | null }>;
  cases: Case[];
  resizes: { width: number; height: number; pixels: string }[];
  resizeSource: string;
  levels: Record<string, string>;
}
const fixture = JSON.parse(readFileSync(join(dir, "expected.json"), "utf8")) as Fixture;

const sha = (a: Uint8Array | Float32Array): string => createHash("sha256").update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest("hex");
const bytes = (b64: string): Uint8Array => new Uint8Array(Buffer.from(b64, "base64"));
const floats = (b64: string): Float32Array => {
  const b = Buffer.from(b64, "base64");
  const out = new Float32Array(b.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = b.readFloatLE(i * 4);
  return out;
};
const maxDiff = (a: Uint8Array, b: Uint8Array): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

const decodedCache = new Map<string, RgbImage>();
async function load(name: string): Promise<RgbImage> {
  let img = decodedCache.get(name);
  if (!img) {
    img = await decodeImage(join(dir, name));
    decodedCache.set(name, img);
  }
  return img;
}

describe("decodeImage matches Pillow's open().convert('RGB')", () => {
  for (const [name, expected] of Object.entries(fixture.decoded)) {
    it(name, async () => {
      const img = await load(name);
      expect([img.width, img.height]).toEqual([expected.width, expected.height]);
      if (expected.rgb) expect(maxDiff(img.data, bytes(expected.rgb))).toBe(0);
      expect(sha(img.data)).toBe(expected.sha256);
    });
  }

  it("rejects a file that is not an image, and a missing file, with the path", async () => {
    await expect(decodeImage(join(dir, "not_an_image.png"))).rejects.toThrow(/cannot decode the image .*not_an_image\.png/);
    const missing = decodeImage(join(dir, "nope.png"));
    await expect(missing).rejects.toBeInstanceOf(ImageDecodeError);
    await expect(missing).rejects.toMatchObject({ code: "missing" });
  });
});

describe("resizeBicubic equals Pillow's BICUBIC bit for bit", () => {
  for (const r of fixture.resizes) {
    it(`${fixture.resizeSource} -> ${r.width}x${r.height}`, async () => {
      const src = await load(fixture.resizeSource);
      const out = resizeBicubic(src, r.width, r.height);
      expect([out.width, out.height]).toEqual([r.width, r.height]);
      expect(maxDiff(out.data, bytes(r.pixels))).toBe(0);
    });
  }
});

describe("the whole pipeline equals Pillow + transformers' arithmetic", () => {
  for (const c of fixture.cases) {
    it(`${c.input} ${c.config} ${c.aspect}`, async () => {
      const config = fixture.configs[c.config];
      const img = await load(c.input);
      const pixels = processPixels(img, config, c.aspect);
      expect([pixels.height, pixels.width]).toEqual([c.height, c.width]);
      if (c.pixels) expect(maxDiff(pixels.data, bytes(c.pixels))).toBe(0);
      expect(sha(pixels.data)).toBe(c.pixelsSha256);
      const values = preprocessImage(img, config, c.aspect);
      expect(values.length).toBe(3 * c.height * c.width);
      if (c.values) expect(Array.from(values)).toEqual(Array.from(floats(c.values)));
      for (const [ch, y, x, v] of c.probes ?? []) expect(values[ch * c.height * c.width + y * c.width + x]).toBe(v);
      expect(sha(values)).toBe(c.valuesSha256);
    });
  }

  it("normalises all 256 levels exactly as transformers does (float32)", () => {
    const presets: Record<string, ImageProcessorConfig> = { clip: clipProcessor(1), imagenet: dinov2Processor(1), siglip: siglipProcessor(1) };
    for (const [name, b64] of Object.entries(fixture.levels)) {
      const expected = floats(b64); // [3, 256]
      for (let v = 0; v < 256; v++) {
        const img: RgbImage = { width: 1, height: 1, data: new Uint8Array([v, v, v]) };
        const cfg = { ...presets[name], resize: { height: 1, width: 1 }, crop: undefined };
        const out = preprocessImage(img, cfg);
        expect([out[0], out[1], out[2]]).toEqual([expected[v], expected[256 + v], expected[512 + v]]);
      }
    }
  });
});

describe("hand-computable cases", () => {
  it("the cubic kernel has Keys' values", () => {
    expect(cubicKernel(0)).toBe(1);
    expect(Math.abs(cubicKernel(1))).toBe(0);
    expect(Math.abs(cubicKernel(2))).toBe(0);
    expect(cubicKernel(0.5)).toBeCloseTo(0.5625, 12); // (1.5*0.5 - 2.5)*0.25 + 1
    expect(cubicKernel(1.5)).toBeCloseTo(-0.0625, 12); // ((1.5-5)*1.5+8)*1.5-4 = 0.125; *(-0.5)
    expect(cubicKernel(-0.5)).toBe(cubicKernel(0.5));
  });

  it("halving a width stretches the kernel to 8 taps, clipped at the edges; fixed-point weights sum to 2^22", () => {
    const c = axisCoefficients(16, 8);
    for (let i = 0; i < 8; i++) {
      let sum = 0;
      for (let k = 0; k < c.taps[i]; k++) sum += c.weights[i * c.width + k];
      expect(Math.abs(sum - (1 << 22))).toBeLessThanOrEqual(4);
    }
    // output 3: centre (3 + 0.5) * 2 = 7, support 2 * 2 = 4: inputs trunc(3.5) = 3 .. trunc(11.5) = 11 (excluded)
    expect([c.first[3], c.taps[3]]).toEqual([3, 8]);
    // output 0: centre 1, inputs max(trunc(-2.5), 0) = 0 .. trunc(5.5) = 5
    expect([c.first[0], c.taps[0]]).toEqual([0, 5]);
  });

  it("a constant image stays constant through any resize", () => {
    const img: RgbImage = { width: 7, height: 5, data: new Uint8Array(7 * 5 * 3).fill(200) };
    for (const [w, h] of [[3, 2], [20, 9], [7, 1]]) {
      const out = resizeBicubic(img, w, h);
      expect(out.data.every((v) => v === 200)).toBe(true);
    }
  });

  it("resize output sizes truncate like transformers (333x251 -> 445x336)", () => {
    expect(resizedSize(333, 251, clipProcessor())).toEqual({ width: 445, height: 336 });
    expect(resizedSize(251, 333, clipProcessor())).toEqual({ width: 336, height: 445 });
    expect(resizedSize(640, 480, dinov2Processor())).toEqual({ width: 341, height: 256 });
    expect(resizedSize(640, 480, siglipProcessor())).toEqual({ width: 384, height: 384 });
  });

  it("pad colours truncate the mean (CLIP 122,116,104; ImageNet 123,116,103; SigLIP 127)", () => {
    expect(padColour(CLIP_MEAN)).toEqual([122, 116, 104]);
    expect(padColour(dinov2Processor().mean)).toEqual([123, 116, 103]);
    expect(padColour(siglipProcessor().mean)).toEqual([127, 127, 127]);
  });

  it("expand-to-square pastes at the floor of the centre; crop takes the floor offsets", () => {
    // a 3x1 white strip becomes row 1 of a 3x3 grey square
    const strip: RgbImage = { width: 3, height: 1, data: new Uint8Array(9).fill(255) };
    const sq = expandToSquare(strip, [1, 2, 3]);
    expect([sq.width, sq.height]).toEqual([3, 3]);
    expect(Array.from(sq.data.subarray(0, 3))).toEqual([1, 2, 3]);
    expect(Array.from(sq.data.subarray(9, 18))).toEqual(new Array(9).fill(255));
    // 2 wide, 5 high -> side 5, pasted at x = (5 - 2) // 2 = 1
    const tall: RgbImage = { width: 2, height: 5, data: new Uint8Array(30).fill(9) };
    const t = expandToSquare(tall, [0, 0, 0]);
    expect(t.data[0]).toBe(0);
    expect(t.data[3]).toBe(9);
    expect(t.data[6]).toBe(9);
    expect(t.data[9]).toBe(0);
    // crop 2x2 out of 5x4 (w x h): left = (5-2)//2 = 1, top = (4-2)//2 = 1
    const grid: RgbImage = { width: 5, height: 4, data: new Uint8Array(60).map((_, i) => Math.floor(i / 3)) };
    const cropped = centreCrop(grid, 2, 2);
    expect(Array.from(cropped.data).filter((_, i) => i % 3 === 0)).toEqual([6, 7, 11, 12]);
  });

  it("a text-only sample's image has the crop size; bad configs are reported with numbers", () => {
    expect(outputSize(clipProcessor())).toEqual({ height: 336, width: 336 });
    expect(outputSize(siglipProcessor())).toEqual({ height: 384, width: 384 });
    expect(outputSize(clipProcessor(32))).toEqual({ height: 32, width: 32 });
    expect(checkProcessorConfig(clipProcessor(64))).toEqual([]);
    const bad = checkProcessorConfig({ resize: { shortestEdge: 32 }, crop: { height: 40, width: 40 }, mean: CLIP_MEAN, std: CLIP_STD });
    expect(bad.join("\n")).toMatch(/crop 40x40 is larger than the resized image \(at least 32x32\)/);
  });
});
