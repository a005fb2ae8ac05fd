/** The data path of the mmfm runtime: LLaVA json, images, tokenizers, chat templates, synthetic shapes, batching. */
export { IGNORE_INDEX, IMAGE_TOKEN, IMAGE_TOKEN_INDEX } from "./constants.js";
export { DataError, type DataErrorInit, type DataErrorReason, formatDataError } from "./errors.js";
export { type ArrayIndex, readRange, type ScanOptions, scanJsonArray } from "./json_scan.js";
export {
  type LlavaDataset,
  type LlavaOpenOptions,
  type LlavaSample,
  type LlavaStats,
  type LlavaTurn,
  moveImageTokenToFront,
  openLlavaJson,
  type ParseContext,
  parseSample,
  parseSampleBytes,
  pythonWordCount,
} from "./llava_json.js";
export { decodeImage, encodePng, ImageDecodeError, imageHeader, PIXEL_LIMIT, verifyImage, type RgbImage } from "./images.js";
export { axisCoefficients, cubicKernel, resizeBicubic } from "./resample.js";
export {
  type AspectMode,
  CLIP_MEAN,
  CLIP_STD,
  centreCrop,
  checkProcessorConfig,
  clipProcessor,
  dinov2Processor,
  expandToSquare,
  IMAGENET_MEAN,
  IMAGENET_STD,
  type ImageProcessorConfig,
  outputSize,
  padColour,
  preprocessImage,
  processorPreset,
  type ProcessorPreset,
  processPixels,
  resizedSize,
  type Rgb,
  SIGLIP_MEAN,
  SIGLIP_STD,
  siglipProcessor,
} from "./processor.js";
export { loadTokenizer, type TextTokenizer, TokenizerError, type TokenizerFiles, tokenizerFromFiles } from "./tokenizer.js";
export { type BuildTokenizerOptions, buildTokenizer, saveTokenizer, TINY_SPECIAL_TOKENS } from "./tokenizer_build.js";
export {
  type ChatTemplate,
  type EncodedConversation,
  type EncodeOptions,
  encodeConversation,
  GEMMA_MODEL,
  GEMMA_SEP,
  GEMMA_USER,
  generationPrompt,
  renderConversation,
  renderGemma,
  renderVicuna,
  stopTokenIds,
  VICUNA_ASSISTANT,
  VICUNA_SEP2,
  VICUNA_SYSTEM,
  VICUNA_USER,
} from "./template.js";
export { prepareParsed, prepareSample, type SamplePipeline, type TrainingSample } from "./prepare.js";
export { type Batch, collate, type CollateInput, type CollateOptions } from "./collate.js";
export {
  BatchSampler,
  lengthGroupedIndices,
  modalityLengthGroupedIndices,
  type Permutation,
  type SampledBatch,
  type SamplerOptions,
  type SamplerPosition,
  seededPermutation,
  splitToEvenChunks,
} from "./sampler.js";
export { Mixture, mixtureCounts, type MixturePart } from "./mixture.js";
export { hash32, Rng } from "./prng.js";
export { cropInto, DINO_COLOUR, type Box, type ColourAugmentation, jitterColours, type Normalization, randomBox } from "./augment.js";
export {
  askQuestion,
  describeScene,
  generateShapes,
  generateShapesText,
  type LlavaJsonSample,
  makeScene,
  POSITIONS,
  QUESTION_TYPES,
  type QuestionType,
  questionPrompt,
  renderScene,
  type Scene,
  SHAPE_COLOURS,
  SHAPE_KINDS,
  type ShapesDataset,
  type ShapesOptions,
  type ShapesWriteSummary,
  SHORT_ANSWER_SUFFIX,
  writeShapesDataset,
} from "./shapes.js";
export { type DrawnShape, renderShapes, type ShapeKind } from "./shapes_render.js";
export { type Accuracy, normaliseShapesAnswer, scoreShapes, type ShapesItem, type ShapesItemsFile, type ShapesScores } from "./shapes_score.js";
