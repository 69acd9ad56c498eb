import { afterEach, describe, expect, it } from 'vitest';
import { kernelChoicesFromEnv } from '../src/backends/webgpu/envChoices.js';
import { WebrnnError, initWebGPU } from '../src/index.js';

/**
 * The environment variables that force a WebGPU kernel variant for a whole process (WEBRNN_MATMUL,
 * WEBRNN_PERSISTENT_LSTM): unset or empty means 'auto', a listed value is taken, and anything else is refused by
 * initWebGPU with the variable, the value and the choices, before any adapter is looked for (no adapter is needed
 * here: a typo must not read as "no WebGPU" and fall back to the CPU). webgpuEnvVariants.test.ts checks that a
 * backend made under such a setting uses it.
 */
const cases = [
  { name: 'WEBRNN_MATMUL', field: 'matmulVariant', choices: ['auto', 'tiled', 'subgroup', 'naive'] },
  { name: 'WEBRNN_PERSISTENT_LSTM', field: 'persistentLstm', choices: ['auto', 'always', 'never'] },
] as const;

const saved = Object.fromEntries(cases.map((c) => [c.name, process.env[c.name]]));
afterEach(() => {
  for (const c of cases) {
    if (saved[c.name] === undefined) delete process.env[c.name];
    else process.env[c.name] = saved[c.name];
  }
});

describe('kernel variants chosen by environment variables', () => {
  for (const c of cases) {
    const other = cases.find((o) => o !== c)!;

    it(`${c.name}: unset or empty is auto, each choice is taken, the other setting untouched`, () => {
      delete process.env[other.name];
      delete process.env[c.name];
      expect(kernelChoicesFromEnv()).toEqual({ matmulVariant: 'auto', persistentLstm: 'auto' });
      process.env[c.name] = '';
      expect(kernelChoicesFromEnv()[c.field]).toBe('auto');
      for (const v of c.choices) {
        process.env[c.name] = v;
        expect(kernelChoicesFromEnv()).toMatchObject({ [c.field]: v, [other.field]: 'auto' });
      }
    });

    it(`${c.name}: another value makes initWebGPU refuse, naming the variable, the value and the choices`, async () => {
      for (const bad of ['bogus', 'Tiled', ' auto', 'auto,naive', 'ALWAYS']) {
        process.env[c.name] = bad;
        const err = await initWebGPU().then(
          (b) => {
            b?.destroy();
            return null;
          },
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(WebrnnError);
        const msg = (err as Error).message;
        expect((err as WebrnnError).op).toBe('webgpu');
        expect(msg).toContain(`${c.name} is '${bad}'`);
        expect(msg).toContain(`expected one of ${c.choices.join(', ')}`);
      }
    });
  }
});
