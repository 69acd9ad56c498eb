import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { hasBackend } from '@webrnn/rnn';
import { chooseBackend } from '../src/shared/backend.js';
import { parseCli, usage } from '../src/shared/cli.js';
import { lineChart, movingAverage } from '../src/shared/plot.js';
import { Progress } from '../src/shared/progress.js';
import { summary } from '../src/shared/summary.js';
import { expectPlot, tmpDir } from './helpers.js';

const OPTS = {
  hiddenSize: { type: 'int', default: 4, help: 'units' },
  lr: { type: 'number', default: 0.5, help: 'rate' },
  fast: { type: 'boolean', help: 'go fast' },
} as const;

describe('parseCli', () => {
  it('fills defaults, converts values, maps camelCase keys to kebab-case flags, records what was given', () => {
    const cli = parseCli('prog', 'a test', OPTS, ['--hidden-size', '7', '--fast'])!;
    expect(cli.options).toEqual({
      hiddenSize: 7,
      lr: 0.5,
      fast: true,
      backend: 'auto',
      out: 'out/prog',
      seed: 1,
      verbose: false,
      help: false,
    });
    expect([...cli.given].sort()).toEqual(['fast', 'hiddenSize']);
  });

  it('the usage text lists every option with its default', () => {
    const text = usage('prog', 'a test', OPTS);
    const lines = text.split('\n');
    const row = (option: string) =>
      lines
        .find((l) => l.trimStart().startsWith(`${option} `))!
        .trim()
        .split(/ {2,}/);
    expect(lines[4]!.split(/ +/)).toEqual(['', 'option', 'default']);
    expect(row('--hidden-size N')).toEqual(['--hidden-size N', '4', 'units']);
    expect(row('--lr N')).toEqual(['--lr N', '0.5', 'rate']);
    expect(row('--fast')).toEqual(['--fast', 'off', 'go fast']);
    expect(row('--backend S')[1]).toBe('auto');
    expect(row('--out S')[1]).toBe('out/prog');
    expect(row('--seed N')[1]).toBe('1');
    expect(row('--help')[1]).toBe('off');
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    expect(parseCli('prog', 'a test', OPTS, ['--help'])).toBeNull();
    expect(log).toHaveBeenCalledWith(text);
    log.mockRestore();
  });

  it('refuses bad values and unknown flags', () => {
    expect(() => parseCli('p', '', OPTS, ['--lr', 'fast'])).toThrow("--lr must be a number, got 'fast'");
    expect(() => parseCli('p', '', OPTS, ['--hidden-size', '2.5'])).toThrow('must be an integer');
    expect(() => parseCli('p', '', OPTS, ['--what'])).toThrow(/--what[\s\S]*--help/);
  });

  const BOUNDED = {
    iterations: { type: 'int', default: 10, min: 1, help: 'steps' },
    lr: { type: 'number', default: 0.5, above: 0, help: 'rate' },
    cell: { type: 'string', default: 'lstm', choices: ['lstm', 'gru'], help: 'layers' },
  } as const;

  it('checks bounds, negative values included (which parseArgs alone reads as flags)', () => {
    expect(() => parseCli('p', '', BOUNDED, ['--iterations', '-5'])).toThrow(
      '--iterations must be at least 1, got -5',
    );
    expect(() => parseCli('p', '', BOUNDED, ['--iterations=0'])).toThrow(
      '--iterations must be at least 1, got 0',
    );
    expect(() => parseCli('p', '', BOUNDED, ['--lr', '0'])).toThrow('--lr must be greater than 0, got 0');
    expect(() => parseCli('p', '', BOUNDED, ['--lr=-1'])).toThrow('--lr must be greater than 0, got -1');
    expect(() => parseCli('p', '', BOUNDED, ['--lr', '-0.5'])).toThrow(
      '--lr must be greater than 0, got -0.5',
    );
    expect(() => parseCli('p', '', BOUNDED, ['--cell', 'rnn'])).toThrow(
      "--cell must be one of lstm, gru, got 'rnn'",
    );
    const ok = parseCli('p', '', BOUNDED, ['--iterations', '3', '--lr', '1e-3', '--cell', 'gru'])!;
    expect(ok.options).toMatchObject({ iterations: 3, lr: 1e-3, cell: 'gru' });
  });

  it('the usage text lists the choices and bounds', () => {
    const text = usage('p', '', BOUNDED);
    expect(text).toMatch(/--iterations N\s+10\s+steps \(>= 1\)/);
    expect(text).toMatch(/--lr N\s+0\.5\s+rate \(> 0\)/);
    expect(text).toMatch(/--cell S\s+lstm\s+layers \(one of lstm, gru\)/);
  });
});

