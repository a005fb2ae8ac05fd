/**
 * Batching: right padding of ids (with the pad id) and labels (with -100), an attention mask from
 * the true lengths, and the images stacked with zeros for text-only samples (LLaVA gives a text-only
 * sample in a multimodal model `torch.zeros(3, crop_h, crop_w)`). Plain typed arrays; the runtime
 * turns them into tensors.
 */
import { IGNORE_INDEX } from "./constants.js";

export interface CollateInput {
  /** [T_i] */
  readonly inputIds: Int32Array | readonly number[];
  /** [T_i] */
  readonly labels: Int32Array | readonly number[];
  /** [3, H, W], or null for a text-only sample */
  readonly pixelValues: Float32Array | null;
}

export interface CollateOptions {
  /** id written into padding positions (LLaVA-Gemma pads with `<unk>` = 3; Gemma's own pad is 0) */
  readonly padId: number;
  /** a sample longer than this is an error (truncate when encoding, where image tokens are counted) */
  readonly maxLength?: number;
  /** pad every batch to `maxLength` (static shapes, as LLaVA-Gemma on Gaudi) instead of the longest sample */
  readonly padToMaxLength?: boolean;
  /** image height and width; needed when no sample of the batch has an image but the model takes one */
  readonly imageSize?: { readonly height: number; readonly width: number };
}

export interface Batch {
  /** B */
  readonly batchSize: number;
  /** T */
  readonly length: number;
  /** [B, T] */
  readonly inputIds: Int32Array;
  /** [B, T] 1 for tokens, 0 for padding */
  readonly attentionMask: Int32Array;
  /** [B, T] -100 on padding and wherever the sample had -100 */
  readonly labels: Int32Array;
  /** [B, 3, H, W]; zeros for text-only samples; empty when there is no image size */
  readonly pixelValues: Float32Array;
  readonly imageHeight: number;
  readonly imageWidth: number;
  /**
   * [N, 3, H, W]: only the images of the samples that have one, in batch order (N = imageCount),
   * the form transformers' LLaVA takes (one image's features per run of image tokens)
   */
  readonly imagePixelValues: Float32Array;
  /** [B] 1 where the sample has an image */
  readonly hasImage: Uint8Array;
  /** how many samples of the batch have an image */
  readonly imageCount: number;
}

export function collate(samples: readonly CollateInput[], options: CollateOptions): Batch {
  const B = samples.length;
  if (B === 0) throw new Error("cannot collate an empty batch");
  let longest = 0;
  samples.forEach((s, b) => {
    if (s.inputIds.length !== s.labels.length) {
      throw new Error(`sample ${b} of the batch has ${s.inputIds.length} ids but ${s.labels.length} labels`);
    }
    if (options.maxLength !== undefined && s.inputIds.length > options.maxLength) {
      throw new Error(`sample ${b} of the batch has ${s.inputIds.length} tokens, more than max_length ${options.maxLength}`);
    }
    longest = Math.max(longest, s.inputIds.length);
  });
  if (options.padToMaxLength && options.maxLength === undefined) throw new Error("padToMaxLength needs maxLength");
  const T = options.padToMaxLength ? (options.maxLength as number) : longest;

  const inputIds = new Int32Array(B * T).fill(options.padId);
  const attentionMask = new Int32Array(B * T);
  const labels = new Int32Array(B * T).fill(IGNORE_INDEX);
  const hasImage = new Uint8Array(B);
  samples.forEach((s, b) => {
    inputIds.set(s.inputIds, b * T);
    labels.set(s.labels, b * T);
    attentionMask.fill(1, b * T, b * T + s.inputIds.length);
    hasImage[b] = s.pixelValues ? 1 : 0;
  });

  // image size: from the options, else from the first image of the batch
  let H = options.imageSize?.height ?? 0;
  let W = options.imageSize?.width ?? 0;
  const first = samples.find((s) => s.pixelValues);
  if (!options.imageSize && first?.pixelValues) {
    const side = Math.round(Math.sqrt(first.pixelValues.length / 3));
    if (side * side * 3 !== first.pixelValues.length) {
      throw new Error(`cannot infer the image size from ${first.pixelValues.length} values; give imageSize`);
    }
    H = side;
    W = side;
  }
  const plane = 3 * H * W;
  const pixelValues = new Float32Array(B * plane);
  samples.forEach((s, b) => {
    if (!s.pixelValues) return;
    if (s.pixelValues.length !== plane) {
      throw new Error(`sample ${b} of the batch has ${s.pixelValues.length} pixel values, expected 3x${H}x${W} = ${plane}`);
    }
    pixelValues.set(s.pixelValues, b * plane);
  });
  const imageCount = hasImage.reduce((n, v) => n + v, 0);
  const imagePixelValues = new Float32Array(imageCount * plane);
  let n = 0;
  samples.forEach((s) => {
    if (s.pixelValues) imagePixelValues.set(s.pixelValues, plane * n++);
  });
  return { batchSize: B, length: T, inputIds, attentionMask, labels, pixelValues, imagePixelValues, imageHeight: H, imageWidth: W, hasImage, imageCount };
}
