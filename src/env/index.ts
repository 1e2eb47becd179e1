export * from '../config/hardware-cache.js';
export * from './cache-variables.js';
export * from './format-environment.js';
export * from './run-with-env.js';
