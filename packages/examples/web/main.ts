import {
  type DeviceName,
  type Tensor,
  chooseDevice,
  defaultGenerator,
  initWebGPU,
  io,
  manualSeed,
  nn,
  noGrad,
  tidy,
  unbind,
  zeros,
} from '@webrnn/rnn';
import {
  type CosData,
  EVAL_START,
  TRAIN_END,
  buildModel,
  cosData,
  cosProbe,
  predictNext,
} from '../src/cosModel.js';
import { drawChart } from './chart.js';

/**
 * The cos example trained live in a page (served by `pnpm --filter @webrnn/examples run web`): on the device that
 * core's chooseDevice measures faster for this model (the probe cos.ts's `--backend auto` times), the CPU where the
 * browser has no WebGPU adapter; a backend switch that moves the model mid-training; the loss curve and the
 * one-step and multi-step forecasts redrawn as they improve; the model downloadable as .safetensors.
 * The address may set `?backend=auto|cpu|webgpu`, `?iterations=N` and `?autostart`. `globalThis.webrnnDemo` shows
 * the state (read by the screenshot test).
 */
const query = new URLSearchParams(location.search);
const S = {
  hidden: 32,
  rho: 10,
  batch: 32,
  lr: 0.5,
  iterations: Math.max(1, Number(query.get('iterations') ?? 2000) || 2000),
  predict: 100,
};

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  backend: $<HTMLSelectElement>('backend'),
  start: $<HTMLButtonElement>('start'),
  reset: $<HTMLButtonElement>('reset'),
  download: $<HTMLButtonElement>('download'),
  status: $<HTMLSpanElement>('status'),
};

interface Demo {
  device: DeviceName;
  /** Why this device: `measured: cpu 12 ms/step, webgpu 40 ms/step on ...` for auto, as cos.ts prints it. */
  reason: string;
  /** The shape class measured (the key of cos.ts's probe at these sizes); '' when nothing was measured. */
  probeKey: string;
  adapter: string;
  iteration: number;
  losses: number[];
  evaluations: number;
  running: boolean;
  downloads: number;
  error: string;
}
const demo: Demo = {
  device: 'cpu',
  reason: '',
  probeKey: '',
  adapter: '',
  iteration: 0,
  losses: [],
  evaluations: 0,
  running: false,
  downloads: 0,
  error: '',
};
(globalThis as { webrnnDemo?: Demo }).webrnnDemo = demo;

let model: nn.Module;
let data: CosData;
let zerosForEarlierSteps: Tensor[] = [];
let offsets: number[] = [];
const criterion = new nn.MSECriterion();

function useDevice(device: DeviceName): void {
  demo.device = device;
  model = model.to(device);
  data = cosData(S.rho, device);
  for (const z of zerosForEarlierSteps) z.dispose();
  // Only the last step is scored: the earlier steps get zero gradients (the tutorial's gradOutputsZeroed).
  zerosForEarlierSteps = Array.from({ length: S.rho - 1 }, () => zeros([S.batch, 1], { device }));
}

function reset(): void {
  model?.dispose();
  manualSeed(1);
  model = buildModel(S.hidden, false);
  offsets = Array.from({ length: S.batch }, () => Math.floor(defaultGenerator.next() * (TRAIN_END - S.rho)));
  demo.iteration = 0;
  demo.losses = [];
  useDevice(demo.device);
}

/** One iteration of cos.ts's training loop: a window at every offset, MSE of the last step, SGD. */
async function step(): Promise<void> {
  const lr = S.lr * (1 - demo.iteration / S.iterations);
  model.training();
  const loss = tidy(() => {
    const inputs = unbind(data.windowsAt(offsets), 0);
    const y = data.nextValuesAt(offsets);
    model.zeroGradParameters();
    const outputs = model.forward(inputs) as Tensor[];
    const err = criterion.forward(outputs[S.rho - 1]!, y);
    model.backward(inputs, [...zerosForEarlierSteps, criterion.backward(outputs[S.rho - 1]!, y)]);
    model.updateParameters(lr);
    return err;
  });
  demo.losses.push(await loss.item());
  loss.dispose();
  offsets = offsets.map((o) => (o + 2 * S.rho < TRAIN_END ? o + S.rho : 0));
  demo.iteration++;
}

const xsFrom = (start: number, n: number) => Array.from({ length: n }, (_, i) => start + i);

