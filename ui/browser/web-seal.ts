/**
 * The hybrid encryption of one value with WebCrypto, for the sealing page: byte for byte the format of
 * src/crypto/hybrid.ts `sealBytes` (docs/FORMAT.md section 1), which uses node:crypto and so cannot run
 * in a browser:
 *
 *   value = u16be(len(W)) || W || AES-256-GCM(K, nonce = 12 zero bytes, no AAD)(P) || tag(16)
 *   W     = RSA-OAEP(SHA-256, MGF1-SHA-256, label = scope label)(K), K = 32 random bytes
 *
 * WebCrypto's RSA-OAEP uses the one hash for OAEP and MGF1, as Go and node:crypto do. The session key
 * and the working copy of the plaintext are zeroed once used. test/ui/web-seal.test.ts runs it against the known-answer vectors and the
 * independent decoder (under Node's WebCrypto), and test/ui/page.test.ts in Chromium.
 */

/** WebCrypto's key type, named through the global so this file type-checks with Node's and the DOM's typings alike. */
export type WebCryptoKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

const NONCE = new Uint8Array(12);
const SESSION_KEY_BYTES = 32;

/** Seals `plaintext` to an RSA-OAEP SHA-256 `publicKey` under `label`. `sessionKey` is for test vectors only. */
export async function sealBytesWeb(publicKey: WebCryptoKey, label: Uint8Array, plaintext: Uint8Array, sessionKey?: Uint8Array): Promise<Uint8Array> {
  const key = new Uint8Array(SESSION_KEY_BYTES);
  if (sessionKey === undefined) crypto.getRandomValues(key);
  else {
    if (sessionKey.length !== SESSION_KEY_BYTES) throw new Error('the session key must be 32 bytes');
    key.set(sessionKey);
  }
  const data = copy(plaintext);
  try {
    const wrapped = new Uint8Array(await crypto.subtle.encrypt({ name: 'RSA-OAEP', label: copy(label) }, publicKey, key));
    const aes = await crypto.subtle.importKey('raw', key, { name: 'AES-GCM' }, false, ['encrypt']);
    const payload = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: NONCE, tagLength: 128 }, aes, data));
    if (wrapped.length > 0xffff) throw new Error('the RSA key is too large');
    const out = new Uint8Array(2 + wrapped.length + payload.length);
    out[0] = wrapped.length >> 8;
    out[1] = wrapped.length & 0xff;
    out.set(wrapped, 2);
    out.set(payload, 2 + wrapped.length);
    return out;
  } finally {
    key.fill(0);
    data.fill(0);
  }
}

/** A copy backed by a plain ArrayBuffer, as WebCrypto's BufferSource type wants. */
function copy(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(bytes.length);
  out.set(bytes);
  return out;
}
