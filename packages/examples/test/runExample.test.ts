import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultGenerator, forgetDeviceChoices, hasBackend, manualSeed } from '@webrnn/rnn';
import { type Cli, parseCli, usage } from '../src/shared/cli.js';
import { type Example, type ExampleRun, type ExampleSetup, runExample } from '../src/shared/runExample.js';
import { printed } from './helpers.js';

/**
 * shared/runExample.ts, the opening every program shares: its flags are checked exactly as parseCli checks them
 * (same errors, before the program's own code runs), `--backend cpu` never starts Dawn, the probe and the body get
 * the parsed options and the program's settings, and the body starts from the generator seeded by --seed. This file
 * never loads Dawn (autoBackend.test.ts runs the helper's `auto` with a real measurement).
 */

const OPTIONS = {
  iterations: { type: 'int', default: 10, min: 1, help: 'steps' },
  hidden: { type: 'int', default: 4, help: 'units' },
  lr: { type: 'number', default: 0.5, above: 0, help: 'rate' },
  cell: { type: 'string', default: 'lstm', choices: ['lstm', 'gru'], help: 'layers' },
  fast: { type: 'boolean', help: 'go fast' },
} as const;
type Opts = typeof OPTIONS;

interface Calls {
  settings: Cli<Opts>[];
  probe: ExampleSetup<Opts, { double: number }>[];
  body: ExampleRun<Opts, { double: number }>[];
  /** The body's first draw from the default generator. */
  draws: number[];
}

/** A program that records what each of its parts was given; its probe fails if it is ever measured. */
function recording(): { example: Example<Opts, { double: number }, string>; calls: Calls } {
  const calls: Calls = { settings: [], probe: [], body: [], draws: [] };
  const example: Example<Opts, { double: number }, string> = {
    program: 'prog',
    description: 'a test program',
    options: OPTIONS,
    settings: (cli) => {
      calls.settings.push(cli);
      if (cli.options.hidden > 100) throw new Error('--hidden is too large');
      return { double: 2 * cli.options.hidden };
    },
    probe: (setup) => {
      calls.probe.push(setup);
      return {
        key: `prog hidden=${setup.options.hidden}`,
        probe: () => {
          throw new Error('the probe was measured');
        },
      };
    },
    body: async (run) => {
      calls.body.push(run);
      calls.draws.push(defaultGenerator.next());
      return `ran on ${run.device}`;
    },
  };
  return { example, calls };
}

/** The error parseCli gives for argv, or null when it accepts it. */
function parseError(argv: string[]): string | null {
  try {
    parseCli('prog', 'a test program', OPTIONS, argv);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

// Command lines with one bad flag among good ones: unknown flags, values of the wrong type, out of bounds or not
// among the choices, and options missing their value.
const good = fc.constantFrom(
  ['--hidden', '7'],
  ['--lr', '0.25'],
  ['--cell', 'gru'],
  ['--fast'],
  ['--seed', '3'],
);
const bad = fc.oneof(
  fc.constantFrom('--what', '--hidden-size', '-x', '--backend-cpu').map((f) => [f]),
  fc
    .constantFrom('2.5', 'many', '', '1e400', 'NaN', '0x', '-3.5')
    .chain((v) => fc.constantFrom(['--hidden', v], ['--iterations', v], ['--seed', v])),
  fc.integer({ min: -1000, max: 0 }).map((n) => ['--iterations', String(n)]),
  fc.double({ min: -1e6, max: 0, noNaN: true }).map((x) => ['--lr', String(x)]),
  fc
    .string({ minLength: 1, maxLength: 6 })
    .filter((s) => !['lstm', 'gru'].includes(s) && !s.startsWith('-'))
    .map((s) => ['--cell', s]),
  fc.constantFrom(['--backend', 'gpu'], ['--backend', 'CPU'], ['--hidden'], ['--cell']),
);

afterEach(() => forgetDeviceChoices());

describe('runExample', () => {
  it('refuses a bad command line with the error parseCli gives, before the program runs any of its parts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(good, { maxLength: 3 }),
        bad,
        fc.array(good, { maxLength: 2 }),
        async (a, b, c) => {
          // A flag given again after the bad one would replace it: the later good flags name other options.
          const argv = [...a.flat(), ...b, ...c.filter((g) => g[0] !== b[0]).flat()];
          const expected = parseError(argv);
          expect(expected, argv.join(' ')).not.toBeNull();
          const { example, calls } = recording();
          const [err, lines] = await printed(() => runExample(example, argv).catch((e: Error) => e));
          expect(err).toBeInstanceOf(Error);
          expect((err as Error).message).toBe(expected);
          expect([calls.settings, calls.probe, calls.body]).toEqual([[], [], []]);
          expect(lines).toEqual([]);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("the program's own checks fail before the device is chosen; --help prints the usage and runs nothing", async () => {
    const { example, calls } = recording();
    const [err, lines] = await printed(() =>
      runExample(example, ['--hidden', '101', '--backend', 'cpu']).catch((e: Error) => e),
    );
    expect((err as Error).message).toBe('--hidden is too large');
    expect(calls.probe).toEqual([]);
    expect(lines).toEqual([]);
    const [result, help] = await printed(() => runExample(example, ['--iterations', '0', '--help']));
    expect(result).toBeNull();
    expect(help).toEqual([usage('prog', 'a test program', OPTIONS)]);
    expect(calls.settings).toHaveLength(1);
  });

  it('--backend cpu never starts Dawn: the body runs on the CPU, the probe is never measured', async () => {
    const { example, calls } = recording();
    const [result, lines] = await printed(() => runExample(example, ['--backend', 'cpu', '--hidden', '3']));
    expect(result).toBe('ran on cpu');
    expect(lines).toEqual(['backend: cpu (asked for with --backend cpu)']);
    expect(calls.body[0]).toMatchObject({ device: 'cpu', reason: 'asked for with --backend cpu' });
    expect(hasBackend('webgpu')).toBe(false);
  });

  it('the probe and the body get the parsed options and the settings; the body starts from --seed', async () => {
    // WEBRNN_BACKEND=cpu: `auto` declines WebGPU without loading Dawn and takes the CPU without measuring.
    vi.stubEnv('WEBRNN_BACKEND', 'cpu');
    const given = fc.record(
      {
        hidden: fc.integer({ min: 1, max: 100 }),
        lr: fc.double({ min: 1e-6, max: 10, noNaN: true }),
        cell: fc.constantFrom('lstm', 'gru'),
        fast: fc.constant(true),
        seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        backend: fc.constantFrom('cpu', 'auto'),
      },
      { requiredKeys: [] },
    );
    try {
      await fc.assert(
        fc.asyncProperty(given, async (flags) => {
          const argv = Object.entries(flags).flatMap(([k, v]) =>
            v === true ? [`--${k}`] : [`--${k}`, String(v)],
          );
          const cli = parseCli('prog', 'a test program', OPTIONS, argv)!;
          const { example, calls } = recording();
          const [result] = await printed(() => runExample(example, argv));
          expect(result).toBe('ran on cpu');
          const settings = { double: 2 * cli.options.hidden };
          expect(calls.settings).toEqual([cli]);
          expect(calls.probe).toEqual([{ ...cli, settings }]);
          expect(calls.body).toEqual([{ ...cli, settings, device: 'cpu', reason: expect.any(String) }]);
          manualSeed(cli.options.seed);
          expect(calls.draws).toEqual([defaultGenerator.next()]);
        }),
        { numRuns: 40 },
      );
    } finally {
      vi.unstubAllEnvs();
    }
    expect(hasBackend('webgpu')).toBe(false);
  });
});
