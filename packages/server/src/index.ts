export * from './clock.js';
export * from './ids.js';
export type * from './store/types.js';
