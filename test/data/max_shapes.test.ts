import { describe, expect, it } from "vitest";
import { generateShapes, generateShapesText, makeScene } from "../../runtime/data/index.js";

describe("synthetic_shapes maxShapes", () => {
  it("caps the shapes per image and leaves the default scenes unchanged", () => {
    for (let i = 0; i < 50; i++) {
      const full = makeScene(3, "train", i, 32);
      expect(makeScene(3, "train", i, 32, 4)).toEqual(full);
      const one = makeScene(3, "train", i, 32, 1);
      expect(one.objects).toHaveLength(1);
      expect(makeScene(3, "train", i, 32, 2).objects.length).toBe(Math.min(2, full.objects.length));
    }
  });

  it("answers questions about the capped scene", () => {
    const data = generateShapes({ seed: 5, train: 40, test: 10, maxShapes: 2 });
    const counts = data.items.items.filter((item) => item.question === "How many shapes are there?");
    for (const item of counts) expect(["1", "2"]).toContain(item.answer);
  });

  it("with one shape per scene, asks no question the image does not decide (how many shapes: always 1)", () => {
    const data = generateShapes({ seed: 5, train: 60, test: 60, maxShapes: 1 });
    const asked = [...data.items.items.map((i) => i.question), ...data.train.flatMap((s) => s.conversations.filter((t) => t.from === "human").map((t) => t.value))];
    expect(asked.some((q) => q.includes("How many shapes are there?"))).toBe(false);
    const kinds = data.items.items.filter((i) => i.type === "count");
    expect(kinds.length).toBeGreaterThan(5);
    for (const item of kinds) expect(item.question).toMatch(/^How many (circles|squares|triangles) are there\?$/);
    expect(new Set(kinds.map((i) => i.answer))).toEqual(new Set(["0", "1"]));
    for (const s of generateShapesText({ seed: 5, count: 40, maxShapes: 1 })) expect(JSON.stringify(s)).not.toContain("How many shapes are there?");
  });

  it("refuses a cap outside 1..4", () => {
    expect(() => generateShapes({ maxShapes: 0 })).toThrow(/maxShapes/);
    expect(() => generateShapes({ maxShapes: 5 })).toThrow(/maxShapes/);
  });
});
