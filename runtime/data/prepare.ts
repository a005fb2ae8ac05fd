/**
 * One training sample end to end: parse (llava_json), decode and preprocess the image, apply the chat
 * template and mask the labels. This is what a data loader calls per index.
 */
import { DataError } from "./errors.js";
import type { LlavaDataset, LlavaSample } from "./llava_json.js";
import { type AspectMode, type ImageProcessorConfig, preprocessImage } from "./processor.js";
import { type ChatTemplate, encodeConversation } from "./template.js";
import type { TextTokenizer } from "./tokenizer.js";

export interface SamplePipeline {
  readonly tokenizer: TextTokenizer;
  readonly template: ChatTemplate;
  /** the model's longest sequence, image positions included */
  readonly maxLength: number;
  /** positions one image's features take in the sequence (0 for a text-only model) */
  readonly imageTokens: number;
  /** the vision backbone's processor; absent for a text-only model */
  readonly processor?: ImageProcessorConfig;
  /** LLaVA's `image_aspect_ratio`: `pad` (LLaVA-1.5 finetuning) or `crop` (the processor alone) */
  readonly aspect: AspectMode;
}

export interface TrainingSample {
  /** position in the dataset and in the file */
  readonly index: number;
  readonly fileIndex: number;
  readonly id: string | undefined;
  /** [T] */
  readonly inputIds: Int32Array;
  /** [T] */
  readonly labels: Int32Array;
  /** [3, H, W] float32, or null for a text-only sample */
  readonly pixelValues: Float32Array | null;
  readonly imageStart: number;
  readonly truncated: boolean;
  readonly mismatch: boolean;
}

/** Turns the parsed sample (and its image, if any) into ids, labels and pixel values. */
export async function prepareParsed(dataset: Pick<LlavaDataset, "file" | "loadImage">, sample: LlavaSample, index: number, p: SamplePipeline): Promise<TrainingSample> {
  const context = { file: dataset.file, index: sample.index, id: sample.id };
  const hasImage = sample.image !== undefined;
  let pixelValues: Float32Array | null = null;
  if (hasImage) {
    if (!p.processor) {
      throw new DataError({ reason: "template", message: "the sample has an image but the model has no vision encoder", field: "image", ...context });
    }
    const image = await dataset.loadImage(sample);
    pixelValues = preprocessImage(image, p.processor, p.aspect);
  }
  try {
    const enc = encodeConversation(sample.turns, hasImage, p.tokenizer, { template: p.template, maxLength: p.maxLength, imageTokens: p.imageTokens });
    return {
      index,
      fileIndex: sample.index,
      id: sample.id,
      inputIds: enc.inputIds,
      labels: enc.labels,
      pixelValues,
      imageStart: enc.imageStart,
      truncated: enc.truncated,
      mismatch: enc.mismatch,
    };
  } catch (error) {
    if (error instanceof DataError) throw error.with(context);
    throw error;
  }
}

/** Sample `i` of the dataset through the whole pipeline; errors are `DataError`s naming the file and sample. */
export async function prepareSample(dataset: LlavaDataset, i: number, p: SamplePipeline): Promise<TrainingSample> {
  const sample = await dataset.get(i);
  return prepareParsed(dataset, sample, i, p);
}
