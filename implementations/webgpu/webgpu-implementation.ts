/**
 * A ScanImplementation whose six families run as WGSL compute kernels on a WebGPU device
 * (Dawn for Node): device, pipelines and buffers are acquired in setup, reused by every run and
 * released in dispose.
 */
import type { ScanImplementation } from '../../spec/implementation.ts';
import { DEFAULT_CAPACITY_LIMITS, type CapacityLimits } from './capacity.ts';
import { acquireWebGpuDevice, type WebGpuDeviceHandle } from './device.ts';
import { linearRecurrenceFamily } from './family-linear-recurrence.ts';
import { ltiSsmFamily } from './family-lti-ssm.ts';
import { mamba3SisoFamily } from './family-mamba3-siso.ts';
import { prefixSumFamily } from './family-prefix-sum.ts';
import { selectiveScanFamily } from './family-selective-scan.ts';
import { ssdFamily } from './family-ssd.ts';
import { KernelEngine, type KernelEngineStats } from './kernel-engine.ts';
import { kernelModules, type ShaderTransform } from './kernel-modules.ts';
import type { KernelRuntime } from './runtime.ts';
import type { StorageType } from './storage-type.ts';
import { warmUp } from './warm-up.ts';

/** The most storage buffers one of the kernels binds (selective-scan: 9 inputs, accumulator, y, lastState; ssd binds 11). */
export const STORAGE_BUFFERS_NEEDED = 12;

/** How to build a WebGPU implementation. */
export interface WebGpuImplementationOptions {
  readonly storage: StorageType;
  /** Registered name; 'webgpu-f32' / 'webgpu-f16' by default. */
  readonly name?: string;
  /** Rewrites each module's WGSL before compilation (fault-injection tests use it). */
  readonly transformShader?: ShaderTransform;
}

/** A compiled kernel as the implementation reports it. */
export interface CompiledKernel {
  readonly label: string;
  readonly wgsl: string;
  readonly entryPoints: readonly string[];
}

/** A WebGPU implementation, with evidence of its GPU work for tests and reports. */
export interface WebGpuScanImplementation extends ScanImplementation {
  setup(): Promise<void>;
  dispose(): Promise<void>;
  environment(): Readonly<Record<string, string>>;
  /** The WGSL modules compiled in setup (empty before setup and after dispose). */
  kernels(): readonly CompiledKernel[];
  /** Submissions, dispatches, workgroups and bytes moved since setup (zeros when not set up). */
  gpuStats(): KernelEngineStats;
}

const NO_STATS: KernelEngineStats = { submissions: 0, dispatches: 0, workgroups: 0, bytesUploaded: 0, bytesReadBack: 0 };

/** Builds the WebGPU implementation for one storage type. */
export function createWebGpuImplementation(options: WebGpuImplementationOptions): WebGpuScanImplementation {
  const { storage } = options;
  const name = options.name ?? `webgpu-${storage}`;
  let handle: WebGpuDeviceHandle | undefined;
  let engine: KernelEngine | undefined;

  const runtime: KernelRuntime = {
    storage,
    engine(): KernelEngine {
      if (engine === undefined) throw new Error(`${name}: setup() has not run (or dispose() has)`);
      return engine;
    },
    limits(): CapacityLimits {
      return engine?.limits ?? DEFAULT_CAPACITY_LIMITS;
    },
  };

  const description =
    storage === 'f32'
      ? 'WGSL compute kernels on WebGPU (Dawn), float32: reduce-then-scan over tiles for prefix-sum and linear-recurrence, one invocation per (batch, dim, n) state scanning over time for selective-scan and lti-ssm, the chunked matrix form (Mamba-2) for ssd, one workgroup per (batch, head, p) lane scanning over time for mamba3-siso; vjp for prefix-sum and linear-recurrence (the adjoint as the row scan run the other way)'
      : 'WGSL compute kernels on WebGPU (Dawn), float16 storage with float32 arithmetic: inputs are rounded to float16 (nearest-even) on upload, outputs and states are stored as float16; same kernels as webgpu-f32';

  const families = {
    'prefix-sum': prefixSumFamily(runtime),
    'linear-recurrence': linearRecurrenceFamily(runtime),
    'selective-scan': selectiveScanFamily(runtime),
    'lti-ssm': ltiSsmFamily(runtime),
    ssd: ssdFamily(runtime),
    'mamba3-siso': mamba3SisoFamily(runtime),
  };

  return {
    name,
    precision: storage === 'f32' ? 'float32' : 'float16',
    ...(storage === 'f16' ? { accumulation: 'float32' as const } : {}),
    description,
    families,
    async setup(): Promise<void> {
      if (engine !== undefined) return;
      const acquired = await acquireWebGpuDevice({
        label: name,
        requiredFeatures: storage === 'f16' ? ['shader-f16'] : [],
        adapterLimits: {
          maxStorageBuffersPerShaderStage: STORAGE_BUFFERS_NEEDED,
          maxStorageBufferBindingSize: DEFAULT_CAPACITY_LIMITS.maxStorageBufferBindingSize,
          maxBufferSize: DEFAULT_CAPACITY_LIMITS.maxStorageBufferBindingSize,
        },
      });
      const created = new KernelEngine(acquired.device, storage);
      try {
        for (const source of kernelModules(storage, options.transformShader)) await created.compile(source);
      } catch (error) {
        created.destroy();
        acquired.release();
        throw error;
      }
      handle = acquired;
      engine = created;
      try {
        await warmUp(families);
      } catch (error) {
        await this.dispose();
        throw error;
      }
    },
    async dispose(): Promise<void> {
      engine?.destroy();
      handle?.release();
      engine = undefined;
      handle = undefined;
    },
    environment(): Readonly<Record<string, string>> {
      if (handle === undefined) return { api: 'WebGPU (Dawn for Node, npm package webgpu)', state: 'not set up' };
      return { ...handle.environment, storage, kernels: (engine?.modules ?? []).map((m) => m.label).join('; ') };
    },
    kernels(): readonly CompiledKernel[] {
      return engine?.modules ?? [];
    },
    gpuStats(): KernelEngineStats {
      return engine?.stats ?? NO_STATS;
    },
  };
}
