/** Whether Dawn (here lavapipe) keeps a float32 subnormal from exp and from a product: `npx tsx bench/probes/dawn-f32-exp-underflow.ts`. */
import { dawnInstance } from '../../implementations/webgpu/dawn.ts';
const gpu = await dawnInstance();
const adapter = await gpu.requestAdapter();
const device = await adapter!.requestDevice();
const code = `@group(0) @binding(0) var<storage, read_write> v: array<f32>;
@compute @workgroup_size(1) fn main() { v[1] = exp(v[0]); v[2] = v[0] * 0.0 + 1.0e-38 * 0.001; }`;
const buf = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
device.queue.writeBuffer(buf, 0, new Float32Array([Math.fround(14.418725 * -6.4079003), 0, 0, 0]));
const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
const bind = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: buf } }] });
const read = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
const enc = device.createCommandEncoder(); const pass = enc.beginComputePass(); pass.setPipeline(pipeline); pass.setBindGroup(0, bind); pass.dispatchWorkgroups(1); pass.end();
enc.copyBufferToBuffer(buf, 0, read, 0, 16); device.queue.submit([enc.finish()]);
await read.mapAsync(GPUMapMode.READ); const out = new Float32Array(read.getMappedRange().slice(0));
console.log('x', out[0], 'gpu exp', out[1], 'exact exp', Math.exp(out[0]), 'fround', Math.fround(Math.exp(out[0])), 'subnormal product', out[2]);
process.exit(0);
