import { afterEach, describe, expect, it } from 'vitest';
import { canCompileFormulas, forceCompiledFormulas } from '../src/backends/cpu/formulaClosure.js';

/**
 * Whether the CPU formulas may be compiled with `new Function` (formulaClosure.ts canCompileFormulas): detected
 * once, false where the constructor throws (a Content-Security-Policy without 'unsafe-eval', simulated here by a
 * Function that throws an EvalError) and then kept, true where it works; a forced answer wins until reset to null,
 * which detects afresh.
 */
const realFunction = globalThis.Function;
afterEach(() => {
  globalThis.Function = realFunction;
  forceCompiledFormulas(null);
});

describe('canCompileFormulas', () => {
  it('is true where new Function works (Node), and a forced answer wins until reset', () => {
    forceCompiledFormulas(null);
    expect(canCompileFormulas()).toBe(true);
    forceCompiledFormulas(false);
    expect(canCompileFormulas()).toBe(false);
    forceCompiledFormulas(true);
    expect(canCompileFormulas()).toBe(true);
    forceCompiledFormulas(null);
    expect(canCompileFormulas()).toBe(true);
  });

  it('is false where new Function throws, detected once and kept', () => {
    let calls = 0;
    globalThis.Function = function csp() {
      calls++;
      throw new EvalError("Refused to evaluate a string as JavaScript because 'unsafe-eval' is not allowed");
    } as unknown as FunctionConstructor;
    forceCompiledFormulas(null);
    expect(canCompileFormulas()).toBe(false);
    globalThis.Function = realFunction;
    expect(canCompileFormulas()).toBe(false); // kept: a page's policy does not change
    expect(calls).toBe(1);
    forceCompiledFormulas(true);
    expect(canCompileFormulas()).toBe(true);
    forceCompiledFormulas(null);
    expect(canCompileFormulas()).toBe(true); // detected afresh, now with the real constructor
  });

  it('is false where new Function gives a function that does not run the text', () => {
    globalThis.Function = function stub() {
      return () => undefined;
    } as unknown as FunctionConstructor;
    forceCompiledFormulas(null);
    expect(canCompileFormulas()).toBe(false);
  });
});
