/// <reference types="@webgpu/types" />
// The bytes a WebGPU device's buffers hold (storage, staging, uniforms, tables), counted as they are
// made and destroyed, and the most held at once: --max-memory gives the device a share of its bound
// (GpuChunk.maxBytes) and reports this peak in metrics.memory.device_peak_bytes.

export class BufferTally {
  private held = 0;
  peak = 0;
  private readonly sizes = new WeakMap<GPUBuffer, number>();

  constructor(private readonly device: GPUDevice) {}

  create(desc: GPUBufferDescriptor): GPUBuffer {
    const buf = this.device.createBuffer(desc);
    this.sizes.set(buf, desc.size);
    this.held += desc.size;
    this.peak = Math.max(this.peak, this.held);
    return buf;
  }

  destroy(buf: GPUBuffer): void {
    this.held -= this.sizes.get(buf) ?? 0;
    this.sizes.delete(buf);
    buf.destroy();
  }
}

// the batch sizing the runners import from here lives with gpu.js's in ../fit.ts
export { largestFitting } from '../fit.js';
