/** Where one ssd head (b, h) finds its values in mamba_ssm's layout (time is axis 1), for the loops of kernels.ts. */
import { groupOfHead, type SsdSizes } from '../../spec/families/ssd/dimensions.ts';
import type { Tensor } from '../../spec/tensor.ts';
import type { SsdHeadWalk } from './kernels.ts';

/** The strides and bases of head (b, h): x (b, L, H, P), dt (b, L, H), B/C (b, L, G, N), seqIdx (b, L), states (b, H, P, N), D (H) or (H, P). */
export function ssdHeadWalk(sizes: SsdSizes, D: Tensor | undefined, b: number, h: number): SsdHeadWalk {
  const { length: L, heads: H, headdim: P, groups: G, stateSize: N } = sizes;
  const g = groupOfHead(h, H, G);
  const perChannel = D !== undefined && D.shape.length === 2;
  return {
    xBase: (b * L * H + h) * P,
    xStride: H * P,
    deltaBase: b * L * H + h,
    deltaStride: H,
    bcBase: (b * L * G + g) * N,
    bcStride: G * N,
    seqBase: b * L,
    stateBase: (b * H + h) * P * N,
    dBase: perChannel ? h * P : h,
    dStride: perChannel ? 1 : 0,
  };
}

/**
 * Head h of sequence s of a varlen row (batch 1, sizes of the packed row): the head's walk moved to
 * the sequence's first token `start`, with its initial and final state at (s, h) of (nseq, H, P, N).
 */
export function ssdSequenceWalk(sizes: SsdSizes, D: Tensor | undefined, h: number, start: number, s: number): SsdHeadWalk {
  const walk = ssdHeadWalk(sizes, D, 0, h);
  const { heads: H, headdim: P, stateSize: N } = sizes;
  return {
    ...walk,
    xBase: walk.xBase + start * walk.xStride,
    deltaBase: walk.deltaBase + start * walk.deltaStride,
    bcBase: walk.bcBase + start * walk.bcStride,
    seqBase: walk.seqBase + start,
    stateBase: (s * H + h) * P * N,
  };
}
