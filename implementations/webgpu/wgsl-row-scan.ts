/**
 * WGSL for the scans over rows of scalars: prefix-sum (combine = +) and linear-recurrence
 * (combine = composition of affine maps h ↦ a·h + b, not commutative). Reduce-then-scan in three
 * passes, which needs no forward-progress guarantee between workgroups (lavapipe gives none):
 *   1. reduceTiles: each workgroup reduces one tile of TILE elements of one row;
 *   2. scanTileTotals: one workgroup per row scans the row's tile totals into each tile's carry-in
 *      state (starting from h0 for the recurrence);
 *   3. scanTiles: each workgroup rescans its tile and applies its carry-in.
 * Inside a tile every invocation folds ITEMS consecutive elements sequentially and the workgroup
 * combines the invocations' totals with a scan in workgroup memory.
 */
import { storagePrelude, type StorageType } from './storage-type.ts';

/** Invocations per workgroup of the row scans. */
export const ROW_SCAN_WORKGROUP = 64;
/** Elements each invocation folds sequentially. */
export const ROW_SCAN_ITEMS = 16;
/** Elements per tile (one workgroup's share of a row). */
export const ROW_SCAN_TILE = ROW_SCAN_WORKGROUP * ROW_SCAN_ITEMS;

/** The scalar-row families. */
export type RowScanFamily = 'prefix-sum' | 'linear-recurrence';

/**
 * The row-scan modules: each family's forward scan, and linear-recurrence's adjoint, which is a
 * linear recurrence itself (λ_t = ȳ_t + a_{t+1}·λ_{t+1}) run in the opposite direction.
 */
export type RowScanKind = RowScanFamily | 'linear-recurrence adjoint';

/** Entry points of a row-scan module, in dispatch order. */
export const ROW_SCAN_ENTRY_POINTS = ['reduceTiles', 'scanTileTotals', 'scanTiles'] as const;

/** Flag bits of RowScanParams.flags. */
export const ROW_SCAN_FLAGS = { reverse: 1, exclusive: 2, initialState: 4 } as const;

/** Uniform layout shared with the host (u32 each): rows, length, tiles, flags, tileWorkgroups, infinityBits. */
export const ROW_SCAN_PARAM_WORDS = 8;

/** Binding slots of a row-scan module, in order; slot 0 is the uniform params. */
export function rowScanBindings(kind: RowScanKind): readonly RowScanBinding[] {
  switch (kind) {
    case 'prefix-sum':
      return ['x', 'tileTotals', 'carries', 'y'];
    case 'linear-recurrence':
      return ['a', 'b', 'h0', 'tileTotals', 'carries', 'h', 'lastState'];
    case 'linear-recurrence adjoint':
      return ['a', 'hBar', 'lastStateBar', 'h0', 'h', 'tileTotals', 'carries', 'aBar', 'bBar', 'h0Bar'];
  }
}

/** A storage binding of a row-scan module. */
export type RowScanBinding =
  | 'x'
  | 'a'
  | 'b'
  | 'h0'
  | 'tileTotals'
  | 'carries'
  | 'y'
  | 'h'
  | 'lastState'
  | 'hBar'
  | 'lastStateBar'
  | 'aBar'
  | 'bBar'
  | 'h0Bar';

/** Bindings the kernels write (read_write storage); the rest are read-only (the adjoint reads h). */
export function rowScanWritten(kind: RowScanKind): ReadonlySet<RowScanBinding> {
  return kind === 'linear-recurrence adjoint'
    ? new Set(['tileTotals', 'carries', 'aBar', 'bBar', 'h0Bar'])
    : new Set(['tileTotals', 'carries', 'y', 'h', 'lastState']);
}

