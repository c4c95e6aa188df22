/**
 * Gives the page the `Buffer` global that the library's model code (src/model, src/crypto/base64.ts)
 * uses, from the `buffer` package (Node's Buffer API for browsers); esbuild injects it into the page
 * bundle only (scripts/build.mjs). node:crypto is never needed there: sealing is web-seal.ts.
 */
export { Buffer } from 'buffer';
