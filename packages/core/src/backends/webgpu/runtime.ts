/// <reference types="@webgpu/types" />
import type { Kernel } from '@webrnn/kernels';
import { WebrnnError } from '../../errors.js';

/**
 * What every WebGPU kernel launch needs, in one place: a buffer pool by power-of-two size class (a freed buffer
 * returns to the pool only after the commands that use it are submitted), the pipeline cache keyed by kernel key,
 * and one command encoder that collects many dispatches until a read (or a full batch) submits them. Errors the
 * device reports asynchronously are kept with the op and kernel that were running, and thrown at the next read.
 */
const USAGE = 0x80 | 0x04 | 0x08; // STORAGE | COPY_SRC | COPY_DST
const MAX_PENDING = 512;

export class GpuRuntime {
  private readonly pool = new Map<number, GPUBuffer[]>();
  private releasing: GPUBuffer[] = [];
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly staging = new Map<number, GPUBuffer[]>();
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private pending = 0;
  private lastLaunch = '';
  private error: string | null = null;
  readonly stats = { liveBuffers: 0, liveBytes: 0, pooledBuffers: 0, pooledBytes: 0 };
  private readonly dump = typeof process !== 'undefined' && process.env?.WEBRNN_DUMP_WGSL === '1';

  constructor(readonly device: GPUDevice) {
    device.addEventListener('uncapturederror', (ev) => {
      const msg = (ev as GPUUncapturedErrorEvent).error.message;
      this.error ??= `${this.lastLaunch}: ${msg}`;
    });
    device.lost.then((info) => {
      this.error ??= `the WebGPU device was lost (${info.reason}): ${info.message}`;
    });
  }

  /** A buffer of at least `bytes` (pooled by power-of-two size). */
  acquire(bytes: number): GPUBuffer {
    const size = Math.max(16, 2 ** Math.ceil(Math.log2(Math.max(bytes, 1))));
    if (size > this.device.limits.maxBufferSize) {
      throw new WebrnnError(
        'webgpu',
        `cannot allocate ${bytes} bytes: the adapter's largest buffer is ${this.device.limits.maxBufferSize} bytes`,
      );
    }
    const list = this.pool.get(size);
    let buf = list?.pop();
    if (buf) {
      this.stats.pooledBuffers--;
      this.stats.pooledBytes -= size;
    } else buf = this.device.createBuffer({ size, usage: USAGE });
    this.stats.liveBuffers++;
    this.stats.liveBytes += size;
    return buf;
  }

  /** Give a buffer back; it is reused only after the work recorded so far has been submitted. */
  release(buf: GPUBuffer): void {
    this.stats.liveBuffers--;
    this.stats.liveBytes -= buf.size;
    this.releasing.push(buf);
  }

  /** A small buffer holding `data` for one launch (released with the batch). */
  upload(data: Int32Array | Float32Array): GPUBuffer {
    const buf = this.acquire(data.byteLength);
    this.device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
    return buf;
  }

  private pipeline(k: Kernel, op: string): GPUComputePipeline {
    let p = this.pipelines.get(k.key);
    if (!p) {
      if (this.dump) console.log(`// ${op}: ${k.key}\n${k.code}`);
      this.lastLaunch = `${op} (compiling kernel ${k.key})`;
      p = this.device.createComputePipeline({
        layout: 'auto',
        compute: { module: this.device.createShaderModule({ code: k.code }), entryPoint: 'main' },
      });
      this.pipelines.set(k.key, p);
    }
    return p;
  }

  /** Record one dispatch: buffers[i] bound at binding i (holes: bindings the kernel does not declare). */
  dispatch(
    op: string,
    k: Kernel,
    buffers: readonly (GPUBuffer | undefined)[],
    groups: readonly [number, number, number],
  ): void {
    if (groups[0] === 0 || groups[1] === 0 || groups[2] === 0) return;
    const pipe = this.pipeline(k, op);
    this.lastLaunch = `${op} (kernel ${k.key})`;
    this.encoder ??= this.device.createCommandEncoder();
    this.pass ??= this.encoder.beginComputePass();
    this.pass.setPipeline(pipe);
    this.pass.setBindGroup(
      0,
      this.device.createBindGroup({
        layout: pipe.getBindGroupLayout(0),
        entries: buffers.flatMap((buffer, binding) => (buffer ? [{ binding, resource: { buffer } }] : [])),
      }),
    );
    this.pass.dispatchWorkgroups(groups[0], groups[1], groups[2]);
    if (++this.pending >= MAX_PENDING) this.submit();
  }

  /** Record a buffer copy (ends the open compute pass). */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.pass?.end();
    this.pass = null;
    this.encoder ??= this.device.createCommandEncoder();
    this.encoder.copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  /** Submit the recorded work; the buffers released meanwhile become reusable. */
  submit(): void {
    if (this.encoder) {
      this.pass?.end();
      this.pass = null;
      this.device.queue.submit([this.encoder.finish()]);
      this.encoder = null;
      this.pending = 0;
    }
    for (const b of this.releasing) {
      const list = this.pool.get(b.size) ?? [];
      list.push(b);
      this.pool.set(b.size, list);
      this.stats.pooledBuffers++;
      this.stats.pooledBytes += b.size;
    }
    this.releasing = [];
  }

  /** Copy `bytes` at `offset` of `buf` to the host, after all recorded work. */
  async readBack(buf: GPUBuffer, offset: number, bytes: number): Promise<ArrayBuffer> {
    const size = Math.max(16, 2 ** Math.ceil(Math.log2(Math.max(bytes, 4))));
    // Staging buffers are kept and reused (destroying one right after reading it upsets Dawn in Node).
    const staging = this.staging.get(size)?.pop() ?? this.device.createBuffer({ size, usage: 0x01 | 0x08 }); // MAP_READ | COPY_DST
    if (bytes > 0) this.copy(buf, offset, staging, 0, Math.ceil(bytes / 4) * 4);
    this.submit();
    await staging.mapAsync(0x0001);
    const data = staging.getMappedRange().slice(0, bytes);
    staging.unmap();
    const list = this.staging.get(size) ?? [];
    list.push(staging);
    this.staging.set(size, list);
    this.throwPending();
    return data;
  }

  /** Throw the first error the device reported since the last check. */
  throwPending(): void {
    if (this.error) {
      const e = this.error;
      this.error = null;
      throw new WebrnnError('webgpu', e);
    }
  }

  destroy(): void {
    this.pool.clear();
    this.staging.clear();
    this.device.destroy();
  }
}
