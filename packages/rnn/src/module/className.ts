/**
 * A class's own name, as written in the source. Bundlers rename classes they must tell apart or that refer to
 * themselves (esbuild: `_FastLSTM` for a class with static members, `Linear2` for a second `Linear` in scope); the
 * names that Torch-style printing, saved structures and optimiser states carry must not change with the bundler.
 * (A minifier that mangles class names must be told to keep them: esbuild's keepNames, terser's keep_classnames.)
 */
export function className(ctor: { readonly name: string }): string {
  return ctor.name.replace(/^_+/, '').replace(/\d+$/, '');
}
