// What the bench parts share, one concern a file: parameters (params.ts), statistics (stats.ts), /proc sampling
// (proc.ts), the machine (machine.ts), result files and tables (results.ts), how entry files run (entry.ts),
// bounding a part and stopping what it started (services.ts, over scripts/harness/processes.ts), the peer harnesses (peers.ts). Parts import from
// here so one line lists what they use. The measured processes are the real entry files (dist/*.js after `npm run
// build`, or the .ts files through tsx), never a copy of their logic.
export * from './entry.ts';
export * from './machine.ts';
export * from './params.ts';
export * from './paths.ts';
export * from './peers.ts';
export * from './proc.ts';
export * from './results.ts';
export * from './services.ts';
export * from './stats.ts';
