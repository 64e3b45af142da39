/**
 * The host side of the WGSL kernels: compiles each module once into compute pipelines with an
 * explicit bind-group layout, keeps one GPU buffer per (module, binding) that grows and is reused
 * across runs, and runs a sequence of dispatches in one submission, reading the outputs back
 * through a reused staging buffer. Runs are serialized because they share those buffers.
 * Every submission sits inside error scopes, so a kernel that fails validation or runs out of
 * memory rejects instead of returning stale data.
 */
import { fromFloat16Array, toFloat16Array } from '../../spec/float16.ts';
import { bytesPerElement, type StorageType } from './storage-type.ts';

/** How a module's binding is accessed; slot 0 of every module is its uniform params. */
export interface KernelBinding {
  readonly name: string;
  readonly access: 'read' | 'read_write';
}

/** A WGSL module to compile: its source, bindings (slots 1…) and entry points. */
export interface KernelModuleSource {
  readonly label: string;
  readonly wgsl: string;
  readonly bindings: readonly KernelBinding[];
  readonly entryPoints: readonly string[];
}

/** One compute dispatch: an entry point of the run's module and its workgroup count. */
export interface KernelDispatch {
  readonly entryPoint: string;
  readonly workgroups: number;
}

/** One submission: inputs uploaded, f32 scratch sized, dispatches run in order, outputs read back. */
export interface KernelRun {
  readonly module: string;
  readonly params: Uint32Array<ArrayBuffer>;
  /** Input values by binding name (stored as the engine's storage type); absent bindings get an empty buffer. */
  readonly inputs: Readonly<Record<string, Float32Array | undefined>>;
  /** Bytes of f32 working memory by binding name (tile totals, accumulators). */
  readonly scratchBytes?: Readonly<Record<string, number>>;
  /** Element counts of the outputs to read back, by binding name. */
  readonly outputs: Readonly<Record<string, number>>;
  readonly dispatches: readonly KernelDispatch[];
}

/** What the engine has done so far: evidence that results came from GPU work. */
export interface KernelEngineStats {
  readonly submissions: number;
  readonly dispatches: number;
  readonly workgroups: number;
  readonly bytesUploaded: number;
  readonly bytesReadBack: number;
}

interface CompiledModule {
  readonly source: KernelModuleSource;
  readonly layout: GPUBindGroupLayout;
  readonly pipelines: ReadonlyMap<string, GPUComputePipeline>;
}

interface PooledBuffer {
  buffer: GPUBuffer;
  capacity: number;
}

const MINIMUM_BINDING_BYTES = 16;

/** Runs WGSL compute kernels on one device for one storage type. */
export class KernelEngine {
  readonly #device: GPUDevice;
  readonly #storage: StorageType;
  readonly #modules = new Map<string, CompiledModule>();
  readonly #buffers = new Map<string, PooledBuffer>();
  #queue: Promise<unknown> = Promise.resolve();
  #lostReason: string | undefined;
  #stats = { submissions: 0, dispatches: 0, workgroups: 0, bytesUploaded: 0, bytesReadBack: 0 };

  constructor(device: GPUDevice, storage: StorageType) {
    this.#device = device;
    this.#storage = storage;
    void device.lost.then((info) => {
      this.#lostReason = `${info.reason}: ${info.message}`;
    });
  }

  /** The device's limits (for splitting or declining large problems). */
  get limits(): GPUSupportedLimits {
    return this.#device.limits;
  }

