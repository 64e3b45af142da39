/** The version of the normative spec (spec/README.md#versioning): fixtures and reports record it. */
export const SPEC_VERSION = '1.0.0';
