import { parseArgs } from 'node:util';
import { relaunchWithoutDawnWarnings } from '@webrnn/rnn';
import { wantsDawnFilter } from './quietDawn.js';

/**
 * Command lines with node:util's parseArgs. A program declares its options once (type, default, one line of
 * help); this file adds the ones every program takes (--backend, --out, --seed, --help), converts and checks the
 * values, and prints the usage text. Keys are camelCase and flags kebab-case: `evalOneStep` is --eval-one-step.
 */
export type OptionSpec =
  | {
      readonly type: 'int' | 'number';
      readonly default: number;
      readonly help: string;
      /** The smallest value allowed; `above` instead when the bound itself is not (a learning rate > 0). */
      readonly min?: number;
      readonly above?: number;
    }
  | {
      readonly type: 'string';
      readonly default: string;
      readonly help: string;
      readonly choices?: readonly string[];
    }
  | { readonly type: 'boolean'; readonly help: string };

type ValueOf<S> = S extends { type: 'boolean' } ? boolean : S extends { type: 'string' } ? string : number;
export type Values<T extends Record<string, OptionSpec>> = { -readonly [K in keyof T]: ValueOf<T[K]> };

export type BackendChoice = 'cpu' | 'webgpu' | 'auto';

const COMMON = {
  backend: {
    type: 'string',
    default: 'auto',
    choices: ['cpu', 'webgpu', 'auto'],
    help: 'cpu, webgpu, or auto: whichever runs this program faster, measured on its own model',
  },
  out: { type: 'string', default: 'out/<program>', help: 'folder for the plots' },
  seed: { type: 'int', default: 1, help: 'random seed (weights and data order)' },
  verbose: { type: 'boolean', help: "show Dawn's adapter warnings (filtered out otherwise)" },
  help: { type: 'boolean', help: 'print this text and exit' },
} as const satisfies Record<string, OptionSpec>;

export type CommonValues = Values<typeof COMMON> & { backend: BackendChoice };

export interface Cli<T extends Record<string, OptionSpec>> {
  readonly options: Values<T> & CommonValues;
  /** The options given on the command line (camelCase keys), so presets such as --tutorial can fill the rest. */
  readonly given: ReadonlySet<string>;
}

const flag = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** What an option accepts, for the usage text: ` (one of a, b)`, ` (>= 1)`, ` (> 0)`. */
function allowed(s: OptionSpec): string {
  if (s.type === 'string' && s.choices) return ` (one of ${s.choices.join(', ')})`;
  if ((s.type === 'int' || s.type === 'number') && s.min !== undefined) return ` (>= ${s.min})`;
  if ((s.type === 'int' || s.type === 'number') && s.above !== undefined) return ` (> ${s.above})`;
  return '';
}

/**
 * `--lr -1` as `--lr=-1`: parseArgs reads a value that starts with '-' as another flag (and then complains that
 * the option is ambiguous), so a negative number after an option that takes a value is joined to it; the value is
 * then checked against the option's bounds like any other.
 */
function joinNegativeValues(argv: readonly string[], specs: Record<string, OptionSpec>): string[] {
  const takesValue = new Set(
    Object.entries(specs)
      .filter(([, s]) => s.type !== 'boolean')
      .map(([k]) => `--${flag(k)}`),
  );
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    if (takesValue.has(a) && next !== undefined && /^-(\d|\.\d|Infinity)/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** The usage text: every option, its default and what it does. */
export function usage(program: string, description: string, own: Record<string, OptionSpec>): string {
  const specs: Record<string, OptionSpec> = { ...own, ...COMMON };
  const rows = Object.entries(specs).map(([key, s]) => [
    `--${flag(key)}${s.type === 'boolean' ? '' : s.type === 'string' ? ' S' : ' N'}`,
    s.type === 'boolean' ? 'off' : String(s.default).replace('<program>', program),
    `${s.help}${allowed(s)}`,
  ]);
  const width = (i: number) => Math.max(...rows.map((r) => r[i]!.length)) + 2;
  const [w0, w1] = [width(0), Math.max(width(1), 'default'.length + 2)];
  const lines = [['option', 'default', ''], ...rows].map(([f, d, h]) =>
    `  ${f!.padEnd(w0)}${d!.padEnd(w1)}${h}`.trimEnd(),
  );
  return `${program}: ${description}\n\nusage: node packages/examples/dist/${program}.js [options]\n\n${lines.join('\n')}`;
}

/**
 * Parse `argv` against the program's options and the common ones. Returns null after printing the usage for
 * --help; throws an Error naming the option for an unknown flag or a bad value.
 */
export function parseCli<T extends Record<string, OptionSpec>>(
  program: string,
  description: string,
  own: T,
  argv: readonly string[],
): Cli<T> | null {
  const specs: Record<string, OptionSpec> = { ...own, ...COMMON };
  const config = Object.fromEntries(
    Object.keys(specs).map((k) => [flag(k), { type: specs[k]!.type === 'boolean' ? 'boolean' : 'string' }]),
  ) as Record<string, { type: 'boolean' | 'string' }>;
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(argv, specs),
      options: config,
      strict: true,
      tokens: true,
    });
  } catch (e) {
    throw new Error(`${(e as Error).message}\n(run with --help for the options)`);
  }
  const raw = parsed.values as Record<string, string | boolean | undefined>;
  if (raw.help) {
    console.log(usage(program, description, own));
    return null;
  }
  const values: Record<string, string | number | boolean> = {};
  const given = new Set<string>();
  for (const [key, spec] of Object.entries(specs)) {
    const v = raw[flag(key)];
    if (v !== undefined) given.add(key);
    values[key] = convert(key, spec, v);
  }
  values.out = String(values.out).replace('<program>', program);
  return { options: values as Values<T> & CommonValues, given };
}

function convert(key: string, spec: OptionSpec, v: string | boolean | undefined): string | number | boolean {
  if (spec.type === 'boolean') return v === true;
  if (v === undefined) return spec.default;
  const text = String(v);
  if (spec.type === 'string') {
    if (spec.choices && !spec.choices.includes(text)) {
      throw new Error(`--${flag(key)} must be one of ${spec.choices.join(', ')}, got '${text}'`);
    }
    return text;
  }
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || (spec.type === 'int' && !Number.isInteger(n))) {
    throw new Error(
      `--${flag(key)} must be ${spec.type === 'int' ? 'an integer' : 'a number'}, got '${text}'`,
    );
  }
  if (spec.min !== undefined && n < spec.min)
    throw new Error(`--${flag(key)} must be at least ${spec.min}, got ${n}`);
  if (spec.above !== undefined && !(n > spec.above)) {
    throw new Error(`--${flag(key)} must be greater than ${spec.above}, got ${n}`);
  }
  return n;
}

/** Check that a numeric option is at least `min` (sizes and counts must be positive). */
export function atLeast(value: number, min: number, name: string): number {
  if (value < min) throw new Error(`--${flag(name)} must be at least ${min}, got ${value}`);
  return value;
}

/**
 * The command-line runner: `main(argv)`, then exit with 0, or print the error in one line and exit with 1. Exiting
 * explicitly matters: an open WebGPU device would otherwise keep the process alive. A run that may load Dawn first
 * relaunches itself behind core's filter for Dawn's adapter warnings (shared/quietDawn.ts says when);
 * --verbose shows them.
 */
export function run(main: (argv: string[]) => Promise<unknown>): void {
  if (wantsDawnFilter(process.argv.slice(2), process.env) && relaunchWithoutDawnWarnings()) return;
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    },
  );
}
