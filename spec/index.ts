/** The spec: families, shapes, precisions and the plug-in interface. */
export * from './tensor.ts';
export * from './precision.ts';
export * from './families.ts';
export * from './shapes.ts';
export * from './implementation.ts';
