import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * scripts/setup-webgpu.sh adds bookworm-backports from the mirror apt already uses for bookworm (a local mirror or
 * proxy keeps working), whether the sources are one-line or deb822; deb.debian.org only when none names one.
 */
const script = new URL('../../../scripts/setup-webgpu.sh', import.meta.url).pathname;

function backportsLine(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'webrnn-apt-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(root, name, '..'), { recursive: true });
    writeFileSync(join(root, name), text);
  }
  return execFileSync('bash', [script, '--backports-line', root], { encoding: 'utf8' }).trim();
}

describe('setup-webgpu.sh', () => {
  it('takes the bookworm mirror of deb822 sources, not the security one', () => {
    const sources =
      'Types: deb\nURIs: http://security.local/debian-security\nSuites: bookworm-security\nComponents: main\n\n' +
      'Types: deb\nURIs: http://mirror.local/debian\nSuites: bookworm bookworm-updates\nComponents: main\n';
    expect(backportsLine({ 'etc/apt/sources.list.d/debian.sources': sources })).toBe(
      'deb http://mirror.local/debian bookworm-backports main',
    );
  });

  it('takes the mirror of a one-line source, options and all', () => {
    expect(
      backportsLine({
        'etc/apt/sources.list': 'deb [arch=amd64] http://proxy:3142/debian bookworm main contrib\n',
      }),
    ).toBe('deb http://proxy:3142/debian bookworm-backports main');
  });

  it('falls back to deb.debian.org when no source names bookworm itself', () => {
    expect(backportsLine({ 'etc/apt/sources.list': 'deb http://x/debian bookworm-updates main\n' })).toBe(
      'deb http://deb.debian.org/debian bookworm-backports main',
    );
    expect(backportsLine({})).toBe('deb http://deb.debian.org/debian bookworm-backports main');
  });
});
