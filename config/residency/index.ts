// Residency facts and the placement decision, shared by infra/ and audit/.
export * from './catalogue.js';
export * from './placement.js';
export * from './resource-classes.js';
