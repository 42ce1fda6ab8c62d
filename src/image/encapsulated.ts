/**
 * Encapsulated pixel data (DICOM PS3.5 A.4): the bytes of one frame, from whichever index the file carries, in this
 * order: the Extended Offset Table (7FE0,0001), the Basic Offset Table (first item), one fragment per frame, all
 * fragments for a single frame, and, for JPEG-family codestreams without a table, frame ends found by the EOI/EOC
 * marker (FFD9) closing a fragment.
 */
import dicomParser, { type DataSet, type Element } from 'dicom-parser';
import { BlindspotError } from '../errors.ts';

const EXTENDED_OFFSET_TABLE = 'x7fe00001';

/** The Extended Offset Table's 64-bit offsets as numbers, or undefined when absent or empty. */
function extendedOffsets(ds: DataSet): number[] | undefined {
  const el = ds.elements[EXTENDED_OFFSET_TABLE];
  if (el === undefined || el.length < 8) return undefined;
  const bytes = ds.byteArray as Uint8Array;
  const dv = new DataView(bytes.buffer, bytes.byteOffset + el.dataOffset, el.length);
  const out: number[] = [];
  for (let o = 0; o + 8 <= el.length; o += 8) out.push(Number(dv.getBigUint64(o, true)));
  return out;
}

/**
 * The bytes of one frame of encapsulated pixel data (fragments joined when a frame spans several).
 * @param ds the parsed data set
 * @param pixel the (7FE0,0010) element (encapsulated)
 * @param frame 0-based frame index (already range-checked)
 * @param frames NumberOfFrames
 * @param markers whether frame ends can be found by an FFD9 marker (JPEG, JPEG-LS, JPEG 2000; not RLE)
 * @param path the file (for messages)
 * @throws BlindspotError E_CORRUPT (fragments missing or truncated, no way to split frames).
 */
export function encapsulatedFrame(
  ds: DataSet,
  pixel: Element,
  frame: number,
  frames: number,
  markers: boolean,
  path: string,
): Uint8Array {
  const fragments = pixel.fragments ?? [];
  try {
    if (fragments.length === 0) throw new Error('no fragments');
    if (frames === 1) return join(ds, pixel, 0, fragments.length);
    const eot = extendedOffsets(ds);
    if (eot !== undefined && eot.length === frames) {
      return dicomParser.readEncapsulatedImageFrame(ds, pixel, frame, eot) as Uint8Array;
    }
    if ((pixel.basicOffsetTable ?? []).length === frames) {
      return dicomParser.readEncapsulatedImageFrame(ds, pixel, frame) as Uint8Array;
    }
    if (fragments.length === frames) return join(ds, pixel, frame, 1);
    if (markers) {
      const table = dicomParser.createJPEGBasicOffsetTable(ds, pixel);
      if (table.length === frames)
        return dicomParser.readEncapsulatedImageFrame(ds, pixel, frame, table) as Uint8Array;
    }
  } catch {
    throw new BlindspotError(
      'E_CORRUPT',
      `DICOM encapsulated pixel data is truncated or corrupt (frame ${frame})`,
      path,
    );
  }
  throw new BlindspotError(
    'E_CORRUPT',
    `DICOM encapsulated pixel data has ${fragments.length} fragments and no offset table for its ${frames} frames`,
    path,
  );
}

/** Fragments [first, first + count) joined (a subarray when there is only one). */
function join(ds: DataSet, pixel: Element, first: number, count: number): Uint8Array {
  return dicomParser.readEncapsulatedPixelDataFromFragments(ds, pixel, first, count) as Uint8Array;
}
