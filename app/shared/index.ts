export * from './errors.js';
export * from './result.js';
export * from './domain.js';
export * from './names.js';
export * from './contract.js';
export * from './api.js';
export * from './validate.js';
export * from './bridge.js';
