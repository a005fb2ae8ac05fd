/**
 * Which WebGPU adapter to use, and which device limits to ask it for: pure functions over what Dawn
 * reports, so the choice is tested without a GPU (test/backend/adapter.test.ts).
 *
 * Dawn's `requestAdapter` returns one adapter, the first of its own ordering, and on a machine with a
 * GPU and Mesa's lavapipe (or SwiftShader) installed that can be the software one. Dawn lists every
 * adapter of a backend when asked for a name that matches none (`create(["adapter=..."])` rejects
 * with "Available adapters: * backend: 'vulkan', name: 'NVIDIA H100 80GB HBM3'"), so we list them,
 * choose here, and ask for the chosen one by name.
 */

export interface AdapterCandidate {
  /** Dawn's backend name: `vulkan`, `metal`, `d3d12`, `opengles`, ... */
  backend: string;
  /** The device name Dawn reports (and matches `adapter=` against). */
  name: string;
}

export type AdapterKind = "discrete" | "integrated" | "other" | "software";

/** Names of adapters that run on the CPU. */
const SOFTWARE = /llvmpipe|lavapipe|softpipe|swiftshader|software|basic render|microsoft basic/i;
/** Vendors whose GPUs are (nearly always) discrete. */
const DISCRETE = /nvidia|geforce|quadro|tesla|\b[hab]100\b|\bh200\b|radeon(?! graphics)|\bamd instinct|\barc a\d/i;
/** GPUs that share memory with the CPU. */
const INTEGRATED = /intel|uhd|iris|radeon graphics|apple m\d|mali|adreno|powervr|vivante/i;

export function isSoftwareAdapter(name: string): boolean {
  return SOFTWARE.test(name);
}

/** What kind of adapter a name describes (a guess from the name: Dawn's JS API gives no type). */
export function adapterKind(c: AdapterCandidate): AdapterKind {
  if (isSoftwareAdapter(c.name)) return "software";
  if (DISCRETE.test(c.name)) return "discrete";
  if (INTEGRATED.test(c.name)) return "integrated";
  return "other";
}

/** Parses the adapter list out of Dawn's "no adapter ... found" message; [] if it has none. */
export function parseAdapterList(message: string): AdapterCandidate[] {
  const out: AdapterCandidate[] = [];
  for (const m of message.matchAll(/^\s*\* backend: '([^']*)', name: '(.*)'\s*$/gm)) {
    out.push({ backend: m[1], name: m[2] });
  }
  return out;
}

const KIND_RANK: Record<AdapterKind, number> = { discrete: 3, other: 2, integrated: 1, software: 0 };
/** Native backends first; OpenGL(ES) only in compatibility mode; `null` computes nothing. */
const BACKEND_RANK: Record<string, number> = { vulkan: 3, metal: 3, d3d12: 3, d3d11: 2, opengl: 1, opengles: 1 };

export type AdapterChoice =
  | { ok: true; adapter: AdapterCandidate; kind: AdapterKind; reason: string }
  | { ok: false; reason: string };

/** chooseAdapter's reason when the list is empty. */
export const NO_ADAPTER = "Dawn found no adapter";

export interface ChooseOptions {
  /** Accept a software adapter when no hardware one exists. */
  allowSoftware: boolean;
  /** Only adapters whose name contains this (case-insensitive), e.g. from MMFM_WEBGPU_ADAPTER. */
  nameContains?: string;
}

/**
 * The best adapter: hardware before software always (a software adapter only when there is no
 * hardware one and `allowSoftware`), then discrete before other before integrated, then native
 * backends before OpenGL. Ties keep Dawn's order.
 */
export function chooseAdapter(candidates: readonly AdapterCandidate[], options: ChooseOptions): AdapterChoice {
  const usable = candidates.filter((c) => c.backend !== "null");
  const listed = usable.map((c) => `${c.name} (${c.backend})`).join(", ") || "none";
  const filter = options.nameContains?.trim().toLowerCase();
  const named = filter ? usable.filter((c) => c.name.toLowerCase().includes(filter)) : usable;
  if (named.length === 0) {
    return { ok: false, reason: filter ? `no adapter name contains \`${options.nameContains}\` (found: ${listed})` : NO_ADAPTER };
  }
  const ranked = named
    .map((c, i) => ({ c, i, kind: adapterKind(c) }))
    .sort((a, b) => KIND_RANK[b.kind] - KIND_RANK[a.kind] || (BACKEND_RANK[b.c.backend] ?? 0) - (BACKEND_RANK[a.c.backend] ?? 0) || a.i - b.i);
  const best = ranked[0];
  if (best.kind === "software" && !options.allowSoftware) {
    return { ok: false, reason: `only a software adapter (${listed})` };
  }
  const others = ranked.length - 1;
  const reason = `${best.kind} adapter${others > 0 ? ` (of ${ranked.length}: ${listed})` : ""}`;
  return { ok: true, adapter: best.c, kind: best.kind, reason };
}

/** The device limits the runtime asks for: the adapter's own where they matter for tensors. */
export const REQUESTED_LIMITS = [
  "maxBufferSize",
  "maxStorageBufferBindingSize",
  "maxComputeWorkgroupStorageSize",
  "maxComputeWorkgroupsPerDimension",
  "maxComputeWorkgroupSizeX",
  "maxComputeInvocationsPerWorkgroup",
  "maxStorageBuffersPerShaderStage",
] as const;

export type RequestedLimit = (typeof REQUESTED_LIMITS)[number];

/**
 * `requiredLimits` for `requestDevice`: the adapter's value of each requested limit (WebGPU gives a
 * device the spec's defaults, e.g. 128 MiB bindings and 256 MiB buffers, unless asked for more).
 * Limits the adapter does not report are left out.
 */
export function deviceLimits(adapterLimits: Readonly<Record<string, unknown>>): Partial<Record<RequestedLimit, number>> {
  const out: Partial<Record<RequestedLimit, number>> = {};
  for (const k of REQUESTED_LIMITS) {
    const v = adapterLimits[k];
    if (typeof v === "number" && Number.isFinite(v) && v > 0) out[k] = v;
  }
  return out;
}
