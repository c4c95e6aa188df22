/**
 * `--from-env-file` files as kubectl reads them (kubectl's env_file.go): one `KEY=VALUE` per line,
 * leading whitespace ignored, blank lines and `#` comments skipped, the value taken literally (no
 * quote removal) up to the end of the line, a UTF-8 BOM at the start dropped. A line holding only
 * `KEY` takes the value of that environment variable, and is skipped when it is not set.
 * Errors name the file and line, never a value.
 */
import { KsealError } from '../errors.js';
import { invalidSecretKey } from './names.js';

/** Parses an env file into key → bytes, in file order (a repeated key: the last line wins, as in kubectl). */
export function parseEnvFile(text: string, source: string, env: Readonly<Record<string, string | undefined>>): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, '').replace(/^\s+/, '');
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    const key = eq < 0 ? line : line.slice(0, eq);
    const why = invalidSecretKey(key);
    if (why) throw new KsealError('INVALID_KEY_NAME', `line ${i + 1}: the key name is not valid: it ${why}`, { file: source, hint: 'each line must be KEY=VALUE' });
    if (eq < 0) {
      const fromEnv = env[key];
      if (fromEnv !== undefined) out.set(key, Buffer.from(fromEnv, 'utf8'));
      return;
    }
    out.set(key, Buffer.from(line.slice(eq + 1), 'utf8'));
  });
  return out;
}
