/** `kseal set`: seal one value (or an env file's values) into an existing SealedSecret file, in place, without any private key. */
import type { Command } from 'commander';
import { KsealError } from '../../src/errors.js';
import { parseEnvFile } from '../../src/model/env-file.js';
import { invalidSecretKey } from '../../src/model/names.js';
import { sealedSecretScope } from '../../src/model/sealed-secret.js';
import { describeScope } from '../../src/model/scope.js';
import { readInput, type CliIo } from '../io.js';
import { addCertSourceOptions } from '../options.js';
import { addConfigOption } from '../repo-config.js';
import { openOneSealedSecret, saveSealedFile, sealIntoDocument, type EditFlags } from '../sealed-file-edit.js';
import { readSecretValue } from '../secret-value.js';

interface SetFlags extends EditFlags {
  fromFile?: string;
  fromEnvFile?: string;
}

/** Registers the command. */
export function setCommand(program: Command, io: CliIo): void {
  const command = program
    .command('set')
    .summary('seal one value into a SealedSecret file, in place')
    .description(
      'Seal a value for KEY into the SealedSecret in FILE, replacing or adding just that key: comments, order and every other ciphertext stay byte for byte. ' +
        "The value comes from --from-file, or stdin, or (on a terminal) a hidden prompt asked twice; never from the command line. It is sealed for the object's own scope, name and namespace. No private key is needed.",
    )
    .argument('<file>', 'SealedSecret file to edit')
    .argument('[key]', 'the key to set (not with --from-env-file)')
    .option('--from-file <file>', 'read the value from this file, byte for byte (- for stdin)')
    .option('--from-env-file <file>', 'set every KEY=VALUE of this env file (kubectl format)');
  addConfigOption(addCertSourceOptions(command));
  command.addHelpText(
    'after',
    `
Examples:
  kseal set db.sealed.yaml password                      # asks twice, hidden
  kseal set db.sealed.yaml tls.key --from-file ./tls.key
  vault read -field=token secret/ci | kseal set ci.sealed.yaml token
  kseal set app.sealed.yaml --from-env-file ./app.env`,
  );
  command.action(async (file: string, key: string | undefined, flags: SetFlags) => {
    let values: Map<string, Buffer>;
    if (flags.fromEnvFile !== undefined) {
      if (key !== undefined || flags.fromFile !== undefined) throw new KsealError('USAGE', '--from-env-file sets the keys the file names; give no KEY and no --from-file with it');
      const { bytes, source } = await readInput(io, flags.fromEnvFile);
      values = parseEnvFile(bytes.toString('utf8'), source, io.env);
      if (values.size === 0) throw new KsealError('EMPTY_DATA', 'the env file sets no keys', { file: source });
    } else {
      if (key === undefined) throw new KsealError('USAGE', 'name the KEY to set, or pass --from-env-file', { hint: 'kseal set FILE KEY [--from-file F]' });
      const why = invalidSecretKey(key);
      if (why) throw new KsealError('INVALID_KEY_NAME', `the key name is not valid: it ${why}`, { key });
      values = new Map();
      // Open first, so a wrong FILE fails before anyone types a value.
      await openOneSealedSecret(io, file, 'kseal set');
      values.set(key, await readSecretValue(io, flags.fromFile, key));
    }
    const opened = await openOneSealedSecret(io, file, 'kseal set');
    const existed = [...values.keys()].filter((k) => Object.hasOwn(opened.sealed.spec.encryptedData, k)).length;
    await sealIntoDocument(io, flags, opened, values);
    await saveSealedFile(io, opened);
    const { metadata } = opened.sealed;
    io.stderr(`kseal: ${file}: sealed ${values.size} key${values.size === 1 ? '' : 's'} (${existed} replaced, ${values.size - existed} added) for ${describeScope(sealedSecretScope(opened.sealed), metadata.namespace, metadata.name)}\n`);
  });
}
