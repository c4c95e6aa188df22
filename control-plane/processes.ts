/**
 * Child processes of the test control plane: spawn with output to a log file, wait for a health
 * URL, stop with SIGTERM (SIGKILL after a grace period) or kill at once. Every process started
 * here is also SIGKILLed when the Node process exits, so a failed or interrupted run leaves
 * nothing behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** A running binary of the control plane. */
export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logPath: string;
  /** Resolves with the exit code (or signal name) once it exited. */
  readonly exited: Promise<number | string>;
  /** Whether it still runs. */
  running(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL; resolves once it exited. */
  kill(): Promise<void>;
  /** The last `bytes` of its log, for error messages. */
  tail(bytes?: number): string;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/** Starts `bin args...` with stdout and stderr appended to `logPath`; `env` adds to (or overrides) this process's environment. */
export function startProcess(name: string, bin: string, args: readonly string[], logPath: string, env: Readonly<Record<string, string>> = {}): ManagedProcess {
  installExitHook();
  const fd = openSync(logPath, 'a');
  const child = spawn(bin, args, { stdio: ['ignore', fd, fd], env: { ...process.env, KUBECONFIG: '', ...env } });
  closeSync(fd);
  live.add(child);
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => {
      live.delete(child);
      resolve(code ?? signal ?? 'unknown');
    });
    child.on('error', () => {
      live.delete(child);
      resolve('spawn-error');
    });
  });
  const running = (): boolean => child.exitCode === null && child.signalCode === null && live.has(child);
  const tail = (bytes = 3000): string => {
    try {
      const text = readFileSync(logPath, 'utf8');
      return text.slice(-bytes);
    } catch {
      return '';
    }
  };
  return {
    name,
    child,
    logPath,
    exited,
    running,
    tail,
    async stop(graceMs = 10_000) {
      if (!running()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (!running()) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A TCP port on 127.0.0.1 that was free a moment ago (for binaries that cannot listen on port 0). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Polls `check` until it resolves true; fails early (with the log's tail) when `proc` exits, and
 * after `timeoutMs`.
 */
export async function waitHealthy(proc: ManagedProcess, what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    if (!proc.running()) throw new Error(`${proc.name} exited before ${what}:\n${proc.tail()}`);
    try {
      if (await check()) return;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() > deadline) throw new Error(`${proc.name}: timed out after ${timeoutMs} ms waiting for ${what} (${last}); log tail:\n${proc.tail()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
