/**
 * A small WebAssembly assembler: enough to write SIMD kernels that run on the tfjs wasm heap.
 *
 * A module imports the heap (`env.memory`, shared when tfjs runs threaded) and exports functions
 * written with `FunctionBuilder`, one method per instruction, in stack order (as the text format
 * reads). Binary encoding per the WebAssembly 2.0 spec (fixed-width SIMD: opcodes 0xfd + LEB).
 */

export type ValType = "i32" | "f32" | "v128";
const VALTYPE: Record<ValType, number> = { i32: 0x7f, f32: 0x7d, v128: 0x7b };

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function f32Bytes(x: number): number[] {
  return [...new Uint8Array(new Float32Array([x]).buffer)];
}

function name(s: string): number[] {
  const b = [...new TextEncoder().encode(s)];
  return [...uleb(b.length), ...b];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

/** A local variable (parameters first); `index` is what local.get/set take. */
export interface Local {
  readonly index: number;
  readonly type: ValType;
}

export class FunctionBuilder {
  readonly code: number[] = [];
  private readonly locals: ValType[] = [];
  private depth = 0;

  constructor(
    readonly name: string,
    readonly params: ValType[],
    readonly results: ValType[] = [],
  ) {}

  param(i: number): Local {
    return { index: i, type: this.params[i] };
  }

  local(type: ValType): Local {
    this.locals.push(type);
    return { index: this.params.length + this.locals.length - 1, type };
  }

  op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }

  private simd(opcode: number, ...imm: number[]): this {
    return this.op(0xfd, ...uleb(opcode), ...imm);
  }

  // Control. Blocks take a body callback so nesting reads like the text format.
  block(body: () => void): this {
    this.op(0x02, 0x40);
    this.depth++;
    body();
    this.depth--;
    return this.op(0x0b);
  }
  loop(body: () => void): this {
    this.op(0x03, 0x40);
    this.depth++;
    body();
    this.depth--;
    return this.op(0x0b);
  }
  /** if (cond on stack) { then } else { otherwise } — the branches leave the stack as they found it. */
  if(then: () => void, otherwise?: () => void): this {
    this.op(0x04, 0x40);
    then();
    if (otherwise != null) {
      this.op(0x05);
      otherwise();
    }
    return this.op(0x0b);
  }
  br(label: number): this {
    return this.op(0x0c, ...uleb(label));
  }
  brIf(label: number): this {
    return this.op(0x0d, ...uleb(label));
  }

  /** for (i = start; i < end; i += step) body — `start`, `end` push an i32; i is a local. */
  forRange(i: Local, start: () => void, end: () => void, step: number, body: () => void): this {
    start();
    this.set(i);
    return this.block(() => {
      this.loop(() => {
        this.get(i);
        end();
        this.i32GeS().brIf(1);
        body();
        this.get(i).i32Const(step).i32Add().set(i).br(0);
      });
    });
  }

  get(l: Local): this {
    return this.op(0x20, ...uleb(l.index));
  }
  set(l: Local): this {
    return this.op(0x21, ...uleb(l.index));
  }
  tee(l: Local): this {
    return this.op(0x22, ...uleb(l.index));
  }

  // i32
  i32Const(n: number): this {
    return this.op(0x41, ...sleb(n | 0));
  }
  i32Add(): this {
    return this.op(0x6a);
  }
  i32Sub(): this {
    return this.op(0x6b);
  }
  i32Mul(): this {
    return this.op(0x6c);
  }
  i32Shl(): this {
    return this.op(0x74);
  }
  i32And(): this {
    return this.op(0x71);
  }
  i32GeS(): this {
    return this.op(0x4e);
  }
  i32LtS(): this {
    return this.op(0x48);
  }
  i32LeS(): this {
    return this.op(0x4c);
  }
  i32Eq(): this {
    return this.op(0x46);
  }
  i32Eqz(): this {
    return this.op(0x45);
  }
  i32Load(offset = 0): this {
    return this.op(0x28, 2, ...uleb(offset));
  }

  // f32
  f32Const(x: number): this {
    return this.op(0x43, ...f32Bytes(x));
  }
  f32Load(offset = 0): this {
    return this.op(0x2a, 2, ...uleb(offset));
  }
  f32Store(offset = 0): this {
    return this.op(0x38, 2, ...uleb(offset));
  }
  f32Add(): this {
    return this.op(0x92);
  }
  f32Sub(): this {
    return this.op(0x93);
  }
  f32Mul(): this {
    return this.op(0x94);
  }
  f32Div(): this {
    return this.op(0x95);
  }
  f32Sqrt(): this {
    return this.op(0x91);
  }
  f32Max(): this {
    return this.op(0x97);
  }
  f32ConvertI32S(): this {
    return this.op(0xb2);
  }

  // v128 (f32x4 lanes unless named otherwise)
  v128Load(offset = 0): this {
    return this.simd(0x00, 4, ...uleb(offset));
  }
  /** v128.load32_splat: one float from memory into all four lanes. */
  v128Load32Splat(offset = 0): this {
    return this.simd(0x09, 2, ...uleb(offset));
  }
  v128Store(offset = 0): this {
    return this.simd(0x0b, 4, ...uleb(offset));
  }
  f32x4Splat(): this {
    return this.simd(0x13);
  }
  /** f32.const x; f32x4.splat */
  splat(x: number): this {
    return this.f32Const(x).f32x4Splat();
  }
  f32x4ExtractLane(lane: number): this {
    return this.simd(0x1f, lane);
  }
  /** i8x16.shuffle of the two vectors on the stack, lanes 0..31. */
  shuffle(bytes: number[]): this {
    return this.simd(0x0d, ...bytes);
  }
  /** A shuffle of 32-bit lanes: indices 0-3 from the first vector, 4-7 from the second. */
  shuffle32(lanes: [number, number, number, number]): this {
    return this.shuffle(lanes.flatMap((l) => [l * 4, l * 4 + 1, l * 4 + 2, l * 4 + 3]));
  }
  f32x4Add(): this {
    return this.simd(0xe4);
  }
  f32x4Sub(): this {
    return this.simd(0xe5);
  }
  f32x4Mul(): this {
    return this.simd(0xe6);
  }
  f32x4Div(): this {
    return this.simd(0xe7);
  }
  /** f32x4.relaxed_madd (a * b + c, fused or not): needs V8's relaxed SIMD. */
  f32x4RelaxedMadd(): this {
    return this.simd(0x105);
  }
  f32x4Min(): this {
    return this.simd(0xe8);
  }
  f32x4Max(): this {
    return this.simd(0xe9);
  }
  f32x4Abs(): this {
    return this.simd(0xe0);
  }
  f32x4Neg(): this {
    return this.simd(0xe1);
  }
  f32x4Sqrt(): this {
    return this.simd(0xe3);
  }
  f32x4Lt(): this {
    return this.simd(0x43);
  }
  f32x4Nearest(): this {
    return this.simd(0x6a);
  }
  v128And(): this {
    return this.simd(0x4e);
  }
  v128Or(): this {
    return this.simd(0x50);
  }
  v128Xor(): this {
    return this.simd(0x51);
  }
  /** bitselect(a, b, mask): bits of a where mask is 1, of b elsewhere. */
  v128Bitselect(): this {
    return this.simd(0x52);
  }
  i32x4Splat(): this {
    return this.simd(0x11);
  }
  i32x4Add(): this {
    return this.simd(0xae);
  }
  i32x4Shl(): this {
    return this.simd(0xab);
  }
  i32x4TruncSatF32x4S(): this {
    return this.simd(0xf8);
  }

  /** Function body bytes: locals declaration then code. */
  encodeBody(): number[] {
    const groups: number[][] = this.locals.map((t) => [1, VALTYPE[t]]);
    const body = [...vec(groups), ...this.code, 0x0b];
    return [...uleb(body.length), ...body];
  }
}

export interface MemoryImport {
  shared: boolean;
  /** Initial pages the import declares (the actual memory may be larger). */
  minPages: number;
  /** Required for shared memory: must equal the exporter's maximum. */
  maxPages?: number;
}

/** Encodes a module that imports `env.memory` and exports every function. */
export function assemble(memory: MemoryImport, functions: FunctionBuilder[]): Uint8Array {
  const types = functions.map((f) => [0x60, ...vec(f.params.map((p) => [VALTYPE[p]])), ...vec(f.results.map((r) => [VALTYPE[r]]))]);
  const limits =
    memory.maxPages == null
      ? [0x00, ...uleb(memory.minPages)]
      : [memory.shared ? 0x03 : 0x01, ...uleb(memory.minPages), ...uleb(memory.maxPages)];
  const imports = vec([[...name("env"), ...name("memory"), 0x02, ...limits]]);
  const funcs = vec(functions.map((_, i) => uleb(i)));
  const exports = vec(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]));
  const code = vec(functions.map((f) => f.encodeBody()));
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, imports),
    ...section(3, funcs),
    ...section(7, exports),
    ...section(10, code),
  ]);
}
