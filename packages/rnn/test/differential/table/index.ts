import type { OpEntry } from '../../../../core/test/differential/cases.js';
import { CRITERIONS, REWARD } from './criterions.js';
import { LAYERS } from './layers.js';
import { TABLES } from './tables.js';

/** Every module and criterion of `nn`, as the differential harness knows them. */
export const MODULE_TABLE: readonly OpEntry[] = [...LAYERS, ...TABLES, ...CRITERIONS, ...REWARD];

/**
 * Exports of `nn` that are not run by the harness, each with its reason. A new export must go into
 * MODULE_TABLE or here: differential.test.ts checks that nothing is in neither.
 */
export const NOT_MODULES: Readonly<Record<string, string>> = {};
