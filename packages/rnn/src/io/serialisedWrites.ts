import { WebrnnError } from '../module/deps.js';
import { requireNodeFiles } from './nodeFiles.js';

/**
 * Saves to one path run one after another in the order they were called, so the last call wins whole: two
 * checkpoints fired close together (a periodic save while the previous one still writes) never interleave.
 * Paths are compared after making them absolute and removing `.` and `..` (not by resolving symlinks).
 */

const chains = new Map<string, Promise<void>>();

function pathKey(path: string): string {
  const abs = path.startsWith('/') ? path : `${process.cwd()}/${path}`;
  const parts: string[] = [];
  for (const s of abs.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') parts.pop();
    else parts.push(s);
  }
  return `/${parts.join('/')}`;
}

/**
 * Write `bytes` (still being produced: a snapshot being read) to `path` atomically once every earlier save to
 * it has settled. Must be called synchronously from the save, so that the order of calls is the order of writes.
 */
export function writeSerialised(op: string, path: string, bytes: Promise<Uint8Array>): Promise<void> {
  // Handled here so that a failure while an earlier save writes is not reported as unhandled; awaited below.
  bytes.catch(() => {});
  try {
    requireNodeFiles(op, path);
  } catch (e) {
    return Promise.reject(e);
  }
  const key = pathKey(path);
  const write = async () => {
    const data = await bytes;
    const { removeStaleTemporaryFiles, writeFileAtomically } = await import('./atomicWrite.js');
    try {
      await removeStaleTemporaryFiles(path);
      await writeFileAtomically(path, data);
    } catch (e) {
      throw new WebrnnError(
        op,
        `cannot write ${path}: ${(e as Error).message} (the file there before, if any, is untouched)`,
      );
    }
  };
  const next = (chains.get(key) ?? Promise.resolve()).then(write);
  const tail = next.catch(() => {});
  chains.set(key, tail);
  void tail.then(() => {
    if (chains.get(key) === tail) chains.delete(key);
  });
  return next;
}

/**
 * Remove the temporary files that saves to `path` left behind when their process was killed or crashed
 * (`.<file>.<pid>.<random>.webrnn-tmp` of processes no longer running). Every save does this first; call it after
 * a crash to tidy the folder without saving. Node only. Returns the removed paths.
 */
export async function removeStaleTemporaryFiles(path: string): Promise<string[]> {
  requireNodeFiles('removeStaleTemporaryFiles', path);
  return (await import('./atomicWrite.js')).removeStaleTemporaryFiles(path);
}
