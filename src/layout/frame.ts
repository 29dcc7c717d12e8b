// `--frame WxHxC`: each record is one image of W×H pixels with C channels of u8 (1 gray, 3 RGB,
// 4 RGBA), stored row-major and interleaved; the whole image is one opaque field, `pixels`.
import { expected } from '../errors.js';
import { MAX_RECORD_SIZE } from './fields.js';
import type { Layout } from './types.js';

const FRAME_RE = /^\s*(\d+)\s*[xX×]\s*(\d+)\s*[xX×]\s*(\d+)\s*$/;

export function parseFrame(text: string): Layout {
  const m = FRAME_RE.exec(text);
  if (!m) throw expected('--frame', 'WxHxC such as 640x480x3 (width x height x channels)', text);
  const [width, height, channels] = [m[1], m[2], m[3]].map(Number) as [number, number, number];
  if (!Number.isSafeInteger(width) || width < 1 || !Number.isSafeInteger(height) || height < 1) {
    throw expected('--frame', 'a width and height of at least 1 pixel', text);
  }
  if (channels !== 1 && channels !== 3 && channels !== 4)
    throw expected('--frame', 'C = 1, 3 or 4 channels in WxHxC', text);
  const recordSize = width * height * channels;
  if (recordSize > MAX_RECORD_SIZE) {
    throw expected('--frame', `a frame of at most ${MAX_RECORD_SIZE} bytes (W·H·C = ${recordSize})`, text);
  }
  return {
    recordSize,
    bigEndian: false,
    fields: [{ name: 'pixels', type: 'bytes', offset: 0, size: recordSize }],
    headerBytes: 0,
    source: 'frame',
    frame: { width, height, channels },
  };
}
