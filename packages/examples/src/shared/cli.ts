import { parseArgs } from 'node:util';
import * as webrnn from '@webrnn/rnn';

/**
 * The options every program shares (--backend, --out, --seed, --help) plus its own, parsed with node:util.
 * Each option has a default and a line of help, so `--help` documents the program.
 */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly default: string | boolean;
  readonly help: string;
}

const COMMON: Record<string, OptionSpec> = {
  backend: {
    type: 'string',
    default: 'auto',
    help: 'cpu, webgpu, or auto (WebGPU when an adapter is found, else the CPU)',
  },
  out: { type: 'string', default: '', help: 'folder for the plots and files (default out/<program>)' },
  seed: { type: 'string', default: '1', help: 'random seed' },
  help: { type: 'boolean', default: false, help: 'print this help' },
};

export type Parsed<T extends Record<string, OptionSpec>> = {
  [K in keyof T | keyof typeof COMMON]: string | boolean;
};

export function parseCli<T extends Record<string, OptionSpec>>(
  program: string,
  description: string,
  own: T,
  argv: readonly string[],
): Parsed<T> | null {
  const specs = { ...own, ...COMMON };
  const options = Object.fromEntries(
    Object.entries(specs).map(([k, s]) => [k, { type: s.type, default: s.default }]),
  );
  const { values } = parseArgs({ args: [...argv], options: options as never, strict: true });
  const v = values as Record<string, string | boolean>;
  if (v.help) {
    const lines = Object.entries(specs).map(
      ([k, s]) =>
        `  --${k.padEnd(16)} ${s.help}${s.type === 'string' && s.default !== '' ? ` (default ${s.default})` : ''}`,
    );
    console.log(
      `${program}: ${description}\n\nusage: node packages/examples/dist/${program}.js [options]\n\n${lines.join('\n')}`,
    );
    return null;
  }
  if (v.out === '') v.out = `out/${program}`;
  return v as Parsed<T>;
}

export function num(v: string | boolean, name: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got '${v}'`);
  return n;
}

/** Choose the device: an explicit choice is honoured (or fails clearly); auto tries WebGPU, else the CPU. */
export async function chooseBackend(choice: string): Promise<'cpu' | 'webgpu'> {
  if (choice !== 'cpu' && choice !== 'webgpu' && choice !== 'auto') {
    throw new Error(`--backend must be cpu, webgpu or auto, got '${choice}'`);
  }
  if (choice === 'cpu') return 'cpu';
  const init = (webrnn as { initWebGPU?: (o?: object) => Promise<unknown> }).initWebGPU;
  let reason = 'this build has no WebGPU backend';
  if (init) {
    try {
      if (await init({ verbose: true })) {
        console.log('backend: webgpu');
        return 'webgpu';
      }
      reason = 'no WebGPU adapter was found';
    } catch (e) {
      reason = (e as Error).message;
    }
  }
  if (choice === 'webgpu') throw new Error(`--backend webgpu: ${reason}`);
  console.log(`backend: cpu (${reason})`);
  return 'cpu';
}

/** Release the device so that the process can exit (Dawn keeps it alive otherwise). */
export function teardown(device: 'cpu' | 'webgpu'): void {
  if (device === 'webgpu') webrnn.getBackend('webgpu').destroy();
}
