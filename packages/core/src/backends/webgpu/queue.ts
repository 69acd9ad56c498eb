/// <reference types="@webgpu/types" />
import type { FieldValues } from '@webrnn/kernels';
import { WebrnnError } from '../../errors.js';
import type { BufferPool } from './buffers.js';
import { DeviceChecks, STATUS_BYTES } from './checks.js';
import type { Compiled } from './pipelines.js';

const UNIFORM = 0x0040 | 0x0008; // UNIFORM | COPY_DST
const MAP_READ = 0x0001 | 0x0008; // MAP_READ | COPY_DST
/** Dispatches per submit: enough to amortise a submit, few enough that reads do not wait on a huge batch. */
const MAX_DISPATCHES = 256;
/** One uniform slot per dispatch, at the offset alignment WebGPU guarantees to accept. */
const SLOT_BYTES = 256;

/**
 * The first error the device reports (failed validation, out of memory, lost device), kept with the op that caused
 * it and thrown at the next read. Error scopes resolve asynchronously: `track` their promises so that a read waits
 * for them before it checks.
 */
export class ErrorLog {
  /** The earliest error by the order its scope was popped in (a failed compile before the submit it spoils). */
  private error: { seq: number; message: string } | null = null;
  private checks: Promise<unknown>[] = [];
  private seq = 0;

  fail(message: string, seq = Number.POSITIVE_INFINITY): void {
    if (!this.error || seq < this.error.seq) this.error = { seq, message };
  }

  /** Pop an error scope pushed by the caller; `describe` turns the error into the message to keep. */
  popScope(device: GPUDevice, describe: (message: string) => string): void {
    const seq = this.seq++;
    // Without reads the list would grow without bound: fold it now and then.
    if (this.checks.length >= 64) this.checks = [Promise.all(this.checks)];
    this.checks.push(
      device.popErrorScope().then(
        (e) => {
          if (e) this.fail(describe(e.message), seq);
        },
        () => {},
      ),
    );
  }

  /** Wait for the scopes popped so far, then throw the first error reported. */
  async settle(): Promise<void> {
    const checks = this.checks;
    this.checks = [];
    await Promise.all(checks);
    this.throwPending();
  }

  throwPending(): void {
    if (this.error) {
      const e = this.error.message;
      this.error = null;
      throw new WebrnnError('webgpu', e);
    }
  }
}

/**
 * Records launches into one command encoder (one compute pass) and submits them as a batch: when a value is read,
 * when a buffer with recorded work is written from the host, or when the batch is full. Each launch's uniforms go
 * into a slot of one host array, uploaded with a single writeBuffer just before the batch is submitted (queue
 * writes and submits run in order, so the uniform buffer can be reused by the next batch).
 */
export class CommandQueue {
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private readonly uniformBuffer: GPUBuffer;
  private readonly uniforms: Int32Array;
  private dispatches = 0;
  /** Buffers the recorded work uses: a host write to one of them must wait for that work. */
  private readonly inUse = new Set<GPUBuffer>();
  /** Ops recorded in the current batch, to name them when validating the batch fails. */
  private readonly ops = new Set<string>();
  private readonly staging = new Map<number, GPUBuffer[]>();
  /**
   * Bind groups by layout and buffers. The uniform slot is a dynamic offset, so one bind group serves every launch
   * of a kernel over the same buffers, and the pool hands the same buffers out again and again: in a training loop
   * nearly every launch finds its bind group here instead of creating one.
   */
  private readonly bindGroups = new Map<string, GPUBindGroup>();
  private readonly ids = new WeakMap<object, number>();
  private nextId = 0;
  /** Device-side errors: the status buffer checked kernels write, copied to the host with every read. */
  readonly checks: DeviceChecks;

  constructor(
    readonly device: GPUDevice,
    private readonly pool: BufferPool,
    private readonly errors: ErrorLog,
  ) {
    this.uniformBuffer = device.createBuffer({ size: SLOT_BYTES * MAX_DISPATCHES, usage: UNIFORM });
    this.uniforms = new Int32Array((SLOT_BYTES / 4) * MAX_DISPATCHES);
    this.checks = new DeviceChecks(device);
    device.addEventListener('uncapturederror', (ev) => {
      errors.fail((ev as GPUUncapturedErrorEvent).error.message);
    });
    device.lost.then(
      (info) => {
        if (info.reason !== 'destroyed') errors.fail(`the device was lost (${info.reason}): ${info.message}`);
      },
      () => {},
    );
  }

