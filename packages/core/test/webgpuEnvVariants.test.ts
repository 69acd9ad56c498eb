import { describe, expect, it } from 'vitest';
import { webgpuForFile } from './helpers/webgpu.js';

/**
 * A WebGPU backend made while WEBRNN_MATMUL and WEBRNN_PERSISTENT_LSTM are set runs those variants (their values
 * are read once, when the backend is made; webgpuEnvChoices.test.ts checks the parsing and the refusals).
 */
const saved = [process.env.WEBRNN_MATMUL, process.env.WEBRNN_PERSISTENT_LSTM] as const;
process.env.WEBRNN_MATMUL = 'naive';
process.env.WEBRNN_PERSISTENT_LSTM = 'never';
const gpu = await webgpuForFile('webgpuEnvVariants');
for (const [name, v] of [
  ['WEBRNN_MATMUL', saved[0]],
  ['WEBRNN_PERSISTENT_LSTM', saved[1]],
] as const) {
  if (v === undefined) delete process.env[name];
  else process.env[name] = v;
}

describe.skipIf(!gpu)('the WebGPU backend under WEBRNN_MATMUL=naive WEBRNN_PERSISTENT_LSTM=never', () => {
  it('uses the variants the environment named when it was made', () => {
    expect(gpu!.matmulVariant).toBe('naive');
    expect(gpu!.persistentLstm).toBe('never');
  });
});
