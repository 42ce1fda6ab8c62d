/**
 * safetensors reader against files the test writes by hand (test/helpers/safetensors.ts): F32, F16 (normal,
 * subnormal, negative), BF16 and F64 values, tensors stored out of name order with gaps between them, metadata,
 * and every malformed-header case giving one E_CORRUPT line that names the file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSafetensors } from '../../src/anomaly/safetensors.ts';
import { BlindspotError } from '../../src/errors.ts';
import { encodeSafetensors } from '../helpers/safetensors.ts';

test('safetensors: F32, F16, BF16 and F64 values, shapes, offsets with gaps and reversed order, metadata', () => {
  const f16 = [1.5, -2, 0.333251953125, 65504, 2 ** -24, -(2 ** -20), 0];
  const bytes = encodeSafetensors(
    {
      a: { shape: [2, 3], data: [1, -2.5, 3.25, 1e-3, 7, -0.125] },
      h: { shape: [7], data: f16, dtype: 'F16' },
      // bf16 stores 7 mantissa bits: 1 + 2^-7 is exact, 3.14159 rounds to 3.140625.
      b: { shape: [1, 3], data: [1.0078125, -3.14159, 256], dtype: 'BF16' },
      d: { shape: [2], data: [0.1, -1e-30], dtype: 'F64' },
      e: { shape: [0], data: [] },
    },
    { pad: 6, reverse: true, metadata: { format: 'pt' } },
  );
  const r = parseSafetensors(bytes, 'x.safetensors');
  assert.deepEqual(r.metadata, { format: 'pt' });
  assert.deepEqual([...r.tensors.keys()].sort(), ['a', 'b', 'd', 'e', 'h']);
  assert.deepEqual(r.tensors.get('a')!.shape, [2, 3]);
  assert.deepEqual(
    Array.from(r.tensors.get('a')!.data),
    Array.from(Float32Array.from([1, -2.5, 3.25, 1e-3, 7, -0.125])),
  );
  assert.deepEqual(Array.from(r.tensors.get('h')!.data), f16);
  assert.equal(r.tensors.get('h')!.dtype, 'F16');
  assert.deepEqual(Array.from(r.tensors.get('b')!.data), [1.0078125, -3.140625, 256]);
  assert.deepEqual(Array.from(r.tensors.get('d')!.data), Array.from(Float32Array.from([0.1, -1e-30])));
  assert.equal(r.tensors.get('e')!.data.length, 0);
});

function header(json: string, extra = 0): Uint8Array {
  const hb = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hb.length + extra);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  return out;
}

test('safetensors: malformed files give one E_CORRUPT line naming the file', () => {
  const cases: [Uint8Array, RegExp][] = [
    [new Uint8Array(5), /shorter than its 8-byte header length/],
    [
      (() => {
        const b = header('{}');
        new DataView(b.buffer).setBigUint64(0, 1000n, true);
        return b;
      })(),
      /header length 1000 exceeds the file/,
    ],
    [header('{"a": {'), /header is not JSON/],
    [header('[1,2]'), /header is not an object/],
    [
      header('{"a": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}}', 8),
      /dtype "I64"; F32, F16, BF16 or F64/,
    ],
    [header('{"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}', 4), /bad shape/],
    [
      header('{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}', 4),
      /data offsets \[0,8\] outside the 4 data bytes/,
    ],
    [header('{"a": {"dtype": "F32", "shape": [2], "data_offsets": [4, 0]}}', 8), /data offsets/],
    [
      header('{"a": {"dtype": "F16", "shape": [3], "data_offsets": [0, 8]}}', 8),
      /holds 8 bytes, its F16 shape needs 6/,
    ],
    [header('{"a": 3}'), /entry "a" is not an object/],
  ];
  for (const [bytes, re] of cases) {
    assert.throws(
      () => parseSafetensors(bytes, '/tmp/w.safetensors'),
      (e: unknown) =>
        e instanceof BlindspotError &&
        e.code === 'E_CORRUPT' &&
        !e.message.includes('\n') &&
        e.message.startsWith('/tmp/w.safetensors: not a valid safetensors file (') &&
        re.test(e.message),
      String(re),
    );
  }
});