/** The WGSL module of the three-pass scan for one kind and storage type. */
export function rowScanShader(kind: RowScanKind, storage: StorageType): string {
  const element = kind === 'prefix-sum' ? prefixSumElement : kind === 'linear-recurrence' ? affineElement : affineAdjointElement;
  return /* wgsl */ `${storagePrelude(storage)}
struct Params {
  rows: u32,
  length: u32,
  tiles: u32,
  flags: u32,
  tileWorkgroups: u32,
  infinityBits: u32,
  unused0: u32,
  unused1: u32,
}

const WG: u32 = ${ROW_SCAN_WORKGROUP}u;
const ITEMS: u32 = ${ROW_SCAN_ITEMS}u;
const TILE: u32 = ${ROW_SCAN_TILE}u;
const REVERSE: u32 = ${ROW_SCAN_FLAGS.reverse}u;
const EXCLUSIVE: u32 = ${ROW_SCAN_FLAGS.exclusive}u;
const INITIAL_STATE: u32 = ${ROW_SCAN_FLAGS.initialState}u;

@group(0) @binding(0) var<uniform> params: Params;
${element.bindings(storage)}

var<workgroup> scratch: array<Element, WG>;
var<workgroup> workgroupTotal: Element;

${element.algebra}

// Memory index of the p-th element of a row in processing order.
fn memoryIndex(row: u32, p: u32) -> u32 {
  let t = select(p, params.length - 1u - p, (params.flags & REVERSE) != 0u);
  return row * params.length + t;
}

fn loadElement(row: u32, p: u32) -> Element {
  if (p >= params.length) { return identityElement(); }
  return readElement(row, p);
}

// Exclusive scan of one value per invocation across the workgroup, raked by invocation 0 (WG is
// small; a Hillis–Steele loop of barriers compiles into far slower code on lavapipe, measured);
// afterwards workgroupTotal holds the workgroup's total.
fn workgroupExclusiveScan(lid: u32, value: Element) -> Element {
  scratch[lid] = value;
  workgroupBarrier();
  if (lid == 0u) {
    var running = identityElement();
    for (var i = 0u; i < WG; i = i + 1u) {
      let next = scratch[i];
      scratch[i] = running;
      running = combine(running, next);
    }
    workgroupTotal = running;
  }
  workgroupBarrier();
  return scratch[lid];
}

fn foldedWorkgroup(wg: vec3<u32>, count: vec3<u32>) -> u32 {
  return wg.x + wg.y * count.x;
}

@compute @workgroup_size(WG)
fn reduceTiles(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) count: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let w = foldedWorkgroup(wg, count);
  if (w >= params.tileWorkgroups) { return; }
  let row = w / params.tiles;
  let first = (w % params.tiles) * TILE + lid * ITEMS;
  var total = identityElement();
  for (var k = 0u; k < ITEMS; k = k + 1u) { total = combine(total, loadElement(row, first + k)); }
  _ = workgroupExclusiveScan(lid, total);
  if (lid == 0u) { tileTotals[w] = workgroupTotal; }
}

@compute @workgroup_size(WG)
fn scanTileTotals(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) count: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let row = foldedWorkgroup(wg, count);
  if (row >= params.rows) { return; }
  var state = initialState(row);
  for (var start = 0u; start < params.tiles; start = start + WG) {
    let i = start + lid;
    var total = identityElement();
    if (i < params.tiles) { total = tileTotals[row * params.tiles + i]; }
    let before = workgroupExclusiveScan(lid, total);
    if (i < params.tiles) { carries[row * params.tiles + i] = applyElement(state, before); }
    let chunkTotal = workgroupTotal;
    workgroupBarrier();
    state = applyElement(state, chunkTotal);
  }
}

@compute @workgroup_size(WG)
fn scanTiles(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) count: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let w = foldedWorkgroup(wg, count);
  if (w >= params.tileWorkgroups) { return; }
  let row = w / params.tiles;
  let first = (w % params.tiles) * TILE + lid * ITEMS;
  var total = identityElement();
  for (var k = 0u; k < ITEMS; k = k + 1u) { total = combine(total, loadElement(row, first + k)); }
  var prefix = workgroupExclusiveScan(lid, total);
  let carry = carries[w];
  for (var k = 0u; k < ITEMS; k = k + 1u) {
    let p = first + k;
    if (p >= params.length) { break; }
    let before = prefix;
    // Loaded again rather than kept in a private array: lavapipe compiles this markedly faster.
    prefix = combine(prefix, loadElement(row, p));
    ${element.store}
  }
}
`;
}

interface ElementAlgebra {
  bindings(storage: StorageType): string;
  algebra: string;
  store: string;
}

const prefixSumElement: ElementAlgebra = {
  bindings: () => /* wgsl */ `
@group(0) @binding(1) var<storage, read> x: array<Stored>;
@group(0) @binding(2) var<storage, read_write> tileTotals: array<f32>;
@group(0) @binding(3) var<storage, read_write> carries: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<Stored>;`,
  algebra: /* wgsl */ `
alias Element = f32;
fn identityElement() -> f32 { return 0.0; }
fn combine(earlier: f32, later: f32) -> f32 { return earlier + later; }
fn applyElement(state: f32, e: f32) -> f32 { return state + e; }
fn readElement(row: u32, p: u32) -> f32 {
  let i = memoryIndex(row, p);
  return f32(x[i]);
}
fn initialState(row: u32) -> f32 { return 0.0; }`,
  store: /* wgsl */ `let sum = select(prefix, before, (params.flags & EXCLUSIVE) != 0u);
    y[memoryIndex(row, p)] = toStorage(applyElement(carry, sum), params.infinityBits);`,
};

