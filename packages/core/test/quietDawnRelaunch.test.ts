/**
 * relaunchWithoutDawnWarnings (quietDawn.ts) in this process, with a fake child_process: what it starts (the
 * same Node, flags and arguments, stderr piped, its own session, the marker in a copy of the environment), what
 * reaches this process's stderr (the child's, filtered, the held-back tail flushed at the end), the signals it
 * forwards, and how it ends (the child's code, 1 without one, the child's signal, or an error when the child
 * cannot start). quietDawn.test.ts runs the built package for real; this one runs the sources, every branch.
 */
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DAWN_FILTERED_ENV, relaunchWithoutDawnWarnings } from '../src/quietDawn.js';

const WARNING =
  'Warning: maxDynamicStorageBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.';

class FakeChild extends EventEmitter {
  readonly stderr = new EventEmitter();
  readonly kills: string[] = [];
  kill(signal: string): boolean {
    this.kills.push(signal);
    return true;
  }
}

interface Harness {
  child: FakeChild;
  spawn: ReturnType<typeof vi.fn>;
  /** Listeners this code added to `process`, by event, in order; and those it removed. */
  added: Map<string, ((...args: unknown[]) => void)[]>;
  removed: [string, unknown][];
  stderr: string[];
  exit: ReturnType<typeof vi.fn>;
  kill: ReturnType<typeof vi.fn>;
}

let h: Harness;
const savedEnv: Record<string, string | undefined> = {};

