import fc from 'fast-check';

/**
 * Every property in the suite runs from one fixed seed unless it names its own, so that a CI failure replays
 * exactly; WEBRNN_FC_SEED changes it (`pnpm fuzz` is the open-ended path).
 */
fc.configureGlobal({ seed: Number(process.env.WEBRNN_FC_SEED ?? 20261204) });
