/**
 * The few WebAssembly JS-API types we use. TypeScript declares `WebAssembly` only in the DOM lib,
 * which this project does not include; Node has the same API at runtime.
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}

interface WebAssemblyApi {
  Memory: abstract new (...args: never[]) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
}

export const WebAssemblyJs = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

export function isWasmMemory(x: unknown): x is WasmMemory {
  return x instanceof WebAssemblyJs.Memory;
}
