/**
 * Per-channel image normalisation of the real backbones' preprocessors, defined once: the families'
 * defaults (compiler), the export's checkpoint knowledge and the data path (runtime) read them here.
 */
export type Rgb = readonly [number, number, number];

/** OpenAI CLIP (CLIPImageProcessor). */
export const CLIP_MEAN: Rgb = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD: Rgb = [0.26862954, 0.26130258, 0.27577711];
/** ImageNet statistics (DINOv2's BitImageProcessor). */
export const IMAGENET_MEAN: Rgb = [0.485, 0.456, 0.406];
export const IMAGENET_STD: Rgb = [0.229, 0.224, 0.225];
/** SigLIP (SiglipImageProcessor). */
export const SIGLIP_MEAN: Rgb = [0.5, 0.5, 0.5];
export const SIGLIP_STD: Rgb = [0.5, 0.5, 0.5];
