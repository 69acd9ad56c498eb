/**
 * @webrnn/kernels: WGSL compute kernels generated from small specs. Each builder returns `{ key, code,
 * workgroupSize }`, the key being the canonical form of the spec the code was made from; each `*Meta` helper packs
 * the launch's shapes and strides into the i32 buffer the kernel reads.
 */
export { type Kernel, type ScalarType, canonical, kernel } from './spec.js';
export { WG, grid1d } from './emit.js';
export { type ElementwiseSpec, elementwiseKernel, elementwiseMeta } from './elementwise.js';
export { type ReduceOp, reduceKernel, reduceMeta } from './reduce.js';
export { softmaxKernel } from './softmax.js';
export { MATMUL_TILE, matmulKernel, matmulMeta } from './matmul.js';
export { gatherKernel, scatterAddKernel } from './gather.js';
export { lstmCellBackwardKernel, lstmCellKernel } from './lstm.js';