describe('chooseBackend', () => {
  // With one device there is nothing to measure: the probe must not run (autoBackend.test.ts measures).
  const unmeasured = {
    key: 'shared.test',
    probe: () => {
      throw new Error('the probe ran');
    },
  };

  it('cpu is honoured without starting Dawn; auto falls back to the CPU with the reason when WebGPU is off', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    expect(await chooseBackend('cpu', unmeasured)).toEqual({
      device: 'cpu',
      reason: 'asked for with --backend cpu',
    });
    expect(hasBackend('webgpu')).toBe(false); // Dawn was not started
    process.env.WEBRNN_BACKEND = 'cpu';
    try {
      const auto = await chooseBackend('auto', unmeasured);
      expect(auto.device).toBe('cpu');
      expect(auto.reason).toBe(
        'the only device available (webgpu: WebGPU declined (WEBRNN_BACKEND=cpu or enabled: false))',
      );
      expect(log).toHaveBeenLastCalledWith(`backend: cpu (${auto.reason})`);
      await expect(chooseBackend('webgpu', unmeasured)).rejects.toThrow(
        /^--backend webgpu: .*WEBRNN_BACKEND=cpu/,
      );
    } finally {
      delete process.env.WEBRNN_BACKEND;
      log.mockRestore();
    }
  });
});

describe('Progress', () => {
  const fakeStream = (isTTY: boolean) => {
    const writes: string[] = [];
    return {
      writes,
      stream: { isTTY, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream,
    };
  };

  it('in a log, prints every N iterations plus the first and the last', () => {
    const { writes, stream } = fakeStream(false);
    const p = new Progress(1000, { every: 250, stream });
    for (let i = 1; i <= 1000; i++) p.update(i, 1 / i);
    expect(writes.map((w) => w.split(' ').filter(Boolean)[1])).toEqual([
      '1/1000',
      '250/1000',
      '500/1000',
      '750/1000',
      '1000/1000',
    ]);
    expect(writes[4]).toMatch(/^iteration 1000\/1000 {2}loss 1\.000e-3 {2}[\d.]+ it\/s {2}[\d.]+ s\n$/);
  });

  it('in a log without N, prints about once a second; on a TTY rewrites one line', () => {
    const log = fakeStream(false);
    const p = new Progress(10_000, { stream: log.stream });
    for (let i = 1; i <= 10_000; i++) p.update(i, 0.5);
    expect(log.writes.length).toBeLessThanOrEqual(2 + Math.ceil(p.seconds));
    const tty = fakeStream(true);
    const q = new Progress(3, { stream: tty.stream });
    for (let i = 1; i <= 3; i++) q.update(i, 0.5);
    expect(tty.writes.every((w) => w.startsWith('\r'))).toBe(true);
    expect(tty.writes.at(-1)!.endsWith('\n')).toBe(true);
  });
});

describe('plots and summary', () => {
  it('lineChart writes an SVG and a PNG, with a log scale too', async () => {
    const out = tmpDir();
    const xs = [1, 2, 3, 4];
    const files = await lineChart(
      {
        title: 'a chart',
        xLabel: 'x',
        yLabel: 'y',
        logY: true,
        series: [
          { name: 'raw', xs, ys: [1, 0.1, 0.01, 0.001], faint: true },
          { name: 'smooth', xs, ys: movingAverage([1, 0.1, 0.01, 0.001], 2), dashed: true },
        ],
      },
      path.join(out, 'sub', 'chart'),
    );
    expect(files).toEqual([path.join(out, 'sub', 'chart.svg'), path.join(out, 'sub', 'chart.png')]);
    expectPlot(path.join(out, 'sub', 'chart'));
  });

  it('movingAverage averages the trailing window', () => {
    expect(movingAverage([1, 3, 5, 7], 2)).toEqual([1, 2, 4, 6]);
  });

  it('summary aligns the rows and lists the files', () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const text = summary({
      title: 't',
      rows: [
        ['loss', '0.1'],
        ['one-step MSE', '0.01'],
      ],
      outDir: '/tmp/x',
      files: ['/tmp/x/a.svg', '/tmp/x/a.png'],
    });
    log.mockRestore();
    expect(text).toBe(
      '\n== t ==\nloss          0.1\none-step MSE  0.01\nfiles         /tmp/x/\n              a.svg  a.png',
    );
  });
});
