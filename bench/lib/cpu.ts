import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
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

/** The CPUs a process may run on (Cpus_allowed_list, e.g. "0" or "0-1"); null once it is gone or off Linux. */
export function cpusAllowed(pid: number): string | null {
  try {
    return /^Cpus_allowed_list:\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? null;
  } catch {
    return null;
  }
}

/**
 * The process listening on a loopback TCP port, found through /proc (the socket's inode, then
 * whose fd holds it), so the bench reports where a server really runs rather than assuming it.
 * Looks at this process first; null when not found (off Linux, or another user's process).
 */
export function listenerPid(port: number): number | null {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[1]?.endsWith(`:${hexPort}`) && fields[3] === '0A') inodes.add(fields[9]); // 0A: LISTEN
    }
  }
  const pids = [process.pid, ...readdirSafe('/proc').filter((name) => /^\d+$/.test(name)).map(Number)];
  return pids.find((pid) => readdirSafe(`/proc/${pid}/fd`).some((fd) => inodes.has(socketInode(`/proc/${pid}/fd/${fd}`) ?? ''))) ?? null;
}

function readdirSafe(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

function socketInode(path: string): string | null {
  try {
    return /^socket:\[(\d+)\]$/.exec(readlinkSync(path))?.[1] ?? null;
  } catch {
    return null;
  }
}

/** Busy and total jiffies of each CPU (from /proc/stat; idle and iowait count as not busy); null off Linux. */
export function cpuTicks(): { busy: number; total: number }[] | null {
  try {
    return readFileSync('/proc/stat', 'utf8').split('\n').filter((line) => /^cpu\d+ /.test(line)).map((line) => {
      const ticks = line.trim().split(/\s+/).slice(1).map(Number);
      const total = ticks.slice(0, 8).reduce((sum, t) => sum + t, 0); // user … steal (guest time is already in user)
      return { busy: total - ticks[3] - ticks[4], total };
    });
  } catch {
    return null;
  }
}
