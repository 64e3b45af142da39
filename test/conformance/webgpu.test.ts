/**
 * The whole conformance suite under vitest for implementations/webgpu, with npm test's caps
 * (SHIPPED_CAPS) but the fixtures up to L = 2049: its prefix sums and linear recurrences scan
 * tiles of 1024 elements (ROW_SCAN_TILE), which no generated case of a quick run reaches.
 */
import { ROW_SCAN_TILE } from '../../implementations/webgpu/wgsl-row-scan.ts';
import { SHIPPED_CAPS, describeFolder } from './describe-folder.ts';

await describeFolder('webgpu', { ...SHIPPED_CAPS, fixtureMaxLength: 2 * ROW_SCAN_TILE + 1 });
