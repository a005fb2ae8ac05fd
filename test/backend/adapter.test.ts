/** WebGPU adapter choice and device limits (runtime/backend/adapter.ts), on adapter lists as Dawn gives them. */
import { describe, expect, it } from "vitest";
import { adapterKind, chooseAdapter, deviceLimits, parseAdapterList, type AdapterCandidate } from "../../runtime/backend/adapter.js";

const NVIDIA: AdapterCandidate = { backend: "vulkan", name: "NVIDIA H100 80GB HBM3" };
const LAVAPIPE: AdapterCandidate = { backend: "vulkan", name: "llvmpipe (LLVM 15.0.6, 256 bits)" };
const LLVMPIPE_GL: AdapterCandidate = { backend: "opengles", name: "llvmpipe (LLVM 15.0.6, 256 bits)" };
const SWIFTSHADER: AdapterCandidate = { backend: "vulkan", name: "SwiftShader Device (Subzero)" };
const INTEL: AdapterCandidate = { backend: "vulkan", name: "Intel(R) UHD Graphics 630 (CFL GT2)" };
const RADEON: AdapterCandidate = { backend: "vulkan", name: "AMD Radeon RX 7900 XTX (RADV NAVI31)" };
const NVIDIA_GL: AdapterCandidate = { backend: "opengles", name: "NVIDIA H100 80GB HBM3/PCIe/SSE2" };

describe("parseAdapterList", () => {
  it("reads every adapter from Dawn's 'no adapter found' message", () => {
    const message = [
      "no adapter  with name 'mmfm-list-adapters' found",
      "Available adapters:",
      " * backend: 'vulkan', name: 'llvmpipe (LLVM 15.0.6, 256 bits)'",
      " * backend: 'vulkan', name: 'NVIDIA H100 80GB HBM3'",
    ].join("\n");
    expect(parseAdapterList(message)).toEqual([LAVAPIPE, NVIDIA]);
  });

  it("gives nothing for a message without a list", () => {
    expect(parseAdapterList("no suitable backends found")).toEqual([]);
    expect(parseAdapterList("")).toEqual([]);
  });
});

describe("chooseAdapter", () => {
  it("takes the NVIDIA GPU over lavapipe or SwiftShader in either order, even when software is allowed", () => {
    for (const list of [[LAVAPIPE, NVIDIA], [NVIDIA, LAVAPIPE], [SWIFTSHADER, LAVAPIPE, NVIDIA]]) {
      for (const allowSoftware of [false, true]) {
        const c = chooseAdapter(list, { allowSoftware });
        expect(c.ok && c.adapter).toEqual(NVIDIA);
        expect(c.ok && c.kind).toBe("discrete");
      }
    }
  });

  it("prefers discrete to integrated, and a native backend to OpenGL ES for the same GPU", () => {
    expect(chooseAdapter([INTEL, RADEON], { allowSoftware: false })).toMatchObject({ ok: true, adapter: RADEON });
    expect(chooseAdapter([INTEL, NVIDIA], { allowSoftware: false })).toMatchObject({ ok: true, adapter: NVIDIA });
    expect(chooseAdapter([NVIDIA_GL, NVIDIA], { allowSoftware: false })).toMatchObject({ ok: true, adapter: NVIDIA });
    expect(chooseAdapter([SWIFTSHADER, INTEL], { allowSoftware: true })).toMatchObject({ ok: true, adapter: INTEL, kind: "integrated" });
  });

  it("takes a software adapter only when allowed and nothing else exists", () => {
    expect(chooseAdapter([LLVMPIPE_GL], { allowSoftware: false })).toEqual({
      ok: false,
      reason: "only a software adapter (llvmpipe (LLVM 15.0.6, 256 bits) (opengles))",
    });
    expect(chooseAdapter([LLVMPIPE_GL], { allowSoftware: true })).toMatchObject({ ok: true, adapter: LLVMPIPE_GL, kind: "software" });
  });

  it("says when there is no adapter, and ignores Dawn's null backend", () => {
    expect(chooseAdapter([], { allowSoftware: true })).toEqual({ ok: false, reason: "Dawn found no adapter" });
    expect(chooseAdapter([{ backend: "null", name: "Null backend" }], { allowSoftware: true })).toEqual({ ok: false, reason: "Dawn found no adapter" });
  });

  it("narrows to names containing MMFM_WEBGPU_ADAPTER's text, case-insensitively, and says what it found otherwise", () => {
    expect(chooseAdapter([NVIDIA, INTEL], { allowSoftware: false, nameContains: "uhd" })).toMatchObject({ ok: true, adapter: INTEL });
    expect(chooseAdapter([NVIDIA, INTEL], { allowSoftware: false, nameContains: "a100" })).toEqual({
      ok: false,
      reason: "no adapter name contains `a100` (found: NVIDIA H100 80GB HBM3 (vulkan), Intel(R) UHD Graphics 630 (CFL GT2) (vulkan))",
    });
  });

  it("names what it chose among", () => {
    const c = chooseAdapter([LAVAPIPE, NVIDIA], { allowSoftware: false });
    expect(c.ok && c.reason).toBe("discrete adapter (of 2: llvmpipe (LLVM 15.0.6, 256 bits) (vulkan), NVIDIA H100 80GB HBM3 (vulkan))");
    expect(chooseAdapter([NVIDIA], { allowSoftware: false })).toMatchObject({ reason: "discrete adapter" });
  });
});

