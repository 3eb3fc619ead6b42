import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

const CLOCK_TICKS_PER_SEC = 100; // USER_HZ: 100 on every Linux architecture Node supports

/** CPU time (user + system, all threads) a process has used so far, in µs; null off Linux. */
export function processCpuMicros(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may itself hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
    return (ticks * 1e6) / CLOCK_TICKS_PER_SEC;
  } catch {
    return null;
  }
}

/**
 * Pins a process (all its threads) to one CPU with taskset, so the load generator and the server
 * under test stop competing for the same core. A no-op with fewer than 2 CPUs or without taskset.
 */
export function pinToCpu(pid: number, cpu: number): boolean {
  // Not availableParallelism(): it shrinks to 1 once this process has pinned itself.
  if (cpus().length < 2) return false;
  try {
    execFileSync('taskset', ['-a', '-c', '-p', String(cpu), String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Resident memory of a process (VmRSS), in KiB; null once it is gone or off Linux. */
export function processRssKb(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}
