import { afterEach, describe, expect, it } from 'vitest';
import { type DeviceName, defaultGenerator, forgetDeviceChoices, manualSeed, memory, nn } from '@webrnn/rnn';
import { main as cos } from '../src/cos.js';
import { chooseBackend } from '../src/shared/backend.js';
import { stepsOf, trainingProbe, values } from '../src/shared/probe.js';
import { runExample } from '../src/shared/runExample.js';
import { printed, quietly, tmpDir } from './helpers.js';
import { webgpuForFile } from '../../core/test/helpers/webgpu.js';

/**
 * `--backend auto` by measurement (shared/backend.ts over core's chooseDevice): the probe times the program's model
 * on each device without touching the run (same losses as the chosen device given explicitly), frees what it
 * made and reports its failures (shared.test.ts: `--backend cpu` neither measures nor starts Dawn).
 */

afterEach(() => forgetDeviceChoices());

const tinyCos = [
  '--hidden',
  '8',
  '--batch',
  '8',
  '--rho',
  '5',
  '--predict',
  '10',
  '--iterations',
  '6',
  '--eval-one-step',
];

// The real measurement needs both devices (lavapipe here); where there is no adapter the probe never runs.
const gpu = await webgpuForFile('autoBackend');

describe('--backend auto', () => {
  it.skipIf(!gpu)(
    'prints the device chosen with both figures; a run with auto loses exactly what the chosen device does',
    async () => {
      const [auto, lines] = await printed(() => cos(['--backend', 'auto', ...tinyCos, '--out', tmpDir()]));
      const line = lines.find((l) => l.startsWith('backend: '))!;
      expect(line).toMatch(
        /^backend: (cpu|webgpu) \(measured: cpu [\d.]+ ms\/step, webgpu [\d.]+ ms\/step on \S+\)$/,
      );
      const [, chosen, cpuMs, gpuMs] = line.match(
        /^backend: (\w+) \(measured: cpu ([\d.]+) .*webgpu ([\d.]+) /,
      )!;
      expect(chosen).toBe(Number(gpuMs) < Number(cpuMs) ? 'webgpu' : 'cpu');
      expect(auto!.device).toBe(chosen);
      const given = (await quietly(() => cos(['--backend', chosen!, ...tinyCos, '--out', tmpDir()])))!;
      expect(auto!.losses).toEqual(given.losses);
      expect(auto!.oneStepMse).toBe(given.oneStepMse);
    },
    300_000,
  );

  it.skipIf(!gpu)(
    "the probe's models and batches are gone on both devices afterwards; the key is measured once",
    async () => {
      let built = 0;
      const probe = trainingProbe('lstm', { hidden: 6 }, (d) => {
        built++;
        return [
          {
            model: new nn.Sequencer(new nn.FastLSTM(4, 6)).to(d),
            input: stepsOf(3, () => values([2, 4], d)),
          },
        ];
      });
      const m0 = memory();
      const [first] = await printed(() => chooseBackend('auto', probe));
      const m1 = memory();
      expect([m1.tensors, m1.storages, m1.bytes]).toEqual([m0.tensors, m0.storages, m0.bytes]);
      expect(m1.webgpu!.liveBuffers).toBe(m0.webgpu!.liveBuffers);
      expect(built).toBe(2);
      const [again] = await printed(() => chooseBackend('auto', probe));
      expect(again).toEqual(first);
      expect(built).toBe(2);
    },
    120_000,
  );

  it.skipIf(!gpu)(
    'a probe that fails says so, names the device and phase, and how to skip the measurement',
    async () => {
      const broken = trainingProbe('broken', { hidden: 3 }, (d) => [
        {
          model: {
            training: () => {},
            zeroGradParameters: () => {},
            forward: () => {
              throw new Error('no such layer');
            },
            dispose: () => {},
          } as never,
          input: values([2, 3], d),
        },
      ]);
      const err = await chooseBackend('auto', broken).catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toBe(
        '--backend auto: chooseDevice: the probe failed on cpu (warm-up step 1): no such layer ' +
          '(--backend cpu or --backend webgpu skips the measurement)',
      );
    },
  );

  it.skipIf(!gpu)(
    "runExample's auto measures the probe built from the parsed options on both devices; the body starts from --seed",
    async () => {
      const built: [DeviceName, number][] = [];
      const example = {
        program: 'sized',
        description: 'a probe sized by its flags',
        options: { hidden: { type: 'int', default: 4, help: 'units' } },
        probe: ({ options }: { options: { hidden: number } }) =>
          trainingProbe('sized', { hidden: options.hidden }, (d) => {
            built.push([d, options.hidden]);
            return [
              {
                model: new nn.Sequencer(new nn.FastLSTM(3, options.hidden)).to(d),
                input: stepsOf(2, () => values([2, 3], d)),
              },
            ];
          }),
        body: async ({ device }: { device: DeviceName }) => ({ device, draw: defaultGenerator.next() }),
      } as const;
      const [result, lines] = await printed(() =>
        runExample(example, ['--backend', 'auto', '--hidden', '5', '--seed', '9']),
      );
      expect(built).toEqual([
        ['cpu', 5],
        ['webgpu', 5],
      ]);
      expect(lines[0]).toMatch(
        /^backend: (cpu|webgpu) \(measured: cpu [\d.]+ ms\/step, webgpu [\d.]+ ms\/step on \S+\)$/,
      );
      expect(lines[0]!.startsWith(`backend: ${result!.device} `)).toBe(true);
      manualSeed(9);
      expect(result!.draw).toBe(defaultGenerator.next());
    },
    120_000,
  );
});
