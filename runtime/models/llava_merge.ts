/**
 * Where LLaVA's image features go in the token sequence, computed on the host from the (small) id,
 * mask and label arrays. The result is a gather plan: row r of the merged sequence takes row
 * `source[r]` of the table [text embeddings (B·T rows); image features (images·P rows); one zero row].
 *
 * Two conventions, chosen by counting image tokens against image features:
 *
 * - "expand" (transformers 4.40 `_merge_input_ids_with_image_features`): one image token per image;
 *   each is replaced by the P features of its image, so rows grow by (P - 1) per image token.
 *   Invariants kept from 4.40: text tokens keep their order; rows with fewer images are padded on the
 *   left when the batch is left-padded (the last token of no row is `pad_token_id`), else on the right;
 *   image slots get label -100 and attention 1; position ids are cumsum(mask) - 1 (1 where masked);
 *   embeddings of `pad_token_id` tokens are zeroed.
 * - "inplace" (newer transformers): the prompt already repeats the image token P times per image;
 *   the features fill those positions in order. Labels at image positions become -100 (mmfm: an image
 *   position has no next-token target); the mask is unchanged; positions stay 0..T-1.
 */

export interface MergeInputs {
  ids: number[][];
  /** [B][T]; all ones when absent. */
  mask: number[][] | null;
  labels: number[][] | null;
  images: number;
  /** Features per image (P). */
  perImage: number;
  imageTokenId: number;
  /** -1 when the config has none (4.40 then always treats the batch as left-padded). */
  padTokenId: number;
  ignoreIndex: number;
}

export interface MergePlan {
  mode: "expand" | "inplace";
  /** Merged length L. */
  length: number;
  /** [B·L] rows of the gather table. */
  source: Int32Array;
  mask: number[][];
  labels: number[][] | null;
  /** [B][L], or null for 0..L-1. */
  positions: number[][] | null;
}

export function planMerge(m: MergeInputs): MergePlan {
  const B = m.ids.length;
  const T = B > 0 ? m.ids[0].length : 0;
  const tokens = m.ids.reduce((n, row) => n + row.filter((t) => t === m.imageTokenId).length, 0);
  const features = m.images * m.perImage;
  if (tokens === features && m.perImage !== 1) return planInPlace(m, B, T);
  if (tokens === m.images) return planExpand(m, B, T);
  throw new Error(
    `image tokens and image features do not match: the input has ${tokens} image token(s) (id ${m.imageTokenId}) ` +
      `for ${m.images} image(s) of ${m.perImage} features; expected ${m.images} (one per image) or ${features} (one per feature)`,
  );
}

function planInPlace(m: MergeInputs, B: number, T: number): MergePlan {
  const source = new Int32Array(B * T);
  const textRows = B * T;
  let next = 0;
  const labels = m.labels ? m.labels.map((r) => r.slice()) : null;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      if (m.ids[b][t] === m.imageTokenId) {
        source[b * T + t] = textRows + next++;
        if (labels) labels[b][t] = m.ignoreIndex;
      } else {
        source[b * T + t] = b * T + t;
      }
    }
  }
  const mask = m.mask ?? m.ids.map((r) => r.map(() => 1));
  return { mode: "inplace", length: T, source, mask, labels, positions: null };
}

function planExpand(m: MergeInputs, B: number, T: number): MergePlan {
  const P = m.perImage;
  const isImage = m.ids.map((row) => row.map((t) => t === m.imageTokenId));
  const counts = isImage.map((row) => row.filter(Boolean).length);
  const L = Math.max(0, ...counts) * (P - 1) + T;
  const leftPadding = !m.ids.some((row) => row[T - 1] === m.padTokenId);
  const textRows = B * T;
  const zeroRow = textRows + m.images * P;
  const source = new Int32Array(B * L).fill(zeroRow);
  const mask = Array.from({ length: B }, () => new Array<number>(L).fill(0));
  const labels = m.labels ? Array.from({ length: B }, () => new Array<number>(L).fill(m.ignoreIndex)) : null;
  const newPos: number[][] = [];
  const imageSlot: boolean[][] = [];
  for (let b = 0; b < B; b++) {
    // Position of each token once every image token before it has grown to P slots.
    const pos = new Array<number>(T);
    let at = -1;
    for (let t = 0; t < T; t++) pos[t] = at += isImage[b][t] ? P : 1;
    const pad = L - 1 - pos[T - 1];
    if (leftPadding) for (let t = 0; t < T; t++) pos[t] += pad;
    newPos.push(pos);
    const slot = new Array<boolean>(L).fill(true);
    for (let t = 0; t < T; t++) {
      if (isImage[b][t]) continue;
      const r = pos[t];
      slot[r] = false;
      source[b * L + r] = b * T + t;
      mask[b][r] = m.mask ? m.mask[b][t] : 1;
      if (labels) labels[b][r] = m.labels![b][t];
    }
    // 4.40 skips the first `pad` free slots of the row (the padding), whatever side it is on.
    let free = 0;
    for (let r = 0; r < L; r++) {
      if (!slot[r]) continue;
      free += 1;
      if (free - 1 < pad) slot[r] = false;
    }
    imageSlot.push(slot);
  }
  let next = 0;
  for (let b = 0; b < B; b++) {
    for (let r = 0; r < L; r++) {
      if (!imageSlot[b][r]) continue;
      if (next < m.images * P) source[b * L + r] = textRows + next;
      next += 1;
      mask[b][r] = 1;
    }
  }
  if (next !== m.images * P) {
    throw new Error(
      `image features and image tokens do not match: the merge has ${next} image slots for ` +
        `${m.images} image(s) × ${P} features = ${m.images * P}`,
    );
  }
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) if (m.ids[b][t] === m.padTokenId) source[b * L + newPos[b][t]] = zeroRow;
  }
  const positions = mask.map((row) => {
    let sum = 0;
    return row.map((v) => ((sum += v), v === 0 ? 1 : sum - 1));
  });
  return { mode: "expand", length: L, source, mask, labels, positions };
}
