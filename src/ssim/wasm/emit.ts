/**
 * A minimal WebAssembly binary writer: just what the SSIM kernel needs (one exported function, one exported
 * memory, i32/f64 scalar ops and the f64x2 SIMD ops). Writing bytes from TypeScript keeps the kernel's source of
 * truth readable in this repo and lets the generator unroll the window taps and bake the row stride into the
 * code (load offsets are immediates). Opcodes: WebAssembly Core Specification 2.0, §5.4 (SIMD: prefix 0xFD).
 */

/** Value types. */
export const I32 = 0x7f;
export const F64 = 0x7c;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof F64 | typeof V128;

/** Unsigned LEB128 of `n`, appended to `out`. */
export function uleb(n: number, out: number[]): void {
  let v = n >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
}

function sleb(n: number, out: number[]): void {
  let v = n | 0;
  while (true) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return;
  }
}

/** Instruction stream of one function body, with named locals. */
export class FunctionBuilder {
  readonly code: number[] = [];
  private readonly params: ValType[];
  private readonly locals: ValType[] = [];
  private readonly names = new Map<string, number>();

  constructor(params: [string, ValType][]) {
    this.params = params.map(([, t]) => t);
    params.forEach(([name], i) => this.names.set(name, i));
  }

  /** Declare a local and return its index (names must be unique). */
  local(name: string, type: ValType): number {
    if (this.names.has(name)) throw new Error(`wasm: local ${name} declared twice`);
    const idx = this.params.length + this.locals.length;
    this.locals.push(type);
    this.names.set(name, idx);
    return idx;
  }

  private idx(name: string): number {
    const i = this.names.get(name);
    if (i === undefined) throw new Error(`wasm: unknown local ${name}`);
    return i;
  }

  get(name: string): this {
    this.code.push(0x20);
    uleb(this.idx(name), this.code);
    return this;
  }
  set(name: string): this {
    this.code.push(0x21);
    uleb(this.idx(name), this.code);
    return this;
  }
  tee(name: string): this {
    this.code.push(0x22);
    uleb(this.idx(name), this.code);
    return this;
  }
  i32(v: number): this {
    this.code.push(0x41);
    sleb(v, this.code);
    return this;
  }
  f64(v: number): this {
    this.code.push(0x44);
    const b = new Uint8Array(new Float64Array([v]).buffer);
    for (const x of b) this.code.push(x);
    return this;
  }
  op(...bytes: number[]): this {
    for (const b of bytes) this.code.push(b);
    return this;
  }
  /** `v128.const` holding `v` in both f64 lanes. */
  f64x2Const(v: number): this {
    this.code.push(0xfd, 0x0c);
    const b = new Uint8Array(new Float64Array([v, v]).buffer);
    for (const x of b) this.code.push(x);
    return this;
  }
  /** SIMD instruction: 0xFD prefix and a LEB128 sub-opcode. */
  simd(sub: number): this {
    this.code.push(0xfd);
    uleb(sub, this.code);
    return this;
  }
  /** Memory access with a static byte offset (alignment hint 8 bytes). */
  mem(opcode: number[], offset: number): this {
    for (const b of opcode) this.code.push(b);
    this.code.push(3);
    uleb(offset, this.code);
    return this;
  }
  v128Load(offset: number): this {
    return this.mem([0xfd, 0x00], offset);
  }
  /** `v128.load64_zero`: 8 bytes into the low half (two float32 to promote). */
  v128Load64Zero(offset: number): this {
    return this.mem([0xfd, 0x5d], offset);
  }
  v128Store(offset: number): this {
    return this.mem([0xfd, 0x0b], offset);
  }
  f64Store(offset: number): this {
    return this.mem([0x39], offset);
  }
  /** Memory access with an explicit alignment exponent (f32.load needs 2; `mem` writes 3). */
  memAligned(opcode: number[], align: number, offset: number): this {
    for (const b of opcode) this.code.push(b);
    this.code.push(align);
    uleb(offset, this.code);
    return this;
  }
  /** `v128.load64_splat`: one float64 into both lanes. */
  v128Load64Splat(offset: number): this {
    return this.mem([0xfd, 0x0a], offset);
  }
  /** `v128.load64_lane`: replace lane `lane` of the vector on the stack by 8 bytes (operands: address, vector). */
  v128Load64Lane(offset: number, lane: number): this {
    this.mem([0xfd, 0x57], offset);
    this.code.push(lane);
    return this;
  }
  /** `v128.const` with 16 raw bytes (e.g. integer lane masks). */
  v128Const(bytes: ArrayLike<number>): this {
    this.code.push(0xfd, 0x0c);
    for (let i = 0; i < 16; i++) this.code.push(bytes[i]! & 0xff);
    return this;
  }
  /** Structured control: block/loop (void), if (void). */
  block(): this {
    return this.op(0x02, 0x40);
  }
  loop(): this {
    return this.op(0x03, 0x40);
  }
  if(): this {
    return this.op(0x04, 0x40);
  }
  end(): this {
    return this.op(0x0b);
  }
  brIf(depth: number): this {
    this.code.push(0x0d);
    uleb(depth, this.code);
    return this;
  }

