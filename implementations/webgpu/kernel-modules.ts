/** Every WGSL module the WebGPU implementations compile, with its label, bindings and entry points. */
import type { KernelModuleSource } from './kernel-engine.ts';
import type { StorageType } from './storage-type.ts';
import { CHANNEL_SCAN_WRITTEN, channelScanBindings, channelScanShader, type ChannelScanFamily } from './wgsl-channel-scan.ts';
import { ROW_SCAN_ENTRY_POINTS, rowScanBindings, rowScanShader, rowScanWritten, type RowScanFamily } from './wgsl-row-scan.ts';
import { ROW_STEP_WRITTEN, rowStepBindings, rowStepShader } from './wgsl-row-step.ts';
import { SELECTIVE_SCAN_VJP_BINDINGS, SELECTIVE_SCAN_VJP_ENTRY_POINTS, SELECTIVE_SCAN_VJP_WRITTEN, selectiveScanVjpShader, type SelectiveScanVjpModule } from './wgsl-selective-scan-vjp.ts';
import { SSD_BINDINGS, SSD_ENTRY_POINTS, SSD_WRITTEN, ssdShader } from './wgsl-ssd.ts';

/** The kinds of module: a family's scan or its one-token step (selective-scan, lti-ssm and ssd step with their scan). */
export type KernelModuleName = `${RowScanFamily} scan` | `${RowScanFamily} step` | 'linear-recurrence adjoint' | `${ChannelScanFamily} scan` | SelectiveScanVjpModule | 'ssd scan';

/** Rewrites a module's WGSL before compilation; a seam for fault-injection tests. */
export type ShaderTransform = (label: string, wgsl: string) => string;

/** The label a module is compiled under, e.g. 'prefix-sum scan (f32)'. */
export function moduleLabel(name: KernelModuleName, storage: StorageType): string {
  return `${name} (${storage})`;
}

/** All modules for one storage type, after an optional transform of their WGSL. */
export function kernelModules(storage: StorageType, transform?: ShaderTransform): KernelModuleSource[] {
  const modules: KernelModuleSource[] = [];
  const add = (name: KernelModuleName, wgsl: string, bindings: readonly string[], written: ReadonlySet<string>, entryPoints: readonly string[]): void => {
    const label = moduleLabel(name, storage);
    modules.push({
      label,
      wgsl: transform === undefined ? wgsl : transform(label, wgsl),
      bindings: bindings.map((b) => ({ name: b, access: written.has(b) ? 'read_write' : 'read' })),
      entryPoints,
    });
  };
  for (const family of ['prefix-sum', 'linear-recurrence'] as const) {
    add(`${family} scan`, rowScanShader(family, storage), rowScanBindings(family), rowScanWritten(family) as ReadonlySet<string>, ROW_SCAN_ENTRY_POINTS);
    add(`${family} step`, rowStepShader(family, storage), rowStepBindings(family), ROW_STEP_WRITTEN as ReadonlySet<string>, ['stepRows']);
  }
  add('linear-recurrence adjoint', rowScanShader('linear-recurrence adjoint', storage), rowScanBindings('linear-recurrence adjoint'), rowScanWritten('linear-recurrence adjoint') as ReadonlySet<string>, ROW_SCAN_ENTRY_POINTS);
  for (const family of ['selective-scan', 'lti-ssm'] as const) {
    add(`${family} scan`, channelScanShader(family, storage), channelScanBindings(family), CHANNEL_SCAN_WRITTEN as ReadonlySet<string>, ['scanChannels']);
  }
  for (const name of ['selective-scan adjoint inputs', 'selective-scan gradients'] as const) {
    add(name, selectiveScanVjpShader(name, storage), SELECTIVE_SCAN_VJP_BINDINGS[name], SELECTIVE_SCAN_VJP_WRITTEN, SELECTIVE_SCAN_VJP_ENTRY_POINTS[name]);
  }
  add('ssd scan', ssdShader(storage), SSD_BINDINGS, SSD_WRITTEN as ReadonlySet<string>, SSD_ENTRY_POINTS);
  return modules;
}
