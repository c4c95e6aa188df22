/**
 * Runs an Argo CD Lua health script in a real Lua 5.1 VM (Debian's lua5.1, the language version of
 * Argo CD's gopher-lua), the way Argo CD does: the live object as the global `obj`, the script's
 * return value as the health status. The object goes in as a Lua table literal.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** The Lua 5.1 interpreter, or undefined when none is installed (.ci/run installs Debian's lua5.1). */
export function findLua(): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter);
  const candidates = [process.env.LUA, '/usr/bin/lua5.1', ...dirs.map((d) => join(d, 'lua5.1'))];
  return candidates.find((c): c is string => c !== undefined && c !== '' && existsSync(c));
}

/** A JSON value as a Lua table constructor (null fields are left out, as Argo CD's conversion does). */
function toLua(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'nil';
  if (typeof value === 'string') return luaString(value);
  if (Array.isArray(value)) return `{${value.map(toLua).join(', ')}}`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== null && v !== undefined);
  return `{${entries.map(([k, v]) => `[${luaString(k)}] = ${toLua(v)}`).join(', ')}}`;
}

function luaString(s: string): string {
  let out = '"';
  for (const byte of Buffer.from(s, 'utf8')) {
    out += byte >= 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x5c ? String.fromCharCode(byte) : `\\${byte}`;
  }
  return `${out}"`;
}

/** The health an Argo CD Lua script returns for `obj`. */
export interface LuaHealth {
  readonly status: string;
  readonly message: string;
}

/** Runs `scriptPath` for each object in one VM start per object; throws when Lua fails. */
export function runHealthScript(lua: string, scriptPath: string, obj: unknown): LuaHealth {
  const dir = mkdtempSync(join(tmpdir(), 'kseal-lua-'));
  try {
    const harness = join(dir, 'harness.lua');
    writeFileSync(
      harness,
      [
        `obj = ${toLua(obj)}`,
        `local script = assert(loadfile(${luaString(scriptPath)}))`,
        'local hs = script()',
        'io.write(tostring(hs.status), "\\n", tostring(hs.message or ""))',
      ].join('\n'),
    );
    const out = execFileSync(lua, [harness], { encoding: 'utf8', timeout: 10_000 });
    const newline = out.indexOf('\n');
    return { status: out.slice(0, newline), message: out.slice(newline + 1) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
