/** The team-workflow commands (issue 12), registered after the core ones: repo config, write-only edits, create, merge driver, lint. */
import type { Command } from 'commander';
import type { CliIo } from './io.js';
import { configCommand } from './commands/config.js';
import { createSecretCommand } from './commands/create-secret.js';
import { lintCommand } from './commands/lint.js';
import { mergeDriverCommand } from './commands/merge-driver.js';
import { renameKeyCommand } from './commands/rename-key.js';
import { setCommand } from './commands/set.js';
import { unsetCommand } from './commands/unset.js';

/** Registration functions, in help order. */
export const workflowCommands: ReadonlyArray<(program: Command, io: CliIo) => void> = [createSecretCommand, setCommand, unsetCommand, renameKeyCommand, configCommand, lintCommand, mergeDriverCommand];
