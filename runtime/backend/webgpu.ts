/**
 * tfjs's WebGPU backend on Dawn (the `webgpu` npm package, prebuilt `dawn.node`), in Node.
 *
 * Node 20 has no `navigator`, so we create Dawn's GPU object, choose the adapter ourselves
 * (`adapter.ts`: hardware before software, discrete before integrated), create the device with the
 * adapter's buffer limits, and register tfjs's `WebGPUBackend` on that device. Hardware adapters
 * only, unless `software` is set: then, when no hardware adapter exists, Mesa's llvmpipe through
 * Dawn's OpenGL ES backend (`EGL_PLATFORM=surfaceless`, compatibility feature level) is accepted, so
 * CI can run the WebGPU code path without a GPU (correct, not fast: ~1 GFLOP/s).
 *
 * On Linux Dawn needs the Vulkan loader for a hardware adapter; without `libvulkan.so.1` there can be
 * none, so we do not start Dawn's Vulkan backend at all (which would also print native warnings).
 * tfjs-backend-webgpu in Node can only read tensors asynchronously (`await t.data()`): `dataSync`
 * needs OffscreenCanvas.
 */
import * as fs from "node:fs";
import { tf } from "../tf.js";
import { chooseAdapter, deviceLimits, isSoftwareAdapter, NO_ADAPTER, parseAdapterList, REQUESTED_LIMITS, type AdapterCandidate, type AdapterKind } from "./adapter.js";

export type { AdapterCandidate } from "./adapter.js";

export interface WebGpuStart {
  adapter: string;
  software: boolean;
  kind: AdapterKind;
  /** Why this adapter (e.g. "discrete adapter (of 2: ...)"). */
  reason: string;
  /** The device's limits for the ones the runtime requests (maxBufferSize, ...), in bytes or counts. */
  limits: Record<string, number>;
  /** Whether kernel times can be measured (the device has `timestamp-query`). */
  timestamps: boolean;
  /** Every adapter Dawn listed, the chosen one among them. */
  listed: AdapterCandidate[];
}

/** Why there is no usable adapter, or the adapter found. */
export type AdapterProbe =
  | { ok: true; adapter: GPUAdapterLike; gpu: GpuLike; name: string; software: boolean; kind: AdapterKind; reason: string; listed: AdapterCandidate[] }
  | { ok: false; reason: string };

interface GPUAdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
export interface GPUAdapterLike {
  info?: GPUAdapterInfoLike;
  isFallbackAdapter?: boolean;
  limits?: Record<string, unknown>;
  features?: { has(name: string): boolean };
  requestDevice?(descriptor?: Record<string, unknown>): Promise<GPUDeviceLike>;
}
interface GPUDeviceLike {
  limits: Record<string, unknown>;
  features: { has(name: string): boolean };
  lost?: Promise<{ reason?: string; message?: string }>;
}
interface GpuLike {
  requestAdapter(options?: Record<string, unknown>): Promise<GPUAdapterLike | null>;
  getPreferredCanvasFormat?(): string;
  wgslLanguageFeatures?: unknown;
}
type Create = (flags: string[]) => GpuLike;

/** A name no adapter has: Dawn then rejects with the list of the adapters it found. */
const LIST_ADAPTERS = "adapter=mmfm-list-adapters";
const COMPAT = { featureLevel: "compatibility" };

/** `listed` is the name Dawn listed; the adapter's info adds its driver description. */
function describe(a: GPUAdapterLike, listed: string): { name: string; software: boolean } {
  const info = a.info ?? {};
  const detail = [info.vendor, info.architecture, info.description].filter((s) => s != null && s !== "").join(", ");
  const name = detail === "" ? listed : `${listed} (${detail})`;
  const software = info.isFallbackAdapter === true || a.isFallbackAdapter === true || isSoftwareAdapter(name) || isSoftwareAdapter(info.device ?? "");
  return { name, software };
}

function vulkanLoaderPresent(): boolean {
  const dirs = (process.env.LD_LIBRARY_PATH ?? "").split(":").filter((d) => d !== "");
  dirs.push("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/lib/x86_64-linux-gnu", "/usr/local/lib");
  return dirs.some((d) => fs.existsSync(`${d}/libvulkan.so.1`));
}

/** The adapters Dawn finds with these flags ([] when none). */
async function listAdapters(create: Create, flags: string[], options: Record<string, unknown>): Promise<AdapterCandidate[]> {
  try {
    await create([...flags, LIST_ADAPTERS]).requestAdapter(options);
    return []; // resolved: Dawn found no adapter at all
  } catch (e) {
    return parseAdapterList((e as Error).message ?? String(e));
  }
}

let started: { probe: Extract<AdapterProbe, { ok: true }>; start: WebGpuStart } | null = null;

/** The WebGPU start of this process (adapter, limits, ...), or null before `startWebGpu`. */
export function webGpuStart(): WebGpuStart | null {
  return started?.start ?? null;
}

/**
 * Looks for an adapter: lists the hardware ones (and, with `software`, Mesa llvmpipe through Dawn's
 * GL backend), chooses with `chooseAdapter`, and requests the chosen one by name. `nameContains`
 * (MMFM_WEBGPU_ADAPTER) narrows the choice to adapters whose name contains it.
 */
