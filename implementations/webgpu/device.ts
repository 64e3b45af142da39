/**
 * WebGPU device acquisition from a GPU object (Dawn's for Node, implementations/webgpu/dawn.ts, or
 * a browser's navigator.gpu), shared by every implementation that runs on WebGPU. Dawn crashes the
 * process at random (SIGSEGV, std::system_error) when the adapter is garbage-collected while its
 * device is in use, so every live adapter stays referenced from a module-level holder until its
 * device is released.
 */
import { ImplementationUnavailableError } from '../../spec/implementation.ts';
import { errorMessage } from '../../spec/errors.ts';

/** Where a WebGPU device comes from: the GPU object, what to call it in a report, and what to say when it has no adapter. */
export interface GpuSource {
  /** The GPU object (navigator.gpu); throws ImplementationUnavailableError when there is none. */
  gpu(): Promise<GPU>;
  /** The API as a report names it, e.g. 'WebGPU (Dawn for Node, npm package webgpu)'. */
  readonly api: string;
  /** What to say when requestAdapter gives no adapter. */
  readonly noAdapterReason: string;
  /**
   * 'flush' where the GPU may flush subnormal values to zero, which WGSL allows (Chromium's
   * SwiftShader does); the implementations then declare it, and the tolerance admits it.
   */
  readonly subnormals?: 'preserve' | 'flush';
}

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

// Module-level on purpose: keeps every live adapter reachable (see header).
const liveDevices = new Set<LiveDevice>();

/** Software rasterizers: results are real shader executions, but on the CPU. */
const SOFTWARE_ADAPTER_PATTERN = /llvmpipe|lavapipe|swiftshader|software|warp|softpipe/i;

/** Acquires a WebGPU device from the source's GPU, or throws ImplementationUnavailableError saying why there is none. */
export async function acquireWebGpuDevice(source: GpuSource, request: WebGpuDeviceRequest = {}): Promise<WebGpuDeviceHandle> {
  const gpu = await source.gpu();
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (error) {
    throw new ImplementationUnavailableError(`${source.noAdapterReason} (requestAdapter failed: ${errorMessage(error)})`);
  }
  if (adapter === null) throw new ImplementationUnavailableError(source.noAdapterReason);
  const environment = adapterEnvironment(adapter, source.api);
  const requiredFeatures = request.requiredFeatures ?? [];
  for (const feature of requiredFeatures) {
    if (!adapter.features.has(feature)) {
      throw new ImplementationUnavailableError(`adapter lacks ${feature} (adapter: ${adapterName(environment)})`);
    }
  }
  const requiredLimits: Record<string, number> = {};
  for (const [name, minimum] of Object.entries(request.adapterLimits ?? {}) as [WebGpuLimitName, number][]) {
    const offered = adapter.limits[name];
    if (offered < minimum) {
      throw new ImplementationUnavailableError(
        `adapter offers ${name} = ${offered}, needs at least ${minimum} (adapter: ${adapterName(environment)})`,
      );
    }
    requiredLimits[name] = offered;
  }
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredFeatures: [...requiredFeatures], requiredLimits, label: request.label });
  } catch (error) {
    throw new ImplementationUnavailableError(`requestDevice failed on ${adapterName(environment)}: ${errorMessage(error)}`);
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

/** The adapter as a message names it: its description, else its device, else vendor and architecture (a browser may blank the first two). */
export function adapterName(environment: Readonly<Record<string, string>>): string {
  return environment.description || environment.device || [environment.vendor, environment.architecture].filter(Boolean).join(' ') || 'unnamed adapter';
}

/** The adapter's facts as report strings; `emulated` is 'true' for software rasterizers. */
export function adapterEnvironment(adapter: GPUAdapter, api: string): Record<string, string> {
  const info = adapter.info as GPUAdapterInfo & { readonly driver?: string; readonly isFallbackAdapter?: boolean };
  const fallback = info.isFallbackAdapter ?? (adapter as GPUAdapter & { readonly isFallbackAdapter?: boolean }).isFallbackAdapter ?? false;
  const description = info.description ?? '';
  const emulated = SOFTWARE_ADAPTER_PATTERN.test(`${info.architecture} ${info.device} ${description}`);
  const environment: Record<string, string> = {
    api,
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
