// Choosing the kernels: native when the addon loads, else JS with one warning line (for `auto`).
import { loadAddon, addonLoadError } from '../native/addon.js';
import { BigprocError, EXIT, expected } from '../errors.js';
import type { Backend } from '../engine/protocol.js';

export const BACKENDS = ['auto', 'native', 'js'] as const;

export function chooseBackend(requested: string, warn: (line: string) => void): { backend: Backend; detail?: string } {
  if (!(BACKENDS as readonly string[]).includes(requested)) {
    const gpu = requested === 'gpu' || requested === 'webgpu' ? ' (GPU backends are not in this build yet)' : '';
    throw expected('--backend', `one of ${BACKENDS.join(', ')}${gpu}`, requested);
  }
  if (requested === 'js') return { backend: 'js' };
  const addon = loadAddon();
  if (addon) return { backend: 'native', detail: addon.cpuInfo().dispatch };
  if (requested === 'native') throw new BigprocError(`--backend native: ${addonLoadError()}`, EXIT.runtime);
  warn(`warning: native kernels unavailable, using the JS backend: ${addonLoadError()}`);
  return { backend: 'js' };
}
