// Residency facts, the placement decision and the one resource classification, shared by infra/ and audit/.
export * from './catalogue.js';
export * from './placement.js';
export * from './resource-classes.js';
export * from './classify.js';
export * from './recordingKey.js';
