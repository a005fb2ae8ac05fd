/**
 * The native TensorFlow backends, `@tensorflow/tfjs-node-gpu` (CUDA) and `@tensorflow/tfjs-node`
 * (CPU). Both are optional peer dependencies: their install script downloads libtensorflow, so a
 * plain `npm install` of mmfm never fetches them. A user adds one with
 * `npm install @tensorflow/tfjs-node-gpu@4.22.0` (or `@tensorflow/tfjs-node@4.22.0`).
 *
 * Each registers the backend `tensorflow` when imported. tfjs keeps its engine and kernel registry
 * on `globalThis`, so the registration reaches this runtime's tfjs-core; with a matching 4.22.0
 * install npm also dedupes tfjs-core to one copy, which keeps tensors from the two sides
 * interchangeable. A different version is refused with a clear reason rather than half-working.
 */
import { createRequire } from "node:module";
import { tf } from "../tf.js";

export type NativePackage = "@tensorflow/tfjs-node-gpu" | "@tensorflow/tfjs-node";

export type NativeLoad = { ok: true; version: string } | { ok: false; reason: string };

const require = createRequire(import.meta.url);

function installedVersion(pkg: NativePackage): string | null {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return null;
  }
}

/** Loads a native package if installed; `tensorflow` is then a registered backend. */
export async function loadNative(pkg: NativePackage): Promise<NativeLoad> {
  const version = installedVersion(pkg);
  if (version == null) return { ok: false, reason: `${pkg} is not installed` };
  if (version !== tf.version_core) {
    return {
      ok: false,
      reason: `${pkg} ${version} is installed but this runtime uses @tensorflow/tfjs-core ${tf.version_core}; install ${pkg}@${tf.version_core}`,
    };
  }
  try {
    const specifier: string = pkg; // not a literal: the package is optional and may be absent at build time
    await import(specifier);
  } catch (e) {
    return { ok: false, reason: `${pkg} ${version} is installed but did not load: ${firstLine((e as Error).message)}` };
  }
  if (tf.findBackendFactory("tensorflow") == null) {
    return { ok: false, reason: `${pkg} loaded but registered no \`tensorflow\` backend with this runtime's tfjs` };
  }
  return { ok: true, version };
}

export async function startNative(): Promise<void> {
  const ok = await tf.setBackend("tensorflow");
  if (!ok) throw new Error("the `tensorflow` backend failed to start");
}

/** Whether the loaded libtensorflow sees a CUDA GPU (tfjs-node-gpu without a GPU falls back to CPU). */
export function nativeHasGpu(): boolean {
  try {
    // NodeJSKernelBackend sets `isUsingGpuDevice` from its binding when it starts.
    const backend = tf.findBackend("tensorflow") as unknown as { isUsingGpuDevice?: boolean } | null;
    return backend?.isUsingGpuDevice === true;
  } catch {
    return false;
  }
}

function firstLine(s: string): string {
  return s.split("\n")[0];
}
