/**
 * The part of the WebAssembly JS API the CPU kernels use, typed here: this package compiles without the DOM
 * library, and Node's types of this version do not declare the global. Absent (undefined) on hosts without it.
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}

/** A compiled module: opaque, but it can be posted to a worker and instantiated there. */
export interface WasmModule {
  readonly __wasmModule?: never;
}

export interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Memory: new (d: { initial: number; maximum: number; shared?: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (
    module: WasmModule,
    imports: Record<string, Record<string, unknown>>,
  ) => { readonly exports: Record<string, unknown> };
}

export const wasmApi: WasmApi | undefined = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