  /** Encoded body: local declarations then code. */
  body(): number[] {
    const out: number[] = [];
    const groups: [number, ValType][] = [];
    for (const t of this.locals) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    uleb(groups.length, out);
    for (const [count, t] of groups) {
      uleb(count, out);
      out.push(t);
    }
    out.push(...this.code, 0x0b);
    return out;
  }

  paramTypes(): ValType[] {
    return this.params;
  }
}

// Opcodes used by the kernel.
export const OP = {
  i32Add: 0x6a,
  i32Mul: 0x6c,
  i32LtU: 0x49,
  i32Eqz: 0x45,
  i32RemU: 0x70,
  i32ShrU: 0x76,
  f64Add: 0xa0,
  // used by the Tier-3 block kernel (src/tier3/wasm)
  select: 0x1b,
  i32Sub: 0x6b,
  i32LtS: 0x48,
  i32GtS: 0x4a,
  i32GeS: 0x4e,
  f32Load: 0x2a,
  f64Load: 0x2b,
  f64PromoteF32: 0xbb,
} as const;
export const SIMD = {
  i8x16Shuffle: 0x0d,
  f64x2Splat: 0x14,
  f64x2ExtractLane: 0x21,
  f64x2Add: 0xf0,
  f64x2Sub: 0xf1,
  f64x2Mul: 0xf2,
  f64x2Div: 0xf3,
  f64x2PromoteLowF32x4: 0x5f,
  // used by the Tier-3 block kernel (src/tier3/wasm)
  f64x2Eq: 0x47,
  f64x2Lt: 0x49,
  f64x2Gt: 0x4a,
  f64x2Ge: 0x4c,
  v128And: 0x4e,
  v128Or: 0x50,
  v128Bitselect: 0x52,
  f64x2Abs: 0xec,
  f64x2Sqrt: 0xef,
} as const;

/** A module section: id, byte length, payload. */
export function section(id: number, payload: number[], out: number[]): void {
  out.push(id);
  uleb(payload.length, out);
  out.push(...payload);
}

/** A length-prefixed UTF-8 name. */
export function name(s: string, out: number[]): void {
  const b = new TextEncoder().encode(s);
  uleb(b.length, out);
  out.push(...b);
}

/** A module with one exported memory ("mem", `pages` 64 KiB pages) and one exported void function. */
export function buildModule(fn: FunctionBuilder, exportName: string, pages: number): Uint8Array {
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const params = fn.paramTypes();
  const type: number[] = [1, 0x60];
  uleb(params.length, type);
  type.push(...params, 0);
  section(1, type, out);
  section(3, [1, 0], out);
  const mem: number[] = [1, 0x00];
  uleb(pages, mem);
  section(5, mem, out);
  const exp: number[] = [2];
  name(exportName, exp);
  exp.push(0x00, 0);
  name('mem', exp);
  exp.push(0x02, 0);
  section(7, exp, out);
  const body = fn.body();
  const code: number[] = [1];
  uleb(body.length, code);
  code.push(...body);
  section(10, code, out);
  return Uint8Array.from(out);
}

/** Unsigned LEB128 of `n` as a new byte list. */
export function ulebBytes(n: number): number[] {
  const out: number[] = [];
  uleb(n, out);
  return out;
}

/** Memory access with an explicit alignment exponent (helper form of `FunctionBuilder.memAligned`). */
export const memOp = (f: FunctionBuilder, opcode: number[], alignLog2: number, offset: number): FunctionBuilder => f.memAligned(opcode, alignLog2, offset);

/** SIMD instruction, with a lane index byte when given (extract/replace lane). */
export const simdOp = (f: FunctionBuilder, sub: number, lane?: number): FunctionBuilder => (lane === undefined ? f.simd(sub) : f.simd(sub).op(lane));

/** `while (!exitIf()) { body }` as block/loop: `exitIf` pushes the exit condition. */
export function whileLoop(f: FunctionBuilder, exitIf: () => void, body: () => void): void {
  f.block().loop();
  exitIf();
  f.brIf(1);
  body();
  f.op(0x0c, 0);
  f.end().end();
}
