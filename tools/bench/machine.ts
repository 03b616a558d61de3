// A description of the machine a report was measured on.
import { cpus, loadavg, release, totalmem, type, arch } from 'node:os';

import type { Machine } from './report.js';

export function describeMachine(loadStart: readonly number[], rounds: readonly number[], foreign: readonly (number | null)[]): Machine {
  const cpu = cpus();
  return {
    cpu: (cpu[0]?.model ?? 'unknown cpu').replace(/\s+/g, ' ').trim(),
    cores: cpu.length,
    memory_gib: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${type()} ${arch()}`,
    kernel: release(),
    loadavg_start: loadStart.map((x) => Math.round(x * 100) / 100),
    loadavg_end: loadavg().map((x) => Math.round(x * 100) / 100),
    loadavg_rounds: [...rounds],
    foreign_cpu_rounds: [...foreign],
  };
}
