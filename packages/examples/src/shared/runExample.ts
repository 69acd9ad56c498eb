import { pathToFileURL } from 'node:url';
import { type DeviceName, manualSeed } from '@webrnn/rnn';
import { chooseBackend, teardown } from './backend.js';
import { type Cli, type OptionSpec, parseCli, run } from './cli.js';
import type { AutoProbe } from './probe.js';

/**
 * The one opening of every example program: parse the flags (--help prints the usage and ends), check what the
 * program derives from them, seed the generator, choose the device (`--backend auto` measures the program's probe,
 * shared/backend.ts), print the backend line, run the program's body, and release the device however the body
 * ends. A program's file then holds only what is its own: its flags, its probe and its body.
 */

/** What the probe and the body get besides the options: what `settings` made of them. */
export interface ExampleSetup<T extends Record<string, OptionSpec>, S> extends Cli<T> {
  readonly settings: S;
}

/** What the body gets: the setup and the device chosen, with the reason printed in the backend line. */
export interface ExampleRun<T extends Record<string, OptionSpec>, S> extends ExampleSetup<T, S> {
  readonly device: DeviceName;
  readonly reason: string;
}

export interface Example<T extends Record<string, OptionSpec>, S, R> {
  /** The program's name: its file in dist/, its --out default and its usage line. */
  readonly program: string;
  /** One line for the usage text. */
  readonly description: string;
  /** The program's own flags (the common ones, shared/cli.ts, are added). */
  readonly options: T;
  /**
   * The program's own checks of its options and what it derives from them (sizes, a checkpoint read, a corpus),
   * before the seed and the device: a bad value fails before anything is measured. It may fill options not given
   * (presets such as --tutorial). Without it the settings are undefined.
   */
  readonly settings?: (cli: Cli<T>) => S | Promise<S>;
  /** What `--backend auto` times (shared/probe.ts): the program's model at the run's sizes. */
  readonly probe: (setup: ExampleSetup<T, S>) => AutoProbe;
  /** The program itself, on the chosen device, with the generator seeded by --seed. */
  readonly body: (run: ExampleRun<T, S>) => Promise<R>;
}

/** Run `example` on the command line `argv`: its result, or null after --help. */
export async function runExample<T extends Record<string, OptionSpec>, S, R>(
  example: Example<T, S, R>,
  argv: readonly string[],
): Promise<R | null> {
  const cli = parseCli(example.program, example.description, example.options, argv);
  if (!cli) return null;
  const settings = (await example.settings?.(cli)) as S;
  manualSeed(cli.options.seed);
  // The probe draws from the generator; chooseDevice restores it, so the body starts from the seed.
  const setup = { ...cli, settings };
  const { device, reason } = await chooseBackend(cli.options.backend, example.probe(setup));
  try {
    return await example.body({ ...setup, device, reason });
  } finally {
    teardown(device);
  }
}

/** The program's `main(argv)`, which its tests call and the command line runs. */
export function exampleMain<T extends Record<string, OptionSpec>, S, R>(
  example: Example<T, S, R>,
): (argv: readonly string[]) => Promise<R | null> {
  return (argv) => runExample(example, argv);
}

/** Run `main` as the command line's program (shared/cli.ts run) when `moduleUrl` is the file node started. */
export function runIfMain(moduleUrl: string, main: (argv: string[]) => Promise<unknown>): void {
  if (process.argv[1] && moduleUrl === pathToFileURL(process.argv[1]).href) run(main);
}
