// Preloaded with NODE_OPTIONS=--import=…: records the process's own CPU time when it exits,
// so a test can tell a process that waited from one that spun.
import { writeFileSync } from 'node:fs';

process.on('exit', () => {
  const file = process.env['SEGDL_CPU_REPORT'];
  if (file) writeFileSync(file, JSON.stringify(process.cpuUsage()));
});
