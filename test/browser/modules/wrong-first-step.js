// A deliberately wrong WGSL linear recurrence for the browser page, in the form a kernel author
// writes one: an ES module, its own device from navigator.gpu, one invocation per (batch, dim) row
// scanning over time. The bug: the first step drops the decay, h_0 = b_0 instead of a_0·h0 + b_0,
// so the kernel is right exactly when h0 is absent or zero. `scan-conformance browser --headless
// --implementation test/browser/modules/wrong-first-step.js` must fail it with a counterexample.

const WGSL = /* wgsl */ `
struct Params { rows: u32, length: u32, reverse: u32, hasH0: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> h0: array<f32>;
@group(0) @binding(4) var<storage, read_write> h: array<f32>;
@group(0) @binding(5) var<storage, read_write> last: array<f32>;

@compute @workgroup_size(64)
fn scanRows(@builtin(global_invocation_id) id: vec3<u32>) {
  let row = id.x;
  if (row >= params.rows) { return; }
  var state = select(0.0, h0[row], params.hasH0 == 1u);
  for (var i = 0u; i < params.length; i++) {
    let t = row * params.length + select(i, params.length - 1u - i, params.reverse == 1u);
    if (i == 0u) {
      state = b[t]; // THE BUG: should be a[t] * state + b[t]
    } else {
      state = a[t] * state + b[t];
    }
    h[t] = state;
  }
  last[row] = state;
}
`;

let device;
let pipeline;
let adapterInfo = {};

/** A storage buffer holding `data` (at least 4 bytes: WebGPU binds no empty buffer). */
function upload(data, usage = GPUBufferUsage.STORAGE) {
  const buffer = device.createBuffer({ size: Math.max(4, data.byteLength), usage: usage | GPUBufferUsage.COPY_DST });
  if (data.byteLength > 0) device.queue.writeBuffer(buffer, 0, data);
  return buffer;
}

export default {
  name: 'browser/wrong-first-step',
  precision: 'float32',
  subnormals: 'flush',
  description: 'a WGSL linear recurrence whose first step drops the decay (h_0 = b_0): wrong on purpose',
  async setup() {
    const adapter = await navigator.gpu?.requestAdapter();
    if (!adapter) throw new Error('no WebGPU adapter');
    adapterInfo = { vendor: adapter.info.vendor, architecture: adapter.info.architecture };
    device = await adapter.requestDevice();
    pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: WGSL }), entryPoint: 'scanRows' } });
  },
  async dispose() {
    device?.destroy();
    device = undefined;
  },
  environment() {
    return { api: 'WebGPU (navigator.gpu)', ...adapterInfo };
  },
  families: {
    'linear-recurrence': {
      async run({ inputs: { a, b, h0 }, options: { reverse } }) {
        const [batch, dim, length] = a.shape;
        const rows = batch * dim;
        const params = upload(new Uint32Array([rows, length, reverse ? 1 : 0, h0 ? 1 : 0]), GPUBufferUsage.UNIFORM);
        const buffers = [upload(a.data), upload(b.data), upload(h0 ? h0.data : new Float32Array(0))];
        const out = { h: rows * length * 4, last: rows * 4 };
        const h = device.createBuffer({ size: Math.max(4, out.h), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
        const last = device.createBuffer({ size: Math.max(4, out.last), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
        const readH = device.createBuffer({ size: Math.max(4, out.h), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
        const readLast = device.createBuffer({ size: Math.max(4, out.last), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
        const entries = [params, ...buffers, h, last].map((buffer, binding) => ({ binding, resource: { buffer } }));
        const encoder = device.createCommandEncoder();
        const pass = encoder.beginComputePass();
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries }));
        if (rows > 0) pass.dispatchWorkgroups(Math.ceil(rows / 64));
        pass.end();
        encoder.copyBufferToBuffer(h, 0, readH, 0, Math.max(4, out.h));
        encoder.copyBufferToBuffer(last, 0, readLast, 0, Math.max(4, out.last));
        device.queue.submit([encoder.finish()]);
        await Promise.all([readH.mapAsync(GPUMapMode.READ), readLast.mapAsync(GPUMapMode.READ)]);
        const hData = new Float32Array(readH.getMappedRange().slice(0, out.h));
        const lastData = new Float32Array(readLast.getMappedRange().slice(0, out.last));
        for (const buffer of [params, ...buffers, h, last, readH, readLast]) buffer.destroy();
        return { h: { data: hData, shape: [batch, dim, length] }, lastState: { data: lastData, shape: [batch, dim] } };
      },
    },
  },
};
