/** The file name of the bundled browser page, beside the compiled browser/ modules in the package. */
export const PAGE_BUNDLE = 'page-bundle.js';
