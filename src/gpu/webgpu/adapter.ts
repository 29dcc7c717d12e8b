/// <reference types="@webgpu/types" />
// Finding a WebGPU adapter through the `webgpu` package (Dawn), loaded only here. The default adapter
// first (a real GPU's Vulkan, Metal or D3D12), then Dawn's OpenGL ES backend in compatibility mode —
// on a machine without a GPU that is Mesa's llvmpipe through EGL with no display
// (EGL_PLATFORM=surfaceless). Dawn prints warnings of its own on fd 2 while it looks ("Couldn't load
// Vulkan", "maxDynamicStorageBuffersPerPipelineLayout artificially reduced …"); they are muted here,
// since bigproc's stderr carries its own lines only.
import { loadAddon } from '../../native/addon.js';
import { GpuUnavailable } from '../device.js';

export interface OpenedAdapter {
  /** the object create() returned: Dawn crashes mid-compute once nothing references it */
  gpu: GPU;
  adapter: GPUAdapter;
  /** 'default' or 'opengles' */
  backend: string;
}

interface StderrMute {
  muteStderr(): number;
  restoreStderr(saved: number): void;
}

/** Run `f` with fd 2 pointing at /dev/null (where the native addon can do it). */
async function quietly<T>(f: () => Promise<T>): Promise<T> {
  const addon = loadAddon() as unknown as Partial<StderrMute> | null;
  const saved = addon?.muteStderr ? addon.muteStderr() : -1;
  try {
    return await f();
  } finally {
    if (saved >= 0) addon!.restoreStderr!(saved);
  }
}

type WebGpuModule = { create(flags: string[]): GPU; globals: Record<string, unknown> };

async function loadDawn(): Promise<WebGpuModule> {
  // Mesa's EGL picks a platform from the environment; with no display only "surfaceless" works.
  process.env.EGL_PLATFORM ??= 'surfaceless';
  try {
    const mod = (await import('webgpu')) as unknown as WebGpuModule & { default?: WebGpuModule };
    const dawn = typeof mod.create === 'function' ? mod : mod.default!;
    // GPUBufferUsage, GPUMapMode …: the shaders' host code uses the standard globals.
    Object.assign(globalThis, dawn.globals);
    return dawn;
  } catch (e) {
    throw new GpuUnavailable(
      `--backend webgpu: the optional package "webgpu" (Dawn) does not load (${(e as Error).message.split('\n')[0]}): install it with "npm install webgpu" (Linux x64/arm64, macOS, Windows)`,
      false,
    );
  }
}

export async function openAdapter(): Promise<OpenedAdapter> {
  const dawn = await loadDawn();
  return quietly(async () => {
    const tries: [string, string[], GPURequestAdapterOptions][] = [
      ['default', [], {}],
      ['opengles', ['backend=opengles'], { featureLevel: 'compatibility' } as GPURequestAdapterOptions],
    ];
    for (const [backend, flags, options] of tries) {
      const gpu = dawn.create(flags);
      const adapter = await gpu.requestAdapter(options).catch(() => null);
      if (adapter) return { gpu, adapter, backend };
    }
    throw new GpuUnavailable(
      "--backend webgpu: no WebGPU adapter on this machine (no Vulkan/Metal/D3D12 GPU driver, and no OpenGL ES through EGL): install a GPU driver, or Mesa's EGL and GLES (Debian: apt-get install libegl1 libgles2 libegl-mesa0) for the software renderer",
    );
  });
}

/** The adapter as metrics name it: its device and description, e.g. "llvmpipe-llvm-15… (OpenGL ES 3.2 Mesa 22.3.6)". */
export function adapterName(a: OpenedAdapter): string {
  const info = a.adapter.info;
  const name = [info.vendor, info.architecture, info.device].filter(Boolean).join(' ') || 'unknown adapter';
  const description = info.description?.replace(/^OpenGL version /, '');
  return description ? `${name} (${description})` : name;
}