  /** Counters of submissions, dispatches and bytes moved since creation. */
  get stats(): KernelEngineStats {
    return { ...this.#stats };
  }

  /** Labels and WGSL of every compiled module. */
  get modules(): readonly { readonly label: string; readonly wgsl: string; readonly entryPoints: readonly string[] }[] {
    return [...this.#modules.values()].map(({ source }) => ({ label: source.label, wgsl: source.wgsl, entryPoints: source.entryPoints }));
  }

  /** Compiles a module into one compute pipeline per entry point; rejects with the compiler's messages. */
  async compile(source: KernelModuleSource): Promise<void> {
    const device = this.#device;
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ label: source.label, code: source.wgsl });
    const info = await module.getCompilationInfo();
    const layout = device.createBindGroupLayout({
      label: `${source.label} layout`,
      entries: [
        { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } },
        ...source.bindings.map((b, i) => ({
          binding: i + 1,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: b.access === 'read' ? ('read-only-storage' as const) : ('storage' as const) },
        })),
      ],
    });
    const pipelineLayout = device.createPipelineLayout({ label: `${source.label} pipeline layout`, bindGroupLayouts: [layout] });
    // Synchronous creation: measured faster here than createComputePipelineAsync, whose completion
    // Dawn for Node only notices when it next polls; errors still land in the scope.
    const pipelines = new Map<string, GPUComputePipeline>();
    for (const entryPoint of source.entryPoints) {
      pipelines.set(entryPoint, device.createComputePipeline({ label: `${source.label}:${entryPoint}`, layout: pipelineLayout, compute: { module, entryPoint } }));
    }
    const scopeError = await device.popErrorScope();
    const errors = info.messages.filter((m) => m.type === 'error');
    if (errors.length > 0 || scopeError !== null) {
      const detail = errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join('; ') || scopeError?.message;
      throw new Error(`WGSL module '${source.label}' failed to compile: ${detail}`);
    }
    this.#modules.set(source.label, { source, layout, pipelines });
  }

  /** Runs one submission (serialized with every other run of this engine) and returns its outputs as float32. */
  run(request: KernelRun): Promise<Record<string, Float32Array>> {
    const result = this.#queue.then(() => this.#runNow(request));
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /** Destroys every buffer; the device itself belongs to the caller. */
  destroy(): void {
    for (const { buffer } of this.#buffers.values()) buffer.destroy();
    this.#buffers.clear();
    this.#modules.clear();
  }

  async #runNow(request: KernelRun): Promise<Record<string, Float32Array>> {
    if (this.#lostReason !== undefined) throw new Error(`WebGPU device lost (${this.#lostReason})`);
    const compiled = this.#modules.get(request.module);
    if (compiled === undefined) throw new Error(`WGSL module '${request.module}' was not compiled in setup`);
    const device = this.#device;
    const missing = Object.keys(request.outputs).filter((name) => !compiled.source.bindings.some((b) => b.name === name));
    if (missing.length > 0) throw new Error(`WGSL module '${request.module}' has no output binding ${missing.join(', ')}`);
    device.pushErrorScope('validation');
    device.pushErrorScope('out-of-memory');
    let encoded: { staging: GPUBuffer; stagingBytes: number; offsets: Map<string, number> } | undefined;
    let thrown: unknown;
    try {
      encoded = this.#encodeAndSubmit(request, compiled);
    } catch (error) {
      thrown = error;
    }
    // The scopes are popped on every path so a failed run leaves the device's scope stack balanced.
    const outOfMemory = await device.popErrorScope();
    const invalid = await device.popErrorScope();
    if (thrown !== undefined || encoded === undefined) throw thrown;
    const failure = invalid ?? outOfMemory;
    if (failure !== null) throw new Error(`WebGPU run of '${request.module}' failed: ${failure.message}`);
    const { staging, stagingBytes, offsets } = encoded;
    return this.#readBack(request, staging, stagingBytes, offsets);
  }

  #encodeAndSubmit(
    request: KernelRun,
    compiled: CompiledModule,
  ): { staging: GPUBuffer; stagingBytes: number; offsets: Map<string, number> } {
    const device = this.#device;
    const elementBytes = bytesPerElement(this.#storage);

    const params = this.#pooled(`${request.module}:params`, request.params.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    device.queue.writeBuffer(params, 0, request.params);
    const outputNames = Object.keys(request.outputs);
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: params, size: request.params.byteLength } }];
    const outputBuffers = new Map<string, { buffer: GPUBuffer; bytes: number }>();
    compiled.source.bindings.forEach((binding, i) => {
      let bytes: number;
      let upload: Float32Array | Uint16Array | undefined;
      if (binding.name in request.inputs) {
        const values = request.inputs[binding.name];
        if (values !== undefined && values.length > 0) upload = this.#storage === 'f16' ? toFloat16Array(values) : values;
        bytes = upload?.byteLength ?? 0;
      } else if (request.scratchBytes !== undefined && binding.name in request.scratchBytes) {
        bytes = request.scratchBytes[binding.name];
      } else if (binding.name in request.outputs) {
        bytes = alignTo4(request.outputs[binding.name] * elementBytes);
      } else {
        bytes = 0;
      }
      const bound = Math.max(bytes, MINIMUM_BINDING_BYTES);
      const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
      const buffer = this.#pooled(`${request.module}:${binding.name}`, bound, usage);
      if (upload !== undefined) {
        device.queue.writeBuffer(buffer, 0, upload.buffer, upload.byteOffset, upload.byteLength);
        this.#stats.bytesUploaded += upload.byteLength;
      }
      if (outputNames.includes(binding.name)) outputBuffers.set(binding.name, { buffer, bytes });
      entries.push({ binding: i + 1, resource: { buffer, size: bound } });
    });
    const bindGroup = device.createBindGroup({ label: `${request.module} bindings`, layout: compiled.layout, entries });

    const encoder = device.createCommandEncoder({ label: request.module });
    const pass = encoder.beginComputePass({ label: request.module });
    pass.setBindGroup(0, bindGroup);
    for (const { entryPoint, workgroups } of request.dispatches) {
      if (workgroups === 0) continue;
      const pipeline = compiled.pipelines.get(entryPoint);
      if (pipeline === undefined) throw new Error(`WGSL module '${request.module}' has no entry point ${entryPoint}`);
      pass.setPipeline(pipeline);
      const [x, y] = foldWorkgroups(workgroups, device.limits.maxComputeWorkgroupsPerDimension);
      pass.dispatchWorkgroups(x, y);
      this.#stats.dispatches += 1;
      this.#stats.workgroups += workgroups;
    }
    pass.end();

    let stagingBytes = 0;
    const offsets = new Map<string, number>();
    for (const [name, { bytes }] of outputBuffers) {
      offsets.set(name, stagingBytes);
      stagingBytes += bytes;
    }
    const staging = this.#pooled('readback', Math.max(stagingBytes, MINIMUM_BINDING_BYTES), GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    for (const [name, { buffer, bytes }] of outputBuffers) {
      if (bytes > 0) encoder.copyBufferToBuffer(buffer, 0, staging, offsets.get(name) ?? 0, bytes);
    }
    device.queue.submit([encoder.finish()]);
    this.#stats.submissions += 1;
    return { staging, stagingBytes, offsets };
  }

  async #readBack(
    request: KernelRun,
    staging: GPUBuffer,
    stagingBytes: number,
    offsets: ReadonlyMap<string, number>,
  ): Promise<Record<string, Float32Array>> {
    const outputNames = Object.keys(request.outputs);
    await staging.mapAsync(GPUMapMode.READ, 0, Math.max(stagingBytes, MINIMUM_BINDING_BYTES));
    const results: Record<string, Float32Array> = {};
    try {
      const mapped = staging.getMappedRange(0, Math.max(stagingBytes, MINIMUM_BINDING_BYTES));
      for (const name of outputNames) {
        const count = request.outputs[name];
        const offset = offsets.get(name) ?? 0;
        results[name] =
          this.#storage === 'f16'
            ? fromFloat16Array(new Uint16Array(mapped.slice(offset, offset + alignTo4(count * 2))), count)
            : new Float32Array(mapped.slice(offset, offset + count * 4));
      }
    } finally {
      staging.unmap();
    }
    this.#stats.bytesReadBack += stagingBytes;
    return results;
  }

  #pooled(key: string, bytes: number, usage: number): GPUBuffer {
    const existing = this.#buffers.get(key);
    if (existing !== undefined && existing.capacity >= bytes) return existing.buffer;
    existing?.buffer.destroy();
    // Grow geometrically so a growing series of runs reallocates O(log n) times, within the binding limit.
    const limit = key === 'readback' ? this.#device.limits.maxBufferSize : this.#device.limits.maxStorageBufferBindingSize;
    const grown = existing === undefined ? bytes : Math.max(bytes, Math.min(existing.capacity * 2, limit));
    const capacity = alignTo(Math.max(grown, MINIMUM_BINDING_BYTES), 16);
    const buffer = this.#device.createBuffer({ label: key, size: capacity, usage });
    this.#buffers.set(key, { buffer, capacity });
    return buffer;
  }
}

/** Splits a workgroup count into (x, y) within the per-dimension limit; kernels refold it as x + y·countX. */
export function foldWorkgroups(count: number, maxPerDimension: number): [number, number] {
  if (count <= maxPerDimension) return [count, 1];
  const y = Math.ceil(count / maxPerDimension);
  if (y > maxPerDimension) throw new RangeError(`${count} workgroups exceed ${maxPerDimension}² (maxComputeWorkgroupsPerDimension)`);
  return [maxPerDimension, y];
}

function alignTo4(bytes: number): number {
  return alignTo(bytes, 4);
}

function alignTo(bytes: number, alignment: number): number {
  return Math.ceil(bytes / alignment) * alignment;
}
