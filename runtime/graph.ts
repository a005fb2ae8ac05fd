/**
 * The typed graph API: constructors named after the families that build a typed description of a
 * LLaVA model. A constructor takes its family's fields under the plan's own names (a family's config
 * here is its plan component without `family` and `name`, plan/plan.ts), so one field has one name
 * from spec to plan to graph to model. Widths are literal number types, so a model whose widths
 * disagree does not type-check:
 *
 *   const vision = clipVit({ image: 336, patch: 14, width: 1024, ... });   // VisionEncoder<1024>
 *   const connector = mlp({ in: 1024, out: 2048, depth: 2, act: "gelu" }); // Connector<1024, 2048>
 *   const language = gemma({ width: 2048, ... });                           // LanguageModel<2048> (or llama(...))
 *   export const model = llava({ vision, connector, language });            // widths must agree
 *
 * `mmfmc build` emits one such module per variant; the runtime turns a description into tensors
 * (`buildModel` in runtime/models). This file has no dependency on tfjs, so type-checking a graph
 * module is cheap.
 */
import type { ClipVitPlan, Component, Dinov2Plan, GemmaPlan, LlamaPlan, Plan, SiglipPlan, Template } from "../plan/plan.js";

/** A plan component's fields without `family` and `name`, with its width as the literal type `W`. */
type Fields<P, W extends number> = Omit<P, "family" | "name" | "width"> & { readonly width: W };

export type ClipVitConfig<W extends number> = Fields<ClipVitPlan, W>;
export type Dinov2Config<W extends number> = Fields<Dinov2Plan, W>;
export type SiglipConfig<W extends number> = Fields<SiglipPlan, W>;

/** A vision backbone whose features (at `select_layer`) are `W` wide. */
export interface VisionEncoder<W extends number> {
  readonly kind: "vision";
  readonly width: W;
  readonly family: "clip_vit" | "dinov2" | "siglip";
  readonly config: ClipVitConfig<W> | Dinov2Config<W> | SiglipConfig<W>;
}

/** A connector from `I`-wide vision features to `O`-wide language embeddings. */
export interface Connector<I extends number, O extends number> {
  readonly kind: "connector";
  readonly in: I;
  readonly out: O;
  readonly family: "identity" | "linear" | "mlp";
  readonly depth: number;
  readonly act: "gelu";
}

export type GemmaConfig<W extends number> = Fields<GemmaPlan, W>;
export type LlamaConfig<W extends number> = Fields<LlamaPlan, W>;

export interface GemmaLanguageModel<W extends number> {
  readonly kind: "language";
  readonly width: W;
  readonly family: "gemma";
  readonly config: GemmaConfig<W>;
}

export interface LlamaLanguageModel<W extends number> {
  readonly kind: "language";
  readonly width: W;
  readonly family: "llama";
  readonly config: LlamaConfig<W>;
}

/** A language backbone whose embeddings are `W` wide. */
export type LanguageModel<W extends number> = GemmaLanguageModel<W> | LlamaLanguageModel<W>;

export interface LlavaModel<V extends number, L extends number> {
  readonly kind: "llava";
  readonly vision: VisionEncoder<V>;
  readonly connector: Connector<V, L>;
  readonly language: LanguageModel<L>;
  readonly template: Template;
  readonly image_token: string;
}

function checkWidth(what: string, width: number): void {
  if (!Number.isInteger(width) || width <= 0) throw new RangeError(`${what} width must be a positive integer, got ${width}`);
}

export function clipVit<const W extends number>(config: ClipVitConfig<W>): VisionEncoder<W> {
  checkWidth("vision", config.width);
  return { kind: "vision", width: config.width, family: "clip_vit", config };
}

export function dinov2<const W extends number>(config: Dinov2Config<W>): VisionEncoder<W> {
  checkWidth("vision", config.width);
  return { kind: "vision", width: config.width, family: "dinov2", config };
}

export function siglip<const W extends number>(config: SiglipConfig<W>): VisionEncoder<W> {
  checkWidth("vision", config.width);
  return { kind: "vision", width: config.width, family: "siglip", config };
}

/** Passes features through: input and output width are one. */
export function identity<const W extends number>(config: { readonly in: W; readonly out: W }): Connector<W, W> {
  checkWidth("connector", config.in);
  if (config.in !== config.out) throw new RangeError(`identity connector: in ${config.in} != out ${config.out}`);
  return { kind: "connector", in: config.in, out: config.out, family: "identity", depth: 0, act: "gelu" };
}

export function linear<const I extends number, const O extends number>(config: { readonly in: I; readonly out: O }): Connector<I, O> {
  checkWidth("connector", config.in);
  checkWidth("connector", config.out);
  return { kind: "connector", in: config.in, out: config.out, family: "linear", depth: 1, act: "gelu" };
}

export function mlp<const I extends number, const O extends number>(config: {
  readonly in: I;
  readonly out: O;
  readonly depth: number;
  readonly act: "gelu";
}): Connector<I, O> {
  checkWidth("connector", config.in);
  checkWidth("connector", config.out);
  return { kind: "connector", in: config.in, out: config.out, family: "mlp", depth: config.depth, act: config.act };
}

export function gemma<const W extends number>(config: GemmaConfig<W>): GemmaLanguageModel<W> {
  checkWidth("language", config.width);
  return { kind: "language", width: config.width, family: "gemma", config };
}

export function llama<const W extends number>(config: LlamaConfig<W>): LlamaLanguageModel<W> {
  checkWidth("language", config.width);
  return { kind: "language", width: config.width, family: "llama", config };
}

/**
 * A LLaVA model. The widths are inferred from the backbones only, so a connector whose `in` is not
 * the vision width, or whose `out` is not the language width, is a type error on `connector`.
 */
export function llava<V extends number, L extends number>(parts: {
  readonly vision: VisionEncoder<V>;
  readonly connector: Connector<NoInfer<V>, NoInfer<L>>;
  readonly language: LanguageModel<L>;
  readonly template?: Template;
  readonly image_token?: string;
}): LlavaModel<V, L> {
  const { vision, connector, language } = parts;
  if (connector.in !== vision.width || connector.out !== language.width) {
    throw new RangeError(
      `connector ${connector.in} -> ${connector.out} does not fit vision width ${vision.width} and language width ${language.width}`,
    );
  }
  return {
    kind: "llava",
    vision,
    connector,
    language,
    template: parts.template ?? (language.family === "llama" ? "vicuna_v1" : "gemma"),
    image_token: parts.image_token ?? "<image>",
  };
}

/** A training stage of a graph module: which data, what is trained, and how. */
export interface StageSpec {
  readonly kind: "stage" | "eval";
  readonly name: string;
  readonly train: readonly Component[];
  readonly cache_key: string;
}

export function stage(spec: { readonly name: string; readonly train: readonly Component[]; readonly cache_key: string }): StageSpec {
  return { kind: "stage", ...spec };
}

export function evalStage(spec: { readonly name: string; readonly cache_key: string }): StageSpec {
  return { kind: "eval", name: spec.name, train: [], cache_key: spec.cache_key };
}

/** What a generated module exports. */
export interface GraphModule {
  readonly model: LlavaModel<number, number>;
  readonly stages: readonly StageSpec[];
  readonly plan: Plan;
}

export type { Plan };
