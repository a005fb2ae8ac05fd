import { describe, expect, it } from "vitest";
import { generateShapes, makeScene } from "../../runtime/data/index.js";

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
    const data = generateShapes({ seed: 5, train: 40, test: 10, maxShapes: 1 });
    for (const item of data.items.items) if (item.question === "How many shapes are there?") expect(item.answer).toBe("1");
  });

  it("refuses a cap outside 1..4", () => {
    expect(() => generateShapes({ maxShapes: 0 })).toThrow(/maxShapes/);
    expect(() => generateShapes({ maxShapes: 5 })).toThrow(/maxShapes/);
  });
});
