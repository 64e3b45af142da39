/**
 * WebGPU device acquisition through Dawn for Node (npm package `webgpu`), shared by every
 * implementation that runs on WebGPU. Dawn crashes the process at random (SIGSEGV,
 * std::system_error) when the object returned by create() or the adapter is garbage-collected
 * while its device is in use, so both stay referenced from a module-level holder until the
 * device is released.
 */
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ImplementationUnavailableError } from '../../spec/implementation.ts';
import { errorMessage } from '../../spec/errors.ts';

/** What acquireWebGpuDevice asks of the adapter. */
export interface WebGpuDeviceRequest {
  /** Features the device must have; an adapter without one is reported unavailable. */
  readonly requiredFeatures?: readonly GPUFeatureName[];
  /**
   * Limits to raise to the adapter's own values (e.g. maxStorageBufferBindingSize), each with the
   * minimum the caller needs; an adapter below that minimum is reported unavailable.
   */
  readonly adapterLimits?: Readonly<Partial<Record<WebGpuLimitName, number>>>;
  /** Device label, shown in Dawn's error messages. */
  readonly label?: string;
}

/** The numeric limits a request may raise. */
export type WebGpuLimitName =
  | 'maxStorageBufferBindingSize'
  | 'maxBufferSize'
  | 'maxStorageBuffersPerShaderStage'
  | 'maxComputeWorkgroupStorageSize'
  | 'maxComputeInvocationsPerWorkgroup'
  | 'maxComputeWorkgroupSizeX'
  | 'maxComputeWorkgroupsPerDimension';

/** A device with the adapter it came from; release() destroys the device and lets Dawn's objects go. */
export interface WebGpuDeviceHandle {
  readonly device: GPUDevice;
  readonly adapter: GPUAdapter;
  /** Adapter facts for a report: vendor, architecture, device, description, driver, fallback, emulated, features. */
  readonly environment: Readonly<Record<string, string>>;
  /** Destroys the device; idempotent. */
  release(): void;
}

interface LiveDevice {
  readonly adapter: GPUAdapter;
  readonly device: GPUDevice;
}

// Module-level on purpose: keeps Dawn's GPU object and every live adapter reachable (see header).
let dawnGpu: GPU | undefined;
const liveDevices = new Set<LiveDevice>();

/** Software rasterizers: results are real shader executions, but on the CPU. */
const SOFTWARE_ADAPTER_PATTERN = /llvmpipe|lavapipe|swiftshader|software|warp|softpipe/i;

/** The exact text reports and the README give when no adapter exists. */
export const NO_ADAPTER_REASON =
  'no WebGPU adapter: Dawn (npm package webgpu) found no Vulkan, Metal or D3D12 device; install a GPU driver, or Mesa lavapipe >= 24 (software Vulkan, e.g. Debian bookworm-backports mesa-vulkan-drivers)';

/** Acquires a WebGPU device from Dawn, or throws ImplementationUnavailableError saying why there is none. */
export async function acquireWebGpuDevice(request: WebGpuDeviceRequest = {}): Promise<WebGpuDeviceHandle> {
  const gpu = await dawnInstance();
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (error) {
    throw new ImplementationUnavailableError(`${NO_ADAPTER_REASON} (requestAdapter failed: ${errorMessage(error)})`);
  }
  if (adapter === null) throw new ImplementationUnavailableError(NO_ADAPTER_REASON);
  const environment = adapterEnvironment(adapter);
  const requiredFeatures = request.requiredFeatures ?? [];
  for (const feature of requiredFeatures) {
    if (!adapter.features.has(feature)) {
      throw new ImplementationUnavailableError(`adapter lacks ${feature} (adapter: ${environment.description || environment.device})`);
    }
  }
  const requiredLimits: Record<string, number> = {};
  for (const [name, minimum] of Object.entries(request.adapterLimits ?? {}) as [WebGpuLimitName, number][]) {
    const offered = adapter.limits[name];
    if (offered < minimum) {
      throw new ImplementationUnavailableError(
        `adapter offers ${name} = ${offered}, needs at least ${minimum} (adapter: ${environment.description || environment.device})`,
      );
    }
    requiredLimits[name] = offered;
  }
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredFeatures: [...requiredFeatures], requiredLimits, label: request.label });
  } catch (error) {
    throw new ImplementationUnavailableError(`requestDevice failed on ${environment.description || environment.device}: ${errorMessage(error)}`);
  }
  const live: LiveDevice = { adapter, device };
  liveDevices.add(live);
  let released = false;
  return {
    device,
    adapter,
    environment,
    release(): void {
      if (released) return;
      released = true;
      device.destroy();
      liveDevices.delete(live);
    },
  };
}

/** The adapter's facts as report strings; `emulated` is 'true' for software rasterizers. */
export function adapterEnvironment(adapter: GPUAdapter): Record<string, string> {
  const info = adapter.info as GPUAdapterInfo & { readonly driver?: string; readonly isFallbackAdapter?: boolean };
  const fallback = info.isFallbackAdapter ?? (adapter as GPUAdapter & { readonly isFallbackAdapter?: boolean }).isFallbackAdapter ?? false;
  const description = info.description ?? '';
  const emulated = SOFTWARE_ADAPTER_PATTERN.test(`${info.architecture} ${info.device} ${description}`);
  const environment: Record<string, string> = {
    api: 'WebGPU (Dawn for Node, npm package webgpu)',
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description,
    fallback: String(fallback),
    emulated: String(emulated),
    features: [...adapter.features].sort().join(','),
  };
  if (info.driver !== undefined) environment.driver = info.driver;
  return environment;
}

/** Number of devices acquired and not yet released (tests use it to prove nothing leaks). */
export function liveWebGpuDeviceCount(): number {
  return liveDevices.size;
}

/**
 * The process's one Dawn GPU object (what a browser calls navigator.gpu), created on first use and
 * kept reachable for the life of the process; for code that must install navigator.gpu itself.
 */
export async function dawnInstance(): Promise<GPU> {
  if (dawnGpu !== undefined) return dawnGpu;
  // Dawn's Vulkan loader wants a writable runtime directory; containers often have none.
  if (process.env.XDG_RUNTIME_DIR === undefined || process.env.XDG_RUNTIME_DIR === '') {
    const directory = path.join(os.tmpdir(), `xdg-${process.getuid?.() ?? 'user'}`);
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    process.env.XDG_RUNTIME_DIR = directory;
  }
  try {
    // Imported here, not at the top: a platform without Dawn's native binary must still load the registry.
    const { create, globals } = await import('webgpu');
    // GPUBufferUsage, GPUMapMode, GPUShaderStage… are globals in a browser; Dawn ships them separately.
    Object.assign(globalThis, globals);
    dawnGpu = create([]);
  } catch (error) {
    throw new ImplementationUnavailableError(`${NO_ADAPTER_REASON} (Dawn failed to start: ${errorMessage(error)})`);
  }
  return dawnGpu;
}