/** One-step forecasts (all windows as one batch) and a multi-step forecast fed its own predictions. */
async function forecast(): Promise<void> {
  model.evaluate();
  const truth = data.sequence.slice(EVAL_START + S.rho, EVAL_START + S.rho + S.predict);
  const starts = xsFrom(EVAL_START, S.predict);
  const out = noGrad(() => tidy(() => predictNext(model, data.windowsAt(starts), false)));
  const oneStep = Array.from(await out.data());
  out.dispose();
  const fed = data.sequence.slice(EVAL_START, EVAL_START + S.rho);
  for (let i = 0; i < S.predict; i++) {
    const next = noGrad(() => tidy(() => predictNext(model, data.windowsAt([i], fed), false)));
    fed.push((await next.data())[0]!);
    next.dispose();
  }
  const xs = xsFrom(EVAL_START + S.rho, S.predict);
  const cosSeries = { name: 'cos(x)', xs, ys: truth, color: '#888' };
  drawChart($('one-step'), [cosSeries, { name: 'predicted', xs, ys: oneStep, color: '#d62728' }]);
  drawChart($('multi-step'), [
    cosSeries,
    { name: 'predicted', xs, ys: fed.slice(S.rho), color: '#1f77b4' },
    { name: 'given', xs: xsFrom(EVAL_START, S.rho), ys: fed.slice(0, S.rho), color: '#2ca02c', dashed: true },
  ]);
  demo.evaluations++;
}

function drawLoss(): void {
  const xs = xsFrom(1, demo.losses.length);
  drawChart($('loss'), [{ name: 'loss', xs, ys: demo.losses, color: '#ff7f0e' }], true);
}

function showStatus(extra = ''): void {
  const last = demo.losses.at(-1);
  ui.status.textContent =
    `${demo.device}${demo.device === 'webgpu' ? ` (${demo.adapter})` : ''} · iteration ${demo.iteration}/${S.iterations}` +
    `${last === undefined ? '' : ` · loss ${last.toExponential(3)}`}${extra}`;
  ui.start.textContent = demo.running ? 'pause' : 'start';
}

async function train(): Promise<void> {
  demo.running = true;
  showStatus();
  const t0 = performance.now();
  const i0 = demo.iteration;
  try {
    while (demo.running && demo.iteration < S.iterations) {
      await step();
      if (demo.iteration % 10 === 0) {
        drawLoss();
        const rate = ((demo.iteration - i0) * 1000) / (performance.now() - t0);
        showStatus(` · ${rate.toFixed(1)} it/s`);
        await new Promise((r) => setTimeout(r)); // let the page draw and take clicks
      }
      if (demo.iteration % 100 === 0) await forecast();
    }
    drawLoss();
    await forecast();
  } catch (e) {
    demo.error = `${(e as Error).name}: ${(e as Error).message}`;
    ui.status.textContent = demo.error;
  }
  demo.running = false;
  showStatus();
}

ui.start.onclick = () => {
  if (demo.running) demo.running = false;
  else void train();
};
ui.reset.onclick = () => {
  demo.running = false;
  reset();
  drawLoss();
  showStatus();
};
ui.backend.onchange = () => {
  // Between iterations: the loop sees the new device at its next step (training goes on from where it was).
  useDevice(ui.backend.value as DeviceName);
  showStatus();
};
ui.download.onclick = async () => {
  const meta = { iteration: demo.iteration, hidden: S.hidden, rho: S.rho, trainedOn: demo.device };
  await io.downloadModule('cos.safetensors', model, meta);
  demo.downloads++;
};

/**
 * The device to start on: `?backend=cpu` or `webgpu` as asked (the CPU without an adapter); `auto` (the default) as
 * cos.ts's `--backend auto`: chooseDevice times one training step of this model at these sizes on each device.
 * WebGPU is initialised first so that it stays up for the switch whichever device wins.
 */
async function chooseStart(gpu: boolean): Promise<{ device: DeviceName; reason: string }> {
  const wanted = query.get('backend') ?? 'auto';
  if (wanted === 'cpu') return { device: 'cpu', reason: 'asked for with ?backend=cpu' };
  if (!gpu) return { device: 'cpu', reason: 'no WebGPU adapter here' };
  if (wanted === 'webgpu') return { device: 'webgpu', reason: 'asked for with ?backend=webgpu' };
  const auto = cosProbe(S, false);
  demo.probeKey = auto.key;
  ui.status.textContent = 'measuring which device trains this model faster';
  const { device, reason } = await chooseDevice(auto.probe, { key: auto.key });
  return { device, reason };
}

async function boot(): Promise<void> {
  ui.start.disabled = true; // until the model is built on the chosen device
  const gpu = await initWebGPU();
  const webgpuOption = ui.backend.querySelector<HTMLOptionElement>('option[value=webgpu]')!;
  if (gpu)
    demo.adapter = [gpu.adapter.vendor, gpu.adapter.architecture].filter(Boolean).join(' ') || 'WebGPU';
  else webgpuOption.disabled = true;
  try {
    Object.assign(demo, await chooseStart(gpu !== null));
  } catch (e) {
    // A probe that fails on one device: train on the CPU and say why.
    Object.assign(demo, { device: 'cpu', reason: `the measurement failed: ${(e as Error).message}` });
  }
  $('choice').textContent = `backend: ${demo.device} (${demo.reason})`;
  ui.backend.value = demo.device;
  reset();
  ui.start.disabled = false;
  showStatus();
  if (query.has('autostart')) await train();
}
void boot();
