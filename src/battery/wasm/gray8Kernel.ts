/**
 * The 8-bit view of an 8-bit grey image (gray8.ts, the common case) as WebAssembly SIMD: float32 samples truncated
 * toward zero with saturation (NaN -> 0), clamped to 0..255 and narrowed, sixteen per step. Equal to the JavaScript
 * loop's `v < 0 ? 0 : v > 255 ? 255 : v` stored into a Uint8Array for every float32 value, NaN and infinities
 * included. Opcodes: WebAssembly Core Specification 2.0 §5.4.
 */
import { FunctionBuilder, I32, V128, ulebBytes as uleb, simdOp as simd } from '../../ssim/wasm/emit.ts';
import { instantiateKernels } from './module.ts';

const PAGE = 65536;

const S = {
  load: 0x00,
  store: 0x0b,
  i32x4Splat: 0x11,
  i8x16NarrowI16x8U: 0x66,
  i16x8NarrowI32x4S: 0x85,
  i32x4MinS: 0xb6,
  i32x4MaxS: 0xb8,
  i32x4TruncSatF32x4S: 0xf8,
} as const;

/** narrow(src, dst, n): dst[i] = clamp(trunc(src[i]), 0, 255) for i < n rounded up to 16 (float32 in, bytes out). */
function narrowFunction(): FunctionBuilder {
  const f = new FunctionBuilder([
    ['src', I32],
    ['dst', I32],
    ['n', I32],
  ]);
  f.local('i', I32);
  for (const n of ['lo', 'hi']) f.local(n, V128);
  f.i32(0).simd(S.i32x4Splat).set('lo');
  f.i32(255).simd(S.i32x4Splat).set('hi');
  /** Four float32 at src + 4 i + offset, as int32 in 0..255. */
  const four = (offset: number): void => {
    f.get('src').get('i').i32(2).op(0x74 /* i32.shl */).op(0x6a /* i32.add */).op(0xfd, S.load, 0, ...uleb(offset));
    simd(f, S.i32x4TruncSatF32x4S);
    f.get('lo');
    simd(f, S.i32x4MaxS);
    f.get('hi');
    simd(f, S.i32x4MinS);
  };
  f.i32(0).set('i');
  f.block().loop();
  f.get('i').get('n').op(0x4e /* i32.ge_s */).brIf(1);
  f.get('dst').get('i').op(0x6a);
  four(0);
  four(16);
  simd(f, S.i16x8NarrowI32x4S);
  four(32);
  four(48);
  simd(f, S.i16x8NarrowI32x4S);
  simd(f, S.i8x16NarrowI16x8U);
  f.op(0xfd, S.store, 0, 0);
  f.get('i').i32(16).op(0x6a).set('i');
  f.op(0x0c, 0);
  f.end().end();
  return f;
}

interface Instance {
  narrow: (src: number, dst: number, n: number) => void;
  memory: WebAssembly.Memory;
}

let instance: Instance | null | undefined;

function getInstance(): Instance | null {
  if (instance === undefined) {
    instance = instantiateKernels<Instance>([{ name: 'narrow', fn: narrowFunction(), exported: true }], 1);
  }
  return instance;
}

/** Fill `out` with the clamped, truncated bytes of `data`; false when there is no WebAssembly SIMD. */
export function narrowToBytesWasm(data: Float32Array, out: Uint8Array): boolean {
  const inst = getInstance();
  if (inst === null) return false;
  const n = data.length;
  const padded = Math.ceil(n / 16) * 16;
  const dst = 4 * padded;
  const need = dst + padded;
  const have = inst.memory.buffer.byteLength;
  if (need > have) inst.memory.grow(Math.ceil((need - have) / PAGE));
  const buf = inst.memory.buffer;
  new Float32Array(buf, 0, n).set(data);
  inst.narrow(0, dst, n);
  out.set(new Uint8Array(buf, dst, n));
  return true;
}
