// Software renderers: Mesa's llvmpipe, lavapipe and softpipe, Google's SwiftShader. They run "GPU"
// kernels on the same CPU cores as the native kernels, through a shader compiler: they prove a GPU path
// correct, never faster — so `auto` does not calibrate on one and `doctor` says what it is.
const SOFTWARE = /llvmpipe|lavapipe|softpipe|swiftshader/i;

export function isSoftwareRenderer(detail: string): boolean {
  return SOFTWARE.test(detail);
}