// An element is the affine map h ↦ e.x·h + e.y; combine(p, q) applies p first, then q. Shared by the
// forward scan and its adjoint, which differ only in what an element reads and where results go.
const AFFINE_MAPS = /* wgsl */ `
alias Element = vec2<f32>;
fn identityElement() -> vec2<f32> { return vec2<f32>(1.0, 0.0); }
fn combine(earlier: vec2<f32>, later: vec2<f32>) -> vec2<f32> {
  return vec2<f32>(later.x * earlier.x, later.x * earlier.y + later.y);
}
fn applyElement(state: f32, e: vec2<f32>) -> f32 { return e.x * state + e.y; }`;

// The forward affine scan.
const affineElement: ElementAlgebra = {
  bindings: () => /* wgsl */ `
@group(0) @binding(1) var<storage, read> a: array<Stored>;
@group(0) @binding(2) var<storage, read> b: array<Stored>;
@group(0) @binding(3) var<storage, read> h0: array<Stored>;
@group(0) @binding(4) var<storage, read_write> tileTotals: array<vec2<f32>>;
@group(0) @binding(5) var<storage, read_write> carries: array<f32>;
@group(0) @binding(6) var<storage, read_write> h: array<Stored>;
@group(0) @binding(7) var<storage, read_write> lastState: array<Stored>;`,
  algebra: /* wgsl */ `${AFFINE_MAPS}
fn readElement(row: u32, p: u32) -> vec2<f32> {
  let i = memoryIndex(row, p);
  return vec2<f32>(f32(a[i]), f32(b[i]));
}
fn initialState(row: u32) -> f32 {
  if ((params.flags & INITIAL_STATE) != 0u) { return f32(h0[row]); }
  return 0.0;
}`,
  store: /* wgsl */ `let state = applyElement(carry, prefix);
    let stored = toStorage(state, params.infinityBits);
    h[memoryIndex(row, p)] = stored;
    if (p == params.length - 1u) { lastState[row] = stored; }`,
};

// The adjoint of the affine scan, run with the REVERSE flag opposite to the forward's, so that its
// processing position p is the forward's position L−1−p. Its element at p is λ ↦ a'·λ + ȳ with a'
// the forward decay one step later in forward order (the adjoint's position p−1; 1 at p = 0),
// starting from the last state's cotangent. INITIAL_STATE says the forward had h0. Each λ gives
// b̄ = λ, ā = λ·h_prev (h_prev the forward state before, h0 or 0 first) and, at the forward's first
// position, h̄0 = a·λ.
const affineAdjointElement: ElementAlgebra = {
  bindings: () => /* wgsl */ `
@group(0) @binding(1) var<storage, read> a: array<Stored>;
@group(0) @binding(2) var<storage, read> hBar: array<Stored>;
@group(0) @binding(3) var<storage, read> lastStateBar: array<Stored>;
@group(0) @binding(4) var<storage, read> h0: array<Stored>;
@group(0) @binding(5) var<storage, read> h: array<Stored>;
@group(0) @binding(6) var<storage, read_write> tileTotals: array<vec2<f32>>;
@group(0) @binding(7) var<storage, read_write> carries: array<f32>;
@group(0) @binding(8) var<storage, read_write> aBar: array<Stored>;
@group(0) @binding(9) var<storage, read_write> bBar: array<Stored>;
@group(0) @binding(10) var<storage, read_write> h0Bar: array<Stored>;`,
  algebra: /* wgsl */ `${AFFINE_MAPS}
fn readElement(row: u32, p: u32) -> vec2<f32> {
  var decay = 1.0;
  if (p > 0u) { decay = f32(a[memoryIndex(row, p - 1u)]); }
  return vec2<f32>(decay, f32(hBar[memoryIndex(row, p)]));
}
fn initialState(row: u32) -> f32 { return f32(lastStateBar[row]); }
fn previousState(row: u32, p: u32) -> f32 {
  if (p + 1u < params.length) { return f32(h[memoryIndex(row, p + 1u)]); }
  if ((params.flags & INITIAL_STATE) != 0u) { return f32(h0[row]); }
  return 0.0;
}`,
  store: /* wgsl */ `let lambda = applyElement(carry, prefix);
    let m = memoryIndex(row, p);
    bBar[m] = toStorage(lambda, params.infinityBits);
    aBar[m] = toStorage(lambda * previousState(row, p), params.infinityBits);
    if (p == params.length - 1u && (params.flags & INITIAL_STATE) != 0u) {
      h0Bar[row] = toStorage(f32(a[m]) * lambda, params.infinityBits);
    }`,
};
