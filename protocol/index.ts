// Lectern's signalling protocol: JSON frames over one WebSocket per participant.
// Imported by server/ (validation) and client/ (types); imports nothing of theirs.
export * from './methods.js';
export * from './notifications.js';
export * from './frames.js';
export * from './httpError.js';
export * from './activities.js';
export * from './recording.js';
