/** The runner side of the testee protocol (spec/protocol.md): plug in a kernel written in any language. */
export { processImplementation, type ProcessImplementation, type ProcessImplementationOptions } from './process-implementation.ts';
export { TesteeDeclinedError, TesteeError, type TesteeFailureKind } from './errors.ts';
export { CommandLineError, splitCommandLine } from './command-line.ts';
export { PROTOCOL_VERSION } from './messages.ts';
export type { FamilyCapabilities, TesteeDescription } from './handshake.ts';
