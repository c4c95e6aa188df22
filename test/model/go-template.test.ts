import { describe, expect, it } from 'vitest';
import { renderGoTemplate } from '../../src/model/go-template.js';
import { ksealErrorOf } from '../helpers/errors.js';

function refused(template: string, why: RegExp): void {
  const e = ksealErrorOf(() => renderGoTemplate(template, data));
  expect(e.code).toBe('UNSUPPORTED_TEMPLATE');
  expect(e.message).toMatch(why);
}

const data = { user: 'admin', password: 'p@ss', empty: '' };

describe("Bitnami's spec.template.data Go templates", () => {
  it('renders fields, literals and text as Go text/template does', () => {
    expect(renderGoTemplate('postgres://{{ .user }}:{{ .password }}@db:5432', data)).toBe('postgres://admin:p@ss@db:5432');
    expect(renderGoTemplate('no actions at all', data)).toBe('no actions at all');
    expect(renderGoTemplate('{{ "lit" }}-{{ `raw` }}-{{ 42 }}', data)).toBe('lit-raw-42');
  });

  it('prints <no value> for a missing key, as Go does for a map', () => {
    expect(renderGoTemplate('{{ .nope }}', data)).toBe('<no value>');
  });

  it('runs pipelines and Sprig string functions', () => {
    expect(renderGoTemplate('{{ .user | upper }}', data)).toBe('ADMIN');
    expect(renderGoTemplate('{{ .password | b64enc }}', data)).toBe(Buffer.from('p@ss').toString('base64'));
    expect(renderGoTemplate('{{ .empty | default "x" }}', data)).toBe('x');
    expect(renderGoTemplate('{{ printf "%s:%s" .user .password }}', data)).toBe('admin:p@ss');
    expect(renderGoTemplate('{{ index . "user" | quote }}', data)).toBe('"admin"');
    expect(renderGoTemplate('{{ replace "@" "%40" .password }}', data)).toBe('p%40ss');
  });

  it('trims whitespace around {{- and -}} and drops comments', () => {
    expect(renderGoTemplate('a  {{- .user -}}  b{{/* note */}}', data)).toBe('aadminb');
  });

  it('refuses control structures, variables and unknown functions by name', () => {
    refused('{{ if .user }}x{{ end }}', /"if"/);
    refused('{{ $x := .user }}', /variable/);
    refused('{{ env "HOME" }}', /"env"/);
    refused('{{ .user ', /unclosed/);
  });
});
