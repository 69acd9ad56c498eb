/**
 * An experiment for the speed issue: a persistent LSTM kernel, in which one workgroup per sequence loops over all
 * time steps with the hidden state in workgroup memory (one thread per unit, a barrier between steps), against
 * our regular path (core's lstmSequence: per step a matmul, an add and the fused cell, each its own dispatch).
 * Forward only (inference), float32, gates in SeqLSTM's order i, f, o, g; the input projection gx is given to both.
 * Checks that both agree with the CPU, then prints milliseconds per sequence for a few sizes.
 *
 *   node bench/dist/persistentLstm.js
 */
import {
  type Tensor,
  type WebGPUBackend,
  initWebGPU,
  lstmSequence,
  manualSeed,
  noGrad,
  randn,
  zeros,
} from '@webrnn/rnn';

/** WGSL of the persistent kernel for hidden size H (a specialisation: H threads, H floats of shared state). */
function persistentSource(H: number): string {
  return `
struct U { T: u32, N: u32 }
@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read> gx: array<f32>;
@group(0) @binding(2) var<storage, read> wh: array<f32>;
@group(0) @binding(3) var<uniform> u: U;
var<workgroup> hs: array<f32, ${H}>;
fn sigm(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }
@compute @workgroup_size(${H})
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let j = lid.x;
  let n = wid.x;
  let H = ${H}u;
  hs[j] = 0.0;
  var c = 0.0;
  workgroupBarrier();
  for (var t = 0u; t < u.T; t++) {
    let base = (t * u.N + n) * 4u * H;
    var gi = gx[base + j];
    var gf = gx[base + H + j];
    var go = gx[base + 2u * H + j];
    var gg = gx[base + 3u * H + j];
    for (var i = 0u; i < H; i++) {
      let hv = hs[i];
      let row = i * 4u * H;
      gi += hv * wh[row + j];
      gf += hv * wh[row + H + j];
      go += hv * wh[row + 2u * H + j];
      gg += hv * wh[row + 3u * H + j];
    }
    c = sigm(gf) * c + sigm(gi) * tanh(clamp(gg, -15.0, 15.0));
    let h = sigm(go) * tanh(clamp(c, -15.0, 15.0));
    workgroupBarrier();
    hs[j] = h;
    out[(t * u.N + n) * H + j] = h;
    workgroupBarrier();
  }
}`;
}

async function persistent(
  backend: WebGPUBackend,
  gx: Float32Array,
  wh: Float32Array,
  T: number,
  N: number,
  H: number,
) {
  const device = backend.device;
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
  const buf = (data: Float32Array | Uint32Array, extra = 0) => {
    const b = device.createBuffer({ size: Math.max(16, data.byteLength), usage: usage | extra });
    device.queue.writeBuffer(b, 0, data);
    return b;
  };
  const out = device.createBuffer({ size: T * N * H * 4, usage });
  const gxb = buf(gx);
  const whb = buf(wh);
  const ub = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(ub, 0, new Uint32Array([T, N, 0, 0]));
  const pipeline = device.createComputePipeline({
    layout: 'auto',
    compute: { module: device.createShaderModule({ code: persistentSource(H) }), entryPoint: 'main' },
  });
  const group = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [out, gxb, whb]
      .map((b, i) => ({ binding: i, resource: { buffer: b } }))
      .concat([{ binding: 3, resource: { buffer: ub } }]),
  });
  const read = device.createBuffer({
    size: T * N * H * 4,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const run = async () => {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(N);
    pass.end();
    enc.copyBufferToBuffer(out, 0, read, 0, T * N * H * 4);
    device.queue.submit([enc.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    const r = new Float32Array(read.getMappedRange().slice(0));
    read.unmap();
    return r;
  };
  return { run, destroy: () => [out, gxb, whb, ub, read].forEach((b) => b.destroy()) };
}

async function timeMs(fn: () => Promise<unknown>, runs = 10): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

async function main() {
  const backend = await initWebGPU();
  if (!backend) throw new Error('no WebGPU adapter');
  console.log('| T | N | H | regular (ms/seq) | persistent (ms/seq) | speed-up | max |diff| vs CPU |');
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const [T, N, H] of [
    [100, 1, 32],
    [100, 1, 64],
    [100, 8, 64],
    [100, 1, 128],
    [50, 32, 128],
  ] as const) {
    manualSeed(T + N + H);
    const gxCpu = randn([T, N, 4 * H]);
    const whCpu = randn([H, 4 * H]).mul(1 / Math.sqrt(H));
    const want = noGrad(() => lstmSequence(gxCpu, whCpu, zeros([N, H]), zeros([N, H]))[0]).dataSync();
    const [gx, wh] = [gxCpu.to('webgpu'), whCpu.to('webgpu')];
    const [h0, c0] = [zeros([N, H], { device: 'webgpu' }), zeros([N, H], { device: 'webgpu' })];
    const regular = async () => {
      const [out, cells] = noGrad(() => lstmSequence(gx, wh, h0, c0));
      const r = await (out as Tensor).data();
      out.dispose();
      cells.dispose();
      return r;
    };
    const p = await persistent(
      backend,
      gxCpu.dataSync() as Float32Array,
      whCpu.dataSync() as Float32Array,
      T,
      N,
      H,
    );
    const got = await p.run();
    const reg = await regular();
    let diff = 0;
    for (let i = 0; i < want.length; i++)
      diff = Math.max(diff, Math.abs(got[i]! - want[i]!), Math.abs(reg[i]! - want[i]!));
    const a = await timeMs(regular);
    const b = await timeMs(p.run);
    console.log(
      `| ${T} | ${N} | ${H} | ${a.toFixed(2)} | ${b.toFixed(2)} | ${(a / b).toFixed(1)}x | ${diff.toExponential(1)} |`,
    );
    p.destroy();
    for (const t of [gx, wh, h0, c0, gxCpu, whCpu]) t.dispose();
  }
  backend.destroy();
}

await main();
