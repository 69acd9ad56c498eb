import type { FileHandle } from 'node:fs/promises';

/**
 * Replacing a file so that a reader (or a crash, or a kill) only ever sees the old file or the new one whole:
 * write a fresh temporary file in the same folder, fsync it, rename it over the target, fsync the folder.
 * Node-only and free of webrnn imports (a test runs it in a child process that it kills mid-save). Node's modules
 * are imported when called, so that a browser bundle holds no `node:` import (the callers refuse file paths
 * outside Node before getting here).
 *
 * The temporary name is `.<file>.<pid>.<24 random hex>.webrnn-tmp`: unpredictable, and opened with 'wx'
 * (O_CREAT|O_EXCL), which refuses any existing name, a planted symlink included, instead of following it.
 * The pid lets a later save tell a dead process's leftovers from a live one's work in progress.
 */

const SUFFIX = '.webrnn-tmp';
/** Temporary files this process is writing now (never removed as stale). */
const writing = new Set<string>();

type NodeModules = {
  fs: typeof import('node:fs/promises');
  path: typeof import('node:path');
  crypto: typeof import('node:crypto');
};

/** Node's modules, imported by names held in variables: browser bundlers leave such imports alone. */
async function node(): Promise<NodeModules> {
  const names = ['node:fs/promises', 'node:path', 'node:crypto'];
  const [fs, path, crypto] = await Promise.all(
    names.map((n) => import(/* webpackIgnore: true */ /* @vite-ignore */ n)),
  );
  return { fs, path, crypto };
}

export async function writeFileAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const { fs, path: p, crypto } = await node();
  const { basename, dirname, join } = p;
  const folder = dirname(path);
  const tmp = join(
    folder,
    `.${basename(path)}.${process.pid}.${crypto.randomBytes(12).toString('hex')}${SUFFIX}`,
  );
  writing.add(tmp);
  let created = false;
  try {
    const fh = await fs.open(tmp, 'wx', 0o644);
    created = true;
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, path);
    created = false;
  } catch (e) {
    // Remove only what this call created: an EEXIST name belongs to someone else.
    if (created) await fs.unlink(tmp).catch(() => {});
    throw e;
  } finally {
    writing.delete(tmp);
  }
  await syncFolder(folder, fs);
}

/** Make the rename durable. Some systems cannot fsync a folder (EISDIR, EINVAL): there is nothing more to do. */
async function syncFolder(folder: string, fs: NodeModules['fs']): Promise<void> {
  let fh: FileHandle | null = null;
  try {
    fh = await fs.open(folder, 'r');
    await fh.sync();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF') throw e;
  } finally {
    await fh?.close();
  }
}

/**
 * Remove the temporary files that saves to `path` left behind when their process died (killed, crashed, or a
 * failed unlink): those of processes that no longer run, and this process's own that no save is writing.
 * Saves call it before writing; call it yourself after a crash. Returns the removed paths.
 */
export async function removeStaleTemporaryFiles(path: string): Promise<string[]> {
  const { fs, path: p } = await node();
  const { basename, dirname, join } = p;
  const folder = dirname(path);
  const prefix = `.${basename(path)}.`;
  let names: string[];
  try {
    names = await fs.readdir(folder);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith(SUFFIX)) continue;
    const m = /^(\d+)\.[0-9a-f]{24}$/.exec(name.slice(prefix.length, -SUFFIX.length));
    if (!m) continue;
    const pid = Number(m[1]);
    const full = join(folder, name);
    if (pid === process.pid ? writing.has(full) : isRunning(pid)) continue;
    try {
      await fs.unlink(full);
      removed.push(full);
    } catch {
      // Gone already (another cleanup), or not ours to remove: leave it.
    }
  }
  return removed;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it runs, as another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