  /** Record one dispatch of `compiled` over `buffers` (in binding order) with its uniform `values`. */
  dispatch(
    op: string,
    compiled: Compiled,
    buffers: readonly GPUBuffer[],
    values: FieldValues,
    groups: readonly [number, number, number],
  ): void {
    if (groups[0] === 0 || groups[1] === 0 || groups[2] === 0) return;
    const { kernel } = compiled;
    if (kernel.uniforms.words * 4 > SLOT_BYTES) {
      throw new WebrnnError(op, `kernel ${kernel.key} needs more uniforms than a slot holds`);
    }
    const slot = this.dispatches++;
    kernel.uniforms.pack(values, this.uniforms, (slot * SLOT_BYTES) / 4);
    this.encoder ??= this.device.createCommandEncoder();
    this.pass ??= this.encoder.beginComputePass();
    this.pass.setPipeline(compiled.pipeline);
    this.pass.setBindGroup(0, this.bindGroup(compiled, buffers), [slot * SLOT_BYTES]);
    this.pass.dispatchWorkgroups(groups[0], groups[1], groups[2]);
    for (const b of buffers) this.inUse.add(b);
    this.ops.add(op);
    if (this.dispatches >= MAX_DISPATCHES) this.submit();
  }

  private id(o: object): number {
    let id = this.ids.get(o);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(o, id);
    }
    return id;
  }

  private bindGroup(compiled: Compiled, buffers: readonly GPUBuffer[]): GPUBindGroup {
    let key = `${this.id(compiled.layout)}`;
    for (const b of buffers) key += `,${this.id(b)}`;
    let group = this.bindGroups.get(key);
    if (!group) {
      // Entries of destroyed buffers are never looked up again; dropping everything now and then bounds them.
      if (this.bindGroups.size >= 4096) this.bindGroups.clear();
      const entries: GPUBindGroupEntry[] = buffers.map((buffer, binding) => ({
        binding,
        resource: { buffer },
      }));
      entries.push({
        binding: buffers.length,
        resource: { buffer: this.uniformBuffer, offset: 0, size: compiled.kernel.uniforms.words * 4 },
      });
      group = this.device.createBindGroup({ layout: compiled.layout, entries });
      this.bindGroups.set(key, group);
    }
    return group;
  }

  /** Upload host data to the start of `buffer`, after the recorded work that uses it. */
  write(buffer: GPUBuffer, data: ArrayBufferView): void {
    if (this.inUse.has(buffer)) this.submit();
    this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Submit the recorded work; the buffers released meanwhile become reusable. */
  submit(): void {
    if (this.encoder) {
      this.pass?.end();
      this.pass = null;
      if (this.dispatches > 0) {
        this.device.queue.writeBuffer(
          this.uniformBuffer,
          0,
          this.uniforms.buffer,
          0,
          this.dispatches * SLOT_BYTES,
        );
      }
      const ops = [...this.ops].join(', ');
      this.device.pushErrorScope('validation');
      this.device.queue.submit([this.encoder.finish()]);
      this.errors.popScope(this.device, (m) => `work recorded by ${ops} failed validation: ${m}`);
      this.encoder = null;
    }
    this.dispatches = 0;
    this.inUse.clear();
    this.ops.clear();
    this.pool.recycle();
  }

  /**
   * Copy `bytes` bytes at `offset` of `buffer` to the host, after all recorded work. The status words of
   * device-side errors travel in the same staging buffer, after the data (one submission, one map), and the status
   * is cleared in that submission: a bad index or divisor found by any work recorded so far throws here.
   */
  async read(buffer: GPUBuffer, offset: number, bytes: number): Promise<ArrayBuffer> {
    const padded = Math.ceil(bytes / 4) * 4;
    const size = Math.max(256, 2 ** Math.ceil(Math.log2(padded + STATUS_BYTES)));
    // Staging buffers are kept for reuse: mapping is the slow part, creating one each read adds to it.
    const staging = this.staging.get(size)?.pop() ?? this.device.createBuffer({ size, usage: MAP_READ });
    this.pass?.end();
    this.pass = null;
    this.encoder ??= this.device.createCommandEncoder();
    if (bytes > 0) this.encoder.copyBufferToBuffer(buffer, offset, staging, 0, padded);
    this.encoder.copyBufferToBuffer(this.checks.buffer, 0, staging, padded, STATUS_BYTES);
    this.encoder.clearBuffer(this.checks.buffer);
    const covered = this.checks.beginRead();
    this.submit();
    let data: ArrayBuffer;
    let status: Uint32Array;
    try {
      try {
        await staging.mapAsync(0x0001); // GPUMapMode.READ
      } catch (e) {
        await this.errors.settle();
        throw new WebrnnError('read', `reading from WebGPU failed: ${(e as Error).message}`);
      }
      const mapped = staging.getMappedRange(0, padded + STATUS_BYTES);
      data = mapped.slice(0, bytes);
      status = new Uint32Array(mapped.slice(padded, padded + STATUS_BYTES));
      staging.unmap();
      const list = this.staging.get(size);
      if (list) list.push(staging);
      else this.staging.set(size, [staging]);
      await this.errors.settle();
    } catch (e) {
      // A failed submission leaves the status meaningless: only the bookkeeping is done.
      this.checks.endRead(covered, null);
      throw e;
    }
    this.checks.endRead(covered, status);
    return data;
  }
}
