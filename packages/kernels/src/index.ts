/**
 * @webrnn/kernels: WGSL compute kernels generated from small specs, with no dependency on the rest of webrnn. Each
 * builder is a pure function spec -> Kernel `{ key, code, entryPoint, workgroupSize, bindings, uniforms }`, the
 * key being the canonical JSON of the spec the code was made from; each `*Values` helper gives a launch's values
 * for the kernel's uniform block (`kernel.uniforms.pack(values)`).
 */
export {
  type BindingKind,
  type Kernel,
  type ScalarType,
  type Spec,
  canonical,
  defineKernel,
} from './spec.js';
export { type FieldValues, Uniforms } from './uniforms.js';
export { WG, bufferAliases, grid } from './wgsl.js';
export { CHECK_FIELD, STATUS_WORDS } from './status.js';
export { withNumerics } from './numerics.js';
export { type Coalesced, coalesce, sizeOf } from './layout.js';
export { type MapInput, type MapSpec, mapKernel, mapValues } from './elementwise.js';
export {
  REDUCE_GROUP,
  MAX_RANK as REDUCE_MAX_RANK,
  type ReduceOp,
  type ReduceSpec,
  reduceKernel,
  reduceSpecOp,
  reduceValues,
} from './reduce.js';
export { SOFTMAX_GROUP, type SoftmaxSpec, softmaxKernel, softmaxValues } from './softmax.js';
export { MAX_BATCH_RANK, type MatmulOperand, type MatmulSpec, matmulValues } from './matmulSpec.js';
export { MATMUL_TILE, matmulKernel } from './matmul.js';
export { SUBGROUPS_PER_WORKGROUP, SUBGROUP_ROW_BLOCKS } from './matmulSubgroup.js';
export { FAMILY_OPERANDS, type FamilyOperands, type KernelFamily } from './operands.js';
export { type GatherSpec, gatherKernel, gatherValues } from './gather.js';
export {
  CELLS,
  CELL_SLICES,
  type CellDef,
  type CellKind,
  type CellOperands,
  type CellStatement,
  type CellToken,
  type LstmCellKind,
  cellOperandNames,
  cellWidth,
  cellWrites,
  isOptional,
  parseCell,
  sliceBlocks,
} from './cells.js';
export { type CellSpec, type View2d, cellKernel, cellValues } from './cellWgsl.js';
export { type CellJs, cellJs, cellJsKey } from './cellJs.js';
export {
  type BinaryOpName,
  type ElementwiseFormula,
  type UnaryOpName,
  BINARY_FORMULAS,
  FLOAT_TO_INT32,
  INT32_MAX,
  INT32_MIN,
  PARAM_UNARY_FORMULAS,
  UNARY_FORMULAS,
  intParams,
  jsFormula,
  wgslFormula,
} from './formulas.js';
export { type LstmGateOrder, gateOffsets } from './gates.js';
export {
  type LstmPersistentSpec,
  type LstmPersistentView,
  lstmPersistentKernel,
  lstmPersistentOperands,
  lstmPersistentSharedFloats,
  lstmPersistentValues,
} from './lstmPersistent.js';
