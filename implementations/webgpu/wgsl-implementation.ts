/**
 * A ScanImplementation whose five families run as WGSL compute kernels on a WebGPU device from a
 * GpuSource (Dawn for Node, implementations/webgpu/webgpu-implementation.ts; a browser's
 * navigator.gpu, browser/): device, pipelines and buffers are acquired in setup, reused by every
 * run and released in dispose. Platform-neutral: nothing here imports a node: module.
 */
import { FAMILY_NAMES, type FamilyName } from '../../spec/families.ts';
import type { FamilyImplementation, ScanImplementation } from '../../spec/implementation.ts';
import { DEFAULT_CAPACITY_LIMITS, type CapacityLimits } from './capacity.ts';
import { acquireWebGpuDevice, adapterName, type GpuSource, type WebGpuDeviceHandle } from './device.ts';
import { linearRecurrenceFamily } from './family-linear-recurrence.ts';
import { ltiSsmFamily } from './family-lti-ssm.ts';
import { prefixSumFamily } from './family-prefix-sum.ts';
import { selectiveScanFamily } from './family-selective-scan.ts';
import { ssdFamily } from './family-ssd.ts';
import { KernelEngine, type KernelEngineStats } from './kernel-engine.ts';
import { kernelModules, type ShaderTransform } from './kernel-modules.ts';
import type { KernelRuntime } from './runtime.ts';
import type { StorageType } from './storage-type.ts';
import { warmUp } from './warm-up.ts';

/** The family a kernel module serves: its label starts with the family's name. */
function familyOfModule(label: string): FamilyName {
  const family = FAMILY_NAMES.find((f) => label.startsWith(`${f} `));
  if (family === undefined) throw new Error(`kernel module '${label}' names no family`);
  return family;
}

/** How to build a WebGPU implementation. */
export interface WebGpuImplementationOptions {
  readonly storage: StorageType;
  /** Registered name; 'webgpu-f32' / 'webgpu-f16' by default. */
  readonly name?: string;
  /** Rewrites each module's WGSL before compilation (fault-injection tests use it). */
  readonly transformShader?: ShaderTransform;
}

/** How to build a WGSL implementation on a given GPU. */
export interface WgslImplementationOptions extends WebGpuImplementationOptions {
  readonly gpu: GpuSource;
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

/** Builds the WebGPU implementation for one storage type on the source's GPU. */
export function createWgslImplementation(options: WgslImplementationOptions): WebGpuScanImplementation {
  const { storage } = options;
  const name = options.name ?? `webgpu-${storage}`;
  let handle: WebGpuDeviceHandle | undefined;
  let engine: KernelEngine | undefined;
  // Families whose kernels bind more storage buffers than the device offers (a browser's
  // SwiftShader offers 10): every case of theirs is declined with this reason, never run.
  const unfit = new Map<FamilyName, string>();

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
      ? `WGSL compute kernels on ${options.gpu.api}, float32: reduce-then-scan over tiles for prefix-sum and linear-recurrence, one invocation per (batch, dim, n) state scanning over time for selective-scan and lti-ssm, the chunked matrix form (Mamba-2) for ssd; vjp for prefix-sum, linear-recurrence and selective-scan (the adjoint as the row scan run the other way; selective-scan over its B·D·N state rows, shared parameters summed on the GPU)`
      : `WGSL compute kernels on ${options.gpu.api}, float16 storage with float32 arithmetic: inputs are rounded to float16 (nearest-even) on upload, outputs and states are stored as float16; same kernels as webgpu-f32 (vjp included; selective-scan\'s declines a problem whose float16-stored intermediate overflows)`;

  const fitting = <F extends FamilyName>(family: F, entry: FamilyImplementation<F>): FamilyImplementation<F> => ({
    ...entry,
    decline: (problem) => unfit.get(family) ?? entry.decline?.(problem),
  });
  const families = {
    'prefix-sum': fitting('prefix-sum', prefixSumFamily(runtime)),
    'linear-recurrence': fitting('linear-recurrence', linearRecurrenceFamily(runtime)),
    'selective-scan': fitting('selective-scan', selectiveScanFamily(runtime)),
    'lti-ssm': fitting('lti-ssm', ltiSsmFamily(runtime)),
    ssd: fitting('ssd', ssdFamily(runtime)),
  };

  return {
    name,
    precision: storage === 'f32' ? 'float32' : 'float16',
    ...(storage === 'f16' ? { accumulation: 'float32' as const } : {}),
    ...(options.gpu.subnormals === 'flush' && { subnormals: 'flush' as const }),
    description,
    families,
    async setup(): Promise<void> {
      if (engine !== undefined) return;
      const modules = kernelModules(storage, options.transformShader);
      const acquired = await acquireWebGpuDevice(options.gpu, {
        label: name,
        requiredFeatures: storage === 'f16' ? ['shader-f16'] : [],
        adapterLimits: {
          // Raised to the adapter's own value; a family whose kernels need more is declined below.
          maxStorageBuffersPerShaderStage: Math.min(...modules.map((m) => m.bindings.length)),
          maxStorageBufferBindingSize: DEFAULT_CAPACITY_LIMITS.maxStorageBufferBindingSize,
          maxBufferSize: DEFAULT_CAPACITY_LIMITS.maxStorageBufferBindingSize,
        },
      });
      const created = new KernelEngine(acquired.device, storage);
      const offered = acquired.device.limits.maxStorageBuffersPerShaderStage;
      unfit.clear();
      try {
        for (const source of modules) {
          const family = familyOfModule(source.label);
          if (source.bindings.length > offered) {
            unfit.set(family, `kernel module '${source.label}' binds ${source.bindings.length} storage buffers; the device offers maxStorageBuffersPerShaderStage = ${offered} (adapter: ${adapterName(acquired.environment)})`);
            continue;
          }
          if (!unfit.has(family)) await created.compile(source);
        }
      } catch (error) {
        created.destroy();
        acquired.release();
        throw error;
      }
      handle = acquired;
      engine = created;
      try {
        await warmUp(families, (family) => !unfit.has(family));
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
      if (handle === undefined) return { api: options.gpu.api, state: 'not set up' };
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
