/**
 * Standard base64 (RFC 4648 §4, with `=` padding) as Kubernetes and Bitnami's controller read it:
 * Go's `base64.StdEncoding` ignores CR and LF anywhere in the input and rejects everything else that
 * is not the alphabet or correct padding. Node's own decoder silently skips bad characters, so it is
 * never used on untrusted input without this check first.
 */

const STRICT = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes standard padded base64, ignoring CR/LF as Go does. Returns undefined when the text is not base64. */
export function decodeBase64(text: string): Buffer | undefined {
  const compact = text.includes('\r') || text.includes('\n') ? text.replace(/[\r\n]/g, '') : text;
  if (!STRICT.test(compact)) return undefined;
  return Buffer.from(compact, 'base64');
}

/** Encodes bytes as standard padded base64. */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
