export * from './limits.js';
export * from './errors.js';
export * from './schema.js';
export * from './codec.js';
export * from './auth.js';
export * from './close-codes.js';
export * from './prekeys.js';
export * from './prekey-lists.js';
