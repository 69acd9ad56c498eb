import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type GeneratorState, defaultGenerator, io, manualSeed, type nn } from '@webrnn/rnn';

/**
 * Checkpoints of a training run, shared by the long examples: --save F writes the model, the optimiser's state
 * (when it has one), the iteration reached and the settings that shape the model to F (safetensors, atomically
 * through io.saveModule) at the end, every --save-every N iterations and when Ctrl-C stops the run; --resume F
 * loads them and the run continues at the next iteration, up to --iterations in all.
 *
 * The random generator's state is saved too (Generator.getState), so a resumed run draws the batches the
 * uninterrupted run would have drawn; a checkpoint without it (written before) reseeds from the seed and the
 * iteration reached instead, reproducibly.
 */
export const CHECKPOINT_OPTIONS = {
  save: {
    type: 'string',
    default: '',
    help: 'write a checkpoint (model, optimiser, iteration) to this file at the end (.safetensors)',
  },
  saveEvery: {
    type: 'int',
    default: 0,
    min: 0,
    help: 'with --save: also every N iterations (0: at the end and on Ctrl-C only)',
  },
  resume: {
    type: 'string',
    default: '',
    help: 'continue from this checkpoint (same model options) up to --iterations in all',
  },
} as const;

type Optimizer = Parameters<typeof io.saveModule>[3];
type Setting = string | number | boolean;

/** What the metadata key `webrnnRun` of a checkpoint holds. */
export interface RunInfo {
  readonly program: string;
  /** Iterations done when it was written. */
  readonly iteration: number;
  readonly seed: number;
  /** The default generator's state when it was written (absent in older checkpoints). */
  readonly rng?: GeneratorState;
  /** The options that shape the model: resuming with other values is refused. */
  readonly settings: Record<string, Setting>;
}

const KEY = 'webrnnRun';

export class RunCheckpoints {
  /** Where a stop (or the end) writes: --save, or `<out>/checkpoint.safetensors` so that Ctrl-C never loses a run. */
  readonly file: string;

  constructor(
    readonly program: string,
    private readonly o: {
      save: string;
      saveEvery: number;
      resume: string;
      seed: number;
      out: string;
    },
    private readonly settings: Record<string, Setting>,
  ) {
    this.file = o.save || path.join(o.out, 'checkpoint.safetensors');
  }

  /**
   * With --resume: check the file is this program's with the same settings, load the weights (and the
   * optimiser's state) and restore the generator; returns the iterations done (0 without --resume).
   */
  resume(net: nn.Module, optimizer?: Optimizer, iterations = Number.POSITIVE_INFINITY): number {
    const file = this.o.resume;
    if (!file) return 0;
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync(file));
    } catch (e) {
      throw new Error(`--resume: cannot read ${file}: ${(e as Error).message}`);
    }
    const info = this.check(file, io.decodeSafetensors(bytes, file, '--resume').metadata[KEY]);
    if (info.iteration >= iterations) {
      throw new Error(
        `--resume: ${file} has ${info.iteration} iterations done already; ask for more with --iterations`,
      );
    }
    io.loadModuleFromSafetensors(bytes, net, optimizer ? { optimizer } : {}, file, '--resume');
    if (info.rng) defaultGenerator.setState(info.rng);
    else manualSeed(resumedSeed(this.o.seed, info.iteration));
    console.log(`resumed from ${file}: ${info.iteration} iterations done`);
    return info.iteration;
  }

  /** --save was given: the end of the run writes a checkpoint too. */
  get saving(): boolean {
    return this.o.save !== '';
  }

  /** --save-every N asks for a checkpoint after this iteration. */
  due(iteration: number): boolean {
    return this.o.save !== '' && this.o.saveEvery > 0 && iteration % this.o.saveEvery === 0;
  }

  /** Write the checkpoint (atomically: a reader sees the old file or the new one, never a torn one). */
  async save(iteration: number, net: nn.Module, optimizer?: Optimizer): Promise<string> {
    mkdirSync(path.dirname(path.resolve(this.file)), { recursive: true });
    const rng = defaultGenerator.getState();
    const info = {
      program: this.program,
      iteration,
      seed: this.o.seed,
      rng: { xoshiro128: [...rng.xoshiro128], spare: rng.spare },
      settings: this.settings,
    } satisfies RunInfo;
    await io.saveModule(this.file, net, { [KEY]: info }, optimizer);
    return this.file;
  }

  private check(file: string, raw: string | undefined): RunInfo {
    const bad = (why: string): never => {
      throw new Error(`--resume: ${file} is not a ${this.program} checkpoint (${why})`);
    };
    if (raw === undefined) return bad(`no '${KEY}' metadata`);
    let info: RunInfo;
    try {
      info = JSON.parse(raw) as RunInfo;
    } catch (e) {
      return bad(`its '${KEY}' metadata is not JSON: ${(e as Error).message}`);
    }
    if (info.program !== this.program) bad(`it was written by ${info.program}`);
    if (!Number.isInteger(info.iteration) || info.iteration < 0) bad('bad iteration count');
    for (const [key, value] of Object.entries(this.settings)) {
      const saved = info.settings?.[key];
      if (saved !== value) {
        const flag = key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
        throw new Error(`--${flag} ${value} differs from the checkpoint's ${saved} (${file})`);
      }
    }
    return info;
  }
}

/** The seed a run resumed at `iteration` continues with: a fixed mix of both, so resuming is reproducible. */
export function resumedSeed(seed: number, iteration: number): number {
  return (Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) + iteration) >>> 0;
}
