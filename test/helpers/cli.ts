/** Runs the CLI in-process with captured output, a chosen stdin and a temporary working directory. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { main } from '../../cli/main.js';
import type { CliIo } from '../../cli/io.js';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliRunOptions {
  readonly stdin?: string | Buffer;
  readonly env?: Record<string, string | undefined>;
  readonly cwd?: string;
  readonly now?: Date;
  /** Pretend stdin is a terminal: each hidden prompt returns the next answer and records its prompt. */
  readonly tty?: { readonly answers: readonly string[]; readonly prompts: string[] };
}

/** Runs `kseal <argv>` in-process. */
export async function runCli(argv: readonly string[], options: CliRunOptions = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    readStdin: () => Promise.resolve(Buffer.from(options.stdin ?? '')),
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    now: () => options.now ?? new Date(),
  };
  const tty = options.tty;
  if (tty !== undefined) {
    let next = 0;
    Object.assign(io, {
      stdinIsTty: true,
      promptHidden: (prompt: string) => {
        tty.prompts.push(prompt);
        return Promise.resolve(tty.answers[next++] ?? '');
      },
    });
  }
  // commander reads the variables bound with Option.env() from process.env: mirror the chosen
  // environment there for the run (kseal's and kubeseal's variables only), then restore it.
  const saved = new Map<string, string | undefined>();
  for (const key of Object.keys(process.env)) if (/^(KSEAL_|SEALED_SECRETS_)/.test(key)) saved.set(key, process.env[key]);
  for (const key of Object.keys(options.env ?? {})) if (/^(KSEAL_|SEALED_SECRETS_)/.test(key)) saved.set(key, process.env[key]);
  for (const key of saved.keys()) {
    const value = options.env?.[key];
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  try {
    const code = await main(argv, io);
    return { code, stdout, stderr };
  } finally {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

/** A temporary directory with helpers to put files in it; remove() when done. */
export interface TempDir {
  readonly path: string;
  write(name: string, content: string | Buffer): string;
  remove(): void;
}

/** Creates a temporary directory. */
export function tempDir(): TempDir {
  const path = mkdtempSync(join(tmpdir(), 'kseal-test-'));
  return {
    path,
    write(name, content) {
      const file = join(path, name);
      writeFileSync(file, content);
      return file;
    },
    remove() {
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/** A fresh temporary directory per test, holding a certificate as `cert.pem`. */
export interface CertFixture {
  readonly dir: TempDir;
  readonly certPath: string;
}

/**
 * Registers beforeEach/afterEach hooks that give each test its own temporary directory with
 * `certificatePem` written to cert.pem, removed after the test (the setup the CLI tests share).
 */
export function certFixture(key: { readonly certificatePem: string }): CertFixture {
  const fixture = {} as { dir: TempDir; certPath: string };
  beforeEach(() => {
    fixture.dir = tempDir();
    fixture.certPath = fixture.dir.write('cert.pem', key.certificatePem);
  });
  afterEach(() => fixture.dir.remove());
  return fixture;
}
