/**
 * Where the persistent LSTM forward (core's WebGPU lstmSequence, one launch for all steps) stops paying: for a grid
 * of batch N and hidden H, CPU time per sequence (process.cpuUsage, which counts the software adapter's worker
 * threads too, and is steadier than wall-clock on a shared machine) of lstmSequence's forward without a tape, with
 * the persistent kernel forced on and forced off, alternating. Prints a markdown table with the ratio; the
 * crossover in N * H * R goes into PERSISTENT_LSTM_MAX_WORK (core/src/backends/webgpu/lstmSequence.ts).
 *
 *   node bench/dist/persistentCrossover.js [T] [reps]     (GRID_N=1,4 GRID_H=64,128 to choose the grid)
 */
import { type Tensor, initWebGPU, lstmSequence, manualSeed, noGrad, randn, zeros } from '@webrnn/rnn';

const T = Number(process.argv[2] ?? 50);
const REPS = Number(process.argv[3] ?? 5);
const GRID: [number, number][] = [];
const HS = (process.env.GRID_H ?? '16,32,64,128,256').split(',').map(Number);
const NS = (process.env.GRID_N ?? '1,4,16,64').split(',').map(Number);
for (const H of HS) for (const N of NS) GRID.push([N, H]);

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function main() {
  const gpu = await initWebGPU();
  if (!gpu) throw new Error('no WebGPU adapter');
  console.log(`T = ${T}; CPU ms per sequence (median of ${REPS}), forward without a tape`);
  console.log('| N | H | N*H*H | per-step | persistent | per-step / persistent |');
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const [N, H] of GRID) {
    manualSeed(N * 1000 + H);
    const gx = randn([T, N, 4 * H], { device: 'webgpu' });
    const wh = randn([H, 4 * H], { device: 'webgpu' }).mul(1 / Math.sqrt(H));
    const [h0, c0] = [zeros([N, H], { device: 'webgpu' }), zeros([N, H], { device: 'webgpu' })];
    const once = async () => {
      const [y, c] = noGrad(() => lstmSequence(gx, wh, h0, c0)) as [Tensor, Tensor];
      await y.data();
      y.dispose();
      c.dispose();
    };
    const times: Record<'never' | 'always', number[]> = { never: [], always: [] };
    for (let r = 0; r <= REPS; r++) {
      for (const mode of ['never', 'always'] as const) {
        gpu.persistentLstm = mode;
        const t0 = cpuMs();
        await once();
        // The first round compiles the pipelines: not counted.
        if (r > 0) times[mode].push(cpuMs() - t0);
      }
    }
    const med = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
    const [a, b] = [med(times.never), med(times.always)];
    console.log(
      `| ${N} | ${H} | ${N * H * H} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(a / b).toFixed(2)}x |`,
    );
    for (const t of [gx, wh, h0, c0]) t.dispose();
  }
  gpu.destroy();
}

await main();
