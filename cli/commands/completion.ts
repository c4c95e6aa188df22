/** `kseal completion bash|zsh|fish`: print a shell completion script (see cli/completion.ts). */
import { Argument, type Command } from 'commander';
import { completionScript } from '../completion.js';
import type { CliIo } from '../io.js';

/** Registers the command. */
export function completionCommand(program: Command, io: CliIo): void {
  program
    .command('completion')
    .summary('print a shell completion script')
    .description('Print a completion script for bash, zsh or fish, generated from the command tree.')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish']))
    .addHelpText(
      'after',
      `
Install:
  bash:  echo 'source <(kseal completion bash)' >> ~/.bashrc
  zsh:   kseal completion zsh > "\${fpath[1]}/_kseal"          # or: source <(kseal completion zsh) after compinit
  fish:  kseal completion fish > ~/.config/fish/completions/kseal.fish`,
    )
    .action((shell: 'bash' | 'zsh' | 'fish') => {
      io.stdout(completionScript(shell, 'kseal'));
    });
}
