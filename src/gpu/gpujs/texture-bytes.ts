// What gpu.js 2.24 (headless-gl, single precision, unpacked) allocates for one kernel call, so that
// --max-memory can size its calls: an output of n values is one RGBA32F texel (16 bytes) per value,
// read back through a Float32Array of 4 floats per texel; an array argument of n values packs 4 per
// texel, and keeps a Float32Array copy for upload. Textures are as near square as gpu.js makes them
// (utils.closestSquareDimensions, copied here: the sizes must be the ones it really allocates).

/** gpu.js's utils.closestSquareDimensions: width × height ≥ length, as square as it gets. */
function closestSquare(length: number): [number, number] {
  const sqrt = Math.sqrt(length);
  let high = Math.ceil(sqrt);
  let low = Math.floor(sqrt);
  while (high * low < length) {
    high--;
    low = Math.ceil(length / high);
  }
  return [low, Math.ceil(length / low)];
}

const texels = (size: ArrayLike<number>) => (size[0] ?? 0) * (size[1] ?? 0);

/** A kernel's output texture of `values` values (and, read back, as many bytes again): 16 bytes per texel. */
export function outputTextureBytes(values: number): number {
  return 16 * texels(closestSquare(Math.max(1, values)));
}

/** An array argument of `values` f32: its texture (4 values per texel) and its upload copy. */
export function arrayArgumentBytes(values: number): number {
  const rounded = Math.ceil(Math.max(1, values) / 4) * 4;
  return 2 * 16 * texels(closestSquare(rounded / 4));
}

/**
 * What a kernel really holds after a call, from gpu.js's own objects: its output texture and the
 * arrays it uploaded (texture + upload copy). A texture argument (the previous stage's output) is that
 * stage's texture, counted there.
 */
export function kernelHeldBytes(kernel: unknown): number {
  const k = kernel as {
    texSize?: ArrayLike<number>;
    kernelArguments?: { textureSize?: ArrayLike<number>; uploadValue?: unknown }[];
  };
  let bytes = k.texSize ? 16 * texels(k.texSize) : 0;
  // an uploaded array's uploadValue is its Float32Array copy; a texture argument's is the texture itself
  for (const a of k.kernelArguments ?? [])
    if (a.textureSize && a.uploadValue instanceof Float32Array)
      bytes += 16 * texels(a.textureSize) + a.uploadValue.byteLength;
  return bytes;
}