describe("adapterKind", () => {
  it("tells software, discrete and integrated adapters apart by name", () => {
    expect(adapterKind(LAVAPIPE)).toBe("software");
    expect(adapterKind(SWIFTSHADER)).toBe("software");
    expect(adapterKind({ backend: "d3d12", name: "Microsoft Basic Render Driver" })).toBe("software");
    expect(adapterKind(NVIDIA)).toBe("discrete");
    expect(adapterKind({ backend: "vulkan", name: "NVIDIA GeForce RTX 4090" })).toBe("discrete");
    expect(adapterKind(RADEON)).toBe("discrete");
    expect(adapterKind({ backend: "vulkan", name: "AMD Radeon Graphics (RADV REMBRANDT)" })).toBe("integrated");
    expect(adapterKind(INTEL)).toBe("integrated");
    expect(adapterKind({ backend: "metal", name: "Apple M2 Max" })).toBe("integrated");
    expect(adapterKind({ backend: "vulkan", name: "Some New GPU" })).toBe("other");
  });
});

describe("deviceLimits", () => {
  it("asks for the adapter's buffer and binding sizes instead of WebGPU's defaults", () => {
    const adapter = {
      maxBufferSize: 2 ** 40,
      maxStorageBufferBindingSize: 2 ** 32 - 4,
      maxComputeWorkgroupStorageSize: 49152,
      maxComputeWorkgroupsPerDimension: 65535,
      maxComputeWorkgroupSizeX: 1024,
      maxComputeInvocationsPerWorkgroup: 1024,
      maxStorageBuffersPerShaderStage: 96,
      maxTextureDimension2D: 32768, // not requested
    };
    expect(deviceLimits(adapter)).toEqual({
      maxBufferSize: 2 ** 40,
      maxStorageBufferBindingSize: 2 ** 32 - 4,
      maxComputeWorkgroupStorageSize: 49152,
      maxComputeWorkgroupsPerDimension: 65535,
      maxComputeWorkgroupSizeX: 1024,
      maxComputeInvocationsPerWorkgroup: 1024,
      maxStorageBuffersPerShaderStage: 96,
    });
  });

  it("leaves out limits the adapter does not report", () => {
    expect(deviceLimits({ maxBufferSize: 1 << 30, maxStorageBufferBindingSize: undefined, maxComputeWorkgroupSizeX: "big" })).toEqual({ maxBufferSize: 1 << 30 });
  });
});
