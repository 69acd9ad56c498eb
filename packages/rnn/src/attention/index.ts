export { Attention, type AttentionOptions } from './Attention.js';
export { AdditiveAttention } from './AdditiveAttention.js';
export { DotAttention, type DotAttentionOptions, type LuongScore } from './DotAttention.js';
