/**
 * docs/porting.md's TypeScript snippets run as written (each is a small program that throws when what the page
 * says is not so), so the porting page cannot drift from the code.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const page = readFileSync(join(here, '../../../docs/porting.md'), 'utf8');
const snippets = [...page.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
// Inside the package, so that '@webrnn/rnn' resolves as it does for the tests; removed afterwards.
const dir = join(here, '.porting-snippets');

const files = snippets.map((_, i) => join(dir, `snippet${i}.ts`));

beforeAll(() => {
  mkdirSync(dir, { recursive: true });
  snippets.forEach((code, i) => writeFileSync(files[i]!, code));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('docs/porting.md', () => {
  it('has snippets, each importing from @webrnn/rnn', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(5);
    for (const s of snippets) expect(s).toMatch(/from '@webrnn\/rnn'/);
  });

  it('type-checks under the strict settings of the project (as a user’s tsc would see them)', () => {
    const config = ts.readConfigFile(join(here, '../../../tsconfig.tests.json'), ts.sys.readFile);
    const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, join(here, '../../..'));
    const program = ts.createProgram(files, { ...options, noEmit: true });
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file && files.includes(d.file.fileName))
      .map(
        (d) =>
          `${d.file!.fileName.split('/').pop()}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`,
      );
    expect(problems).toEqual([]);
  }, 60_000);

  snippets.forEach((code, i) => {
    const title = code.split('\n').find((l) => l.startsWith('const ')) ?? `snippet ${i}`;
    it(`snippet ${i} runs (${title.slice(0, 60)})`, async () => {
      await import(files[i]!);
    });
  });
});
