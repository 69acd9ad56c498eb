/**
 * Saving and loading: safetensors files (read and written here, no dependency), PyTorch-style state dicts of
 * module trees, and checkpoints holding a model, its optimiser's state and JSON metadata.
 */
export {
  type HostTensor,
  type EncodeOptions,
  type SafetensorsContents,
  decodeSafetensors,
  encodeSafetensors,
} from './safetensors.js';
export {
  type LoadStateDictOptions,
  type LoadStateDictResult,
  type StateDict,
  type StateValue,
  loadStateDict,
  loadStateDictAsync,
  namedBuffers,
  namedParameters,
  namedState,
  stateDict,
} from './stateDict.js';
export {
  type AnyOptimizer,
  type OptimizerInfo,
  loadOptimizerState,
  optimizerState,
} from './optimizerState.js';
export {
  type Json,
  type LoadModuleOptions,
  type LoadModuleResult,
  loadModuleFromSafetensors,
  moduleToSafetensors,
  saveModule,
  saveTensors,
} from './checkpoint.js';
export { removeStaleTemporaryFiles } from './serialisedWrites.js';
export { downloadModule, loadModuleFromBlob, moduleToBlob } from './blobs.js';
export { type LoadTensorsOptions, loadModule, loadTensors } from './loadFile.js';
export { type PyTorchSource, fromPyTorch } from './pytorch.js';
export { toPyTorch } from './pytorchExport.js';
