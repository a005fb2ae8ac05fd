/**
 * tfjs's WebGPU backend on Dawn (the `webgpu` npm package, prebuilt `dawn.node`), in Node.
 *
 * Node 20 has no `navigator`, so we create Dawn's GPU object, pick the adapter ourselves, and give
 * tfjs-backend-webgpu a `navigator.gpu` whose `requestAdapter` returns that adapter. Hardware
 * adapters only, unless `software` is set: then Mesa's llvmpipe through Dawn's OpenGL ES backend
 * (`EGL_PLATFORM=surfaceless`, compatibility feature level) is accepted, so CI can run the WebGPU
 * code path without a GPU (correct, not fast: ~1 GFLOP/s).
 *
 * On Linux Dawn needs the Vulkan loader for a hardware adapter; without `libvulkan.so.1` there can be
 * none, so we do not start Dawn at all (which would also print native warnings).
 * tfjs-backend-webgpu in Node can only read tensors asynchronously (`await t.data()`): `dataSync`
 * needs OffscreenCanvas.
 */
import * as fs from "node:fs";
import { tf } from "../tf.js";

export interface WebGpuStart {
  adapter: string;
  software: boolean;
}

/** Why there is no usable adapter, or the adapter found. */
export type AdapterProbe = { ok: true; adapter: GPUAdapterLike; gpu: GpuLike; name: string; software: boolean } | { ok: false; reason: string };

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
}
interface GpuLike {
  requestAdapter(options?: Record<string, unknown>): Promise<GPUAdapterLike | null>;
  getPreferredCanvasFormat?(): string;
  wgslLanguageFeatures?: unknown;
}

const SOFTWARE = /llvmpipe|lavapipe|softpipe|swiftshader|software|basic render/i;

function describe(a: GPUAdapterLike): { name: string; software: boolean } {
  const info = a.info ?? {};
  const name = [info.vendor, info.device, info.description].filter((s) => s != null && s !== "").join(" ") || "unknown adapter";
  const software = info.isFallbackAdapter === true || a.isFallbackAdapter === true || SOFTWARE.test(name);
  return { name, software };
}

function vulkanLoaderPresent(): boolean {
  const dirs = (process.env.LD_LIBRARY_PATH ?? "").split(":").filter((d) => d !== "");
  dirs.push("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/lib/x86_64-linux-gnu", "/usr/local/lib");
  return dirs.some((d) => fs.existsSync(`${d}/libvulkan.so.1`));
}

/** Looks for an adapter; `software` also accepts Mesa llvmpipe through Dawn's GL backend. */
export async function probeWebGpu(software: boolean): Promise<AdapterProbe> {
  let create: (flags: string[]) => GpuLike;
  try {
    const dawn = (await import("webgpu")) as unknown as { create: (flags: string[]) => GpuLike; globals: object };
    create = dawn.create;
    // WebGPU's global constants and classes (GPUBufferUsage, ...), which tfjs-backend-webgpu uses.
    for (const [k, v] of Object.entries(dawn.globals)) if (!(k in globalThis)) Object.assign(globalThis, { [k]: v });
  } catch (e) {
    return { ok: false, reason: `the \`webgpu\` package (Dawn) did not load: ${(e as Error).message}` };
  }
  if (software) {
    // Dawn's GL backend needs EGL without a display; Mesa reads this when EGL starts.
    process.env.EGL_PLATFORM ??= "surfaceless";
    const gpu = create(["backend=opengles"]);
    const adapter = await gpu.requestAdapter({ featureLevel: "compatibility" });
    if (adapter == null) {
      return { ok: false, reason: "no software adapter: Dawn's OpenGL ES backend found no EGL device (is Mesa's libegl-mesa0 installed?)" };
    }
    const d = describe(adapter);
    return { ok: true, adapter, gpu, name: d.name, software: true };
  }
  if (process.platform === "linux" && !vulkanLoaderPresent()) {
    return { ok: false, reason: "no Vulkan loader (libvulkan.so.1), so Dawn can have no hardware adapter" };
  }
  const gpu = create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  if (adapter == null) return { ok: false, reason: "Dawn found no adapter" };
  const d = describe(adapter);
  if (d.software) return { ok: false, reason: `only a software adapter (${d.name})` };
  return { ok: true, adapter, gpu, name: d.name, software: false };
}

/** Registers tfjs-backend-webgpu on the probed adapter and makes it the active backend. */
export async function startWebGpu(probe: Extract<AdapterProbe, { ok: true }>): Promise<WebGpuStart> {
  const { gpu, adapter } = probe;
  const navigatorGpu: GpuLike = {
    requestAdapter: async () => adapter,
    getPreferredCanvasFormat: () => gpu.getPreferredCanvasFormat?.() ?? "rgba8unorm",
    wgslLanguageFeatures: gpu.wgslLanguageFeatures,
  };
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (g.navigator == null) g.navigator = { gpu: navigatorGpu };
  else Object.defineProperty(g.navigator, "gpu", { value: navigatorGpu, configurable: true, writable: true });
  // The package registers `webgpu` at import time only when navigator.gpu exists, so import it now.
  await import("@tensorflow/tfjs-backend-webgpu");
  const ok = await tf.setBackend("webgpu");
  if (!ok) throw new Error(`the WebGPU backend failed to start on ${probe.name}`);
  return { adapter: probe.name, software: probe.software };
}