beforeEach(() => {
  for (const name of [DAWN_FILTERED_ENV, 'WEBRNN_VERBOSE']) {
    savedEnv[name] = process.env[name];
    delete process.env[name];
  }
  const child = new FakeChild();
  const spawn = vi.fn(() => child);
  const realBuiltin = process.getBuiltinModule.bind(process);
  vi.spyOn(process, 'getBuiltinModule').mockImplementation(((id: string) =>
    id === 'node:child_process' ? { spawn } : realBuiltin(id)) as typeof process.getBuiltinModule);
  const added = new Map<string, ((...args: unknown[]) => void)[]>();
  const removed: [string, unknown][] = [];
  vi.spyOn(process, 'on').mockImplementation(((event: string, fn: (...args: unknown[]) => void) => {
    added.set(event, [...(added.get(event) ?? []), fn]);
    return process;
  }) as typeof process.on);
  vi.spyOn(process, 'off').mockImplementation(((event: string, fn: unknown) => {
    removed.push([event, fn]);
    return process;
  }) as typeof process.off);
  const stderr: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation(((text: string) => {
    stderr.push(text);
    return true;
  }) as typeof process.stderr.write);
  const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
  const kill = vi.spyOn(process, 'kill').mockImplementation(() => true);
  h = { child, spawn, added, removed, stderr, exit, kill } as unknown as Harness;
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

const only = (event: string) => {
  const list = h.added.get(event) ?? [];
  expect(list).toHaveLength(1);
  return list[0]!;
};

describe('relaunchWithoutDawnWarnings, with a fake child process', () => {
  it('starts this program again: same Node, flags and arguments, stderr piped, detached, marked environment', () => {
    expect(relaunchWithoutDawnWarnings()).toBe(true);
    expect(h.spawn).toHaveBeenCalledTimes(1);
    const [file, args, options] = h.spawn.mock.calls[0]!;
    expect(file).toBe(process.execPath);
    expect(args).toEqual([...process.execArgv, ...process.argv.slice(1)]);
    expect(options.stdio).toEqual(['inherit', 'inherit', 'pipe']);
    expect(options.detached).toBe(true);
    expect(options.env[DAWN_FILTERED_ENV]).toBe('1');
    expect(options.env.PATH).toBe(process.env.PATH);
    expect(process.env[DAWN_FILTERED_ENV]).toBeUndefined(); // a copy: this process is not marked
    expect(h.exit).not.toHaveBeenCalled();
  });

  it("passes the child's stderr on without the warning, flushing a held-back tail when it closes", () => {
    relaunchWithoutDawnWarnings();
    const bytes = new TextEncoder().encode(`step 1\n${WARNING}\nloss ✓\nWarning: maxDyn`);
    for (const [from, to] of [
      [0, 9],
      [9, 60],
      [60, bytes.length - 3],
      [bytes.length - 3, bytes.length],
    ] as const) {
      h.child.stderr.emit('data', bytes.subarray(from, to));
    }
    expect(h.stderr.join('')).toBe('step 1\nloss ✓\n');
    h.child.emit('close', 0, null);
    expect(h.stderr.join('')).toBe('step 1\nloss ✓\nWarning: maxDyn');
    expect(h.exit).toHaveBeenCalledWith(0);
  });

  it('forwards SIGINT, SIGTERM and SIGHUP to the child, and kills it if this process exits first', () => {
    relaunchWithoutDawnWarnings();
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) only(signal)(signal);
    expect(h.child.kills).toEqual(['SIGINT', 'SIGTERM', 'SIGHUP']);
    only('exit')(0);
    expect(h.child.kills.at(-1)).toBe('SIGKILL');
  });

  it("ends with the child's exit code (1 without one) and removes every listener it added", () => {
    for (const [code, want] of [
      [3, 3],
      [null, 1],
    ] as const) {
      h.added.clear();
      h.removed.length = 0;
      h.exit.mockClear();
      relaunchWithoutDawnWarnings();
      h.child.emit('close', code, null);
      expect(h.exit).toHaveBeenCalledWith(want);
      const added = [...h.added].flatMap(([event, fns]) => fns.map((fn) => [event, fn]));
      expect(added).toHaveLength(4);
      expect(new Set(h.removed)).toEqual(new Set(added));
      expect(h.removed).toHaveLength(4);
      h.child.removeAllListeners();
      h.child.stderr.removeAllListeners();
    }
    expect(h.kill).not.toHaveBeenCalled();
  });

  it("ends by the child's signal, and by the shell's status for it if that signal does not end this process", () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    relaunchWithoutDawnWarnings();
    h.child.emit('close', null, 'SIGTERM');
    expect(h.kill).toHaveBeenCalledWith(process.pid, 'SIGTERM');
    vi.advanceTimersByTime(199);
    expect(h.exit).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(h.exit).toHaveBeenCalledWith(128 + 15);
    expect(h.exit).toHaveBeenCalledTimes(1);
  });

  it('reports a child that cannot start, naming the program, and exits with 1', () => {
    relaunchWithoutDawnWarnings();
    const orphaned = only('exit');
    h.child.emit('error', new Error('spawn EACCES'));
    expect(h.stderr.join('')).toBe(
      `error: could not start ${process.argv[1]} again behind the stderr filter: spawn EACCES\n`,
    );
    expect(h.exit).toHaveBeenCalledWith(1);
    expect(h.removed).toContainEqual(['exit', orphaned]);
  });

  it('runs the program itself (false) where Node has no child_process', () => {
    vi.mocked(process.getBuiltinModule).mockImplementation((() => undefined) as never);
    expect(relaunchWithoutDawnWarnings()).toBe(false);
    expect(h.spawn).not.toHaveBeenCalled();
    expect(h.added.size).toBe(0);
  });

  it('runs the program itself (false) when only one of the two variables is set to 1, not to another value', () => {
    for (const [name, value, want] of [
      [DAWN_FILTERED_ENV, '1', false],
      ['WEBRNN_VERBOSE', '1', false],
      [DAWN_FILTERED_ENV, '0', true],
      ['WEBRNN_VERBOSE', '0', true],
    ] as const) {
      process.env[name] = value;
      expect(relaunchWithoutDawnWarnings()).toBe(want);
      delete process.env[name];
    }
  });
});
