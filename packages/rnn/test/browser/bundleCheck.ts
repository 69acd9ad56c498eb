import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

/**
 * What the bundler tests share: the program they bundle (as a user's app would import the packages), the check
 * that no Node import is left, and a run of the bundle in a fresh vm context, a JavaScript world without
 * `process`, `require` or Node's modules, as a page is; with `csp`, code generation from strings is off, as under
 * a Content-Security-Policy without 'unsafe-eval'.
 */
const tutorial = fileURLToPath(new URL('./tutorialNet.ts', import.meta.url));

/**
 * The app: trains the tutorial net on the CPU, tries a file save (refused), a Blob round trip and WebGPU (none
 * without navigator.gpu, and no attempt at Node's Dawn).
 */
export const ENTRY = `
import { initWebGPU, io, lastWebGPUError, nn } from '@webrnn/rnn';
import { trainTutorialNet } from ${JSON.stringify(tutorial)};
export async function run() {
  const losses = await trainTutorialNet('cpu');
  const m = new nn.Linear(2, 2);
  const refusal = await io.saveModule('model.safetensors', m).then(() => 'saved', (e) => e.message);
  const refusals = [];
  for (const f of [
    () => io.saveTensors('t.safetensors', {}),
    () => io.loadModule('model.safetensors', m),
    () => io.loadTensors('t.safetensors'),
    () => io.removeStaleTemporaryFiles('model.safetensors'),
  ]) refusals.push(await f().then(() => 'done', (e) => e.message));
  const a = new nn.Linear(3, 2);
  const b = new nn.Linear(3, 2);
  await io.loadModuleFromBlob(await io.moduleToBlob(a, { step: 3 }), b);
  const same = a.weight.dataSync().every((v, i) => v === b.weight.dataSync()[i]);
  const gpu = await initWebGPU();
  return { losses, refusal, refusals, same, hasProcess: typeof process !== 'undefined', webgpu: gpu === null ? lastWebGPUError() : 'found' };
}`;

export interface AppResult {
  losses: number[];
  refusal: string;
  /** saveTensors, loadModule, loadTensors, removeStaleTemporaryFiles with a path. */
  refusals: string[];
  same: boolean;
  hasProcess: boolean;
  webgpu: string;
}

/** What each path-taking function must say in a page: its name, the path, and the in-memory way. */
export const REFUSALS = [
  /^saveTensors: got the path 't.safetensors', but reading and writing files needs Node; here use io.encodeSafetensors/,
  /^loadModule: got the path 'model.safetensors', .*; here use io.loadModuleFromSafetensors\(bytes, module\) or io.loadModuleFromBlob/,
  /^loadTensors: got the path 't.safetensors', .*; here use io.decodeSafetensors/,
  /^removeStaleTemporaryFiles: got the path 'model.safetensors', .*there are no temporary files outside Node/,
];

/** Import statements, require calls and literal dynamic imports of Node's modules left in a bundle. */
export const NODE_IMPORT =
  /(?:from\s*|import\s*\(\s*|require\s*\(\s*)["'](?:node:[\w/]+|fs|path|os|crypto|worker_threads|url|module)["']/;

/** Run an IIFE bundle that defines `global` (with the app's `run`) in a page-like context; resolves to run()'s result. */
export function runInPage(code: string, global: string, csp: boolean): Promise<AppResult> {
  const context = vm.createContext(
    { console, setTimeout, clearTimeout, queueMicrotask, TextEncoder, TextDecoder, Blob, performance },
    csp ? { codeGeneration: { strings: false, wasm: true } } : {},
  );
  vm.runInContext(code, context);
  return vm.runInContext(`${global}.run()`, context);
}
