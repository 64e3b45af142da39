/**
 * tfjs's native TensorFlow backend from the optional @tensorflow/tfjs-node, used only when it is
 * installed (it cannot be on every machine: it downloads libtensorflow at install time).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ImplementationUnavailableError } from '../../../spec/implementation.ts';
import type { TfjsBackend } from '../backend.ts';

/** The optional package; a variable so neither TypeScript nor a bundler requires it to exist. */
const TFJS_NODE = '@tensorflow/tfjs-node';

/** The tensorflow backend when @tensorflow/tfjs-node loads, else undefined (with nothing thrown). */
export async function loadTensorflowBackend(): Promise<TfjsBackend | undefined> {
  let tfjsNode: { version?: Record<string, string> };
  try {
    tfjsNode = (await import(TFJS_NODE)) as { version?: Record<string, string> };
  } catch {
    return undefined;
  }
  return {
    backendName: 'tensorflow',
    description: 'TensorFlow.js ops on the tensorflow backend (native libtensorflow via @tensorflow/tfjs-node)',
    ltiSsm: { kind: 'fft', summary: 'FFT convolution (native TensorFlow FFT), any length', decline: () => undefined },
    async setup() {
      // tfjs-node registers its backend on the tfjs-core it resolves; a second copy of tfjs-core would be a different engine.
      if (tf.findBackendFactory('tensorflow') === null) {
        throw new ImplementationUnavailableError(
          `@tensorflow/tfjs-node loaded but registered no 'tensorflow' backend on this tfjs-core ${tf.version_core} (it resolves its own copy of tfjs-core)`,
        );
      }
    },
    async dispose() {},
    environment() {
      return { backendVersion: tfjsNode.version?.['tfjs-node'] ?? 'unknown' };
    },
  };
}