export async function probeWebGpu(software: boolean, nameContains?: string): Promise<AdapterProbe> {
  if (started != null) {
    // One device per process: the adapter chosen first stands (a software one only where allowed).
    const p = started.probe;
    return p.software && !software ? { ok: false, reason: `only a software adapter (${p.name})` } : p;
  }
  let create: Create;
  try {
    const dawn = (await import("webgpu")) as unknown as { create: Create; globals: object };
    create = dawn.create;
    // WebGPU's global constants and classes (GPUBufferUsage, ...), which tfjs-backend-webgpu uses.
    for (const [k, v] of Object.entries(dawn.globals)) if (!(k in globalThis)) Object.assign(globalThis, { [k]: v });
  } catch (e) {
    return { ok: false, reason: `the \`webgpu\` package (Dawn) did not load: ${(e as Error).message}` };
  }
  const noLoader = process.platform === "linux" && !vulkanLoaderPresent();
  const hardware = noLoader ? [] : await listAdapters(create, [], { powerPreference: "high-performance" });
  let gl: AdapterCandidate[] = [];
  if (software) {
    // Dawn's GL backend needs EGL without a display; Mesa reads this when EGL starts.
    process.env.EGL_PLATFORM ??= "surfaceless";
    gl = await listAdapters(create, ["backend=opengles"], COMPAT);
  }
  const choice = chooseAdapter([...hardware, ...gl], { allowSoftware: software, nameContains });
  if (!choice.ok) {
    if (choice.reason !== NO_ADAPTER) return { ok: false, reason: choice.reason }; // only software, or none by that name
    if (software) return { ok: false, reason: "no adapter: Dawn found no GPU, and its OpenGL ES backend no EGL device (is Mesa's libegl-mesa0 installed?)" };
    if (noLoader) return { ok: false, reason: "no Vulkan loader (libvulkan.so.1), so Dawn can have no hardware adapter" };
    if (process.platform === "linux") {
      return { ok: false, reason: "Dawn's Vulkan backend found no adapter (no GPU driver for the Vulkan loader? for NVIDIA, set VK_DRIVER_FILES to its nvidia_icd.json)" };
    }
    return { ok: false, reason: "Dawn found no GPU adapter" };
  }
  const { backend, name } = choice.adapter;
  const viaGl = backend === "opengl" || backend === "opengles";
  const gpu = create([...(viaGl ? [`backend=${backend}`] : []), `adapter=${name}`]);
  const adapter = await gpu.requestAdapter(viaGl ? COMPAT : { powerPreference: "high-performance" }).catch((e: Error) => e);
  if (adapter == null || adapter instanceof Error) {
    const why = adapter instanceof Error ? `: ${adapter.message.split("\n")[0]}` : "";
    return { ok: false, reason: `Dawn listed the adapter ${name} (${backend}) but did not return it${why}` };
  }
  const d = describe(adapter, name);
  if (d.software && !software) return { ok: false, reason: `only a software adapter (${d.name})` };
  return { ok: true, adapter, gpu, name: d.name, software: d.software, kind: d.software ? "software" : choice.kind, reason: choice.reason, listed: [...hardware, ...gl] };
}

/** The features tfjs-backend-webgpu uses when the adapter has them. */
const WANTED_FEATURES = ["timestamp-query"];

/**
 * Creates the device with the adapter's buffer limits, registers tfjs-backend-webgpu on it and makes
 * it the active backend. A second call returns the first start (one device per process).
 */
export async function startWebGpu(probe: Extract<AdapterProbe, { ok: true }>): Promise<WebGpuStart> {
  if (started != null) {
    const ok = await tf.setBackend("webgpu");
    if (!ok) throw new Error(`the WebGPU backend failed to restart on ${started.start.adapter}`);
    return started.start;
  }
  const { gpu, adapter } = probe;
  const navigatorGpu: GpuLike = {
    requestAdapter: async () => adapter,
    getPreferredCanvasFormat: () => gpu.getPreferredCanvasFormat?.() ?? "rgba8unorm",
    wgslLanguageFeatures: gpu.wgslLanguageFeatures,
  };
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (g.navigator == null) g.navigator = { gpu: navigatorGpu };
  else Object.defineProperty(g.navigator, "gpu", { value: navigatorGpu, configurable: true, writable: true });
  // The package registers its own `webgpu` factory at import time when navigator.gpu exists; we
  // replace it with one on our device (tfjs's asks for six limits and mis-lists a feature).
  const webgpu = (await import("@tensorflow/tfjs-backend-webgpu")) as unknown as {
    WebGPUBackend: new (device: unknown, adapterInfo?: unknown) => tf.KernelBackend;
  };
  if (adapter.requestDevice == null) throw new Error(`the adapter ${probe.name} cannot create a device`);
  const requiredFeatures = WANTED_FEATURES.filter((f) => adapter.features?.has(f) === true);
  const device = await adapter.requestDevice({ requiredLimits: deviceLimits(adapter.limits ?? {}), requiredFeatures });
  void device.lost?.then((l) => {
    if (l.reason !== "destroyed") process.stderr.write(`webgpu: the device was lost (${l.reason ?? "unknown"}): ${l.message ?? ""}\n`);
  });
  if (tf.findBackendFactory("webgpu") != null) tf.removeBackend("webgpu");
  tf.registerBackend("webgpu", () => new webgpu.WebGPUBackend(device, adapter.info), 3);
  const ok = await tf.setBackend("webgpu");
  if (!ok) throw new Error(`the WebGPU backend failed to start on ${probe.name}`);
  const limits: Record<string, number> = {};
  for (const k of REQUESTED_LIMITS) if (typeof device.limits[k] === "number") limits[k] = device.limits[k] as number;
  const start: WebGpuStart = {
    adapter: probe.name,
    software: probe.software,
    kind: probe.kind,
    reason: probe.reason,
    limits,
    timestamps: device.features.has("timestamp-query"),
    listed: probe.listed,
  };
  started = { probe, start };
  return start;
}
