/**
 * A WebAssembly module of several functions sharing one exported memory ("mem"), built from the SSIM kernel's
 * FunctionBuilder (../../ssim/wasm/emit.ts): the battery's kernels call each other (the FFT pass is called for
 * rows and for columns) and work on the same buffers. Every function returns nothing; results go to memory.
 * Binary format: WebAssembly Core Specification 2.0, §5.5.
 */
import { name, section, uleb, type FunctionBuilder } from '../../ssim/wasm/emit.ts';
import { wasmSimdAvailable } from '../../ssim/wasm/ssimKernel.ts';

/** One function of the module: exported under `name` when `exported`; its index is its position in the list. */
export interface ModuleFunction {
  name: string;
  fn: FunctionBuilder;
  exported: boolean;
}

/** Module with the functions in order (function i has index i, for `call i`) and memory of `pages` 64 KiB pages. */
export function buildMultiModule(fns: ModuleFunction[], pages: number): Uint8Array {
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types: number[] = [];
  uleb(fns.length, types);
  for (const { fn } of fns) {
    const params = fn.paramTypes();
    types.push(0x60);
    uleb(params.length, types);
    types.push(...params, 0);
  }
  section(1, types, out);
  const funcs: number[] = [];
  uleb(fns.length, funcs);
  fns.forEach((_, i) => uleb(i, funcs));
  section(3, funcs, out);
  const mem: number[] = [1, 0x00];
  uleb(pages, mem);
  section(5, mem, out);
  const exported = fns.map((f, i) => [f, i] as const).filter(([f]) => f.exported);
  const exp: number[] = [];
  uleb(exported.length + 1, exp);
  for (const [f, i] of exported) {
    name(f.name, exp);
    exp.push(0x00);
    uleb(i, exp);
  }
  name('mem', exp);
  exp.push(0x02, 0);
  section(7, exp, out);
  const code: number[] = [];
  uleb(fns.length, code);
  for (const { fn } of fns) {
    const body = fn.body();
    uleb(body.length, code);
    code.push(...body);
  }
  section(10, code, out);
  return Uint8Array.from(out);
}

/**
 * Compile and instantiate the module; its exported functions under their names plus `memory`. Null without
 * WebAssembly SIMD or when compiling fails (the callers then take their JavaScript path).
 */
export function instantiateKernels<T extends { memory: WebAssembly.Memory }>(fns: ModuleFunction[], pages: number): T | null {
  if (!wasmSimdAvailable) return null;
  try {
    const e = new WebAssembly.Instance(new WebAssembly.Module(buildMultiModule(fns, pages) as BufferSource), {}).exports;
    const out: Record<string, unknown> = { memory: e['mem'] };
    for (const f of fns) if (f.exported) out[f.name] = e[f.name];
    return out as T;
  } catch {
    return null;
  }
}
