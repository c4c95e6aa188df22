/**
 * Reading a secret from the terminal without echo (like `read -s` or ssh's password prompt): the
 * prompt goes to stderr, the terminal is put in raw mode for the read and restored afterwards,
 * backspace edits, Enter ends the line, Ctrl-C and Ctrl-D abandon it.
 */
import { KsealError } from '../src/errors.js';

/** Reads one line from the TTY on stdin without echoing it. */
export function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    process.stderr.write(prompt);
    let line = '';
    const wasRaw = stdin.isRaw;
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (error?: KsealError): void => {
      stdin.off('data', onData);
      stdin.setRawMode(wasRaw);
      stdin.pause();
      process.stderr.write('\n');
      if (error === undefined) resolve(line);
      else reject(error);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003' || ch === '\u0004') return done(new KsealError('USAGE', 'no value entered (interrupted)'));
        if (ch === '\u007f' || ch === '\b') line = line.slice(0, -1);
        else line += ch;
      }
    };
    stdin.on('data', onData);
  });
}
