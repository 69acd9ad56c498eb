import { DAWN_FILTERED_ENV } from '@webrnn/rnn';

/**
 * Whether `run()` relaunches the program behind core's filter for Dawn's adapter warnings
 * (`relaunchWithoutDawnWarnings`): not in the filtered child itself, not with --verbose (or WEBRNN_VERBOSE=1,
 * which show Dawn's lines), and not when Dawn is never loaded (--backend cpu, --help).
 */
export function wantsDawnFilter(argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  if (env[DAWN_FILTERED_ENV] === '1' || env.WEBRNN_VERBOSE === '1') return false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a === '--verbose' || a === '--help' || a === '-h') return false;
    if (a === '--backend=cpu' || (a === '--backend' && argv[i + 1] === 'cpu')) return false;
  }
  return true;
}
