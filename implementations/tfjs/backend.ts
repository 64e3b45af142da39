import type { FamilyName } from '../../spec/families.ts';
import type { ExpectedFailure } from '../../spec/implementation.ts';

/** What a tfjs backend contributes to its implementation: how to start it, facts about it, and its FFT support. */

/** How a backend computes the lti-ssm family. */
export type LtiSsmMethod =
  /** tf.spectral.rfft/irfft convolution (normwise error model); `decline` says why a size would cost too long. */
  | { readonly kind: 'fft'; readonly decline: (size: FftProblemSize) => string | undefined; readonly summary: string }
  /** No FFT kernels: the log-step scan per state (componentwise error model). */
  | { readonly kind: 'scan'; readonly why: string };

/** What an lti-ssm FFT convolution transforms: `rows` sequences (batch·dim of u, dim of K) of `transformSize` points each. */
export interface FftProblemSize {
  readonly rows: number;
  readonly transformSize: number;
}

/** A tfjs backend as one registered implementation sees it. */
export interface TfjsBackend {
  /** The backend's name in tfjs's registry ('cpu', 'wasm', 'webgpu', 'tensorflow'). */
  readonly backendName: string;
  /** One line for reports. */
  readonly description: string;
  readonly ltiSsm: LtiSsmMethod;
  /** Known inaccuracies or bugs of tfjs's kernels on this backend, declared to the suite. */
  readonly expectedFailures?: readonly ExpectedFailure[];
  /** 'flush' when the backend's kernels may flush float32 subnormals to zero (WGSL allows it; Dawn on lavapipe does). */
  readonly subnormals?: 'flush';
  /** Families whose vjp this backend cannot run or runs wrong (a kernel tfjs's gradients need is missing or buggy), and why: they get no vjp. */
  readonly vjpUnsupported?: { readonly families: readonly FamilyName[]; readonly why: string };
  /** Makes the backend registered and usable; throws ImplementationUnavailableError when this machine cannot run it. */
  setup(): Promise<void>;
  /** Releases what setup acquired. */
  dispose(): Promise<void>;
  /** Largest buffer the device takes (GPU backends), after setup; larger tensors are declined. */
  maxBufferBytes?(): number | undefined;
  /** Device errors since the last call (GPU backends report them asynchronously, tfjs ignores them). */
  takeDeviceErrors?(): string[];
  /** Called after every run: frees what the backend keeps for reuse (GPU backends' buffer pools) once it has grown past its limit, so that a long run's memory stays bounded. */
  releasePooledMemory?(): void;
  /** Backend-specific facts for the report (the generic ones are added by the implementation). */
  environment(): Record<string, string>;
}
