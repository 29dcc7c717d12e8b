// The image directory's entry point for the op registry.
export { image } from './op.js';
export { isImageChain } from './chain.js';
