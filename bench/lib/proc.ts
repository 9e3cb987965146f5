// What the kernel says about a process and the UDP stack: CPU time from /proc/<pid>/stat (user +
// system, all threads, in clock ticks), resident memory from /proc/<pid>/status, and UDP receive-
// buffer drops from /proc/net/snmp and /proc/net/udp (per network namespace: the bench runs in its
// own), process trees from the ppid field, and machine-wide busy time from /proc/stat.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let ticksPerSecond: number | undefined;

/** Clock ticks per second (getconf CLK_TCK, almost always 100). */
export function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** Fields of /proc/<pid>/stat after the command name: [0] = state, [1] = ppid, [11] = utime, ... */
function statFields(pid: number | string): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces; fields after it are positional.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** CPU time (user + system) of a process and all its threads, in microseconds. */
export function cpuMicros(pid: number): number {
  const fields = statFields(pid);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1e6) / clockTicks();
}

/** Resident set size of a process in bytes. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

/** UDP RcvbufErrors (datagrams dropped because a socket's receive buffer was full). */
export function udpRcvbufErrors(): number {
  const snmp = readFileSync('/proc/net/snmp', 'utf8').split('\n');
  const header = snmp.find((l) => l.startsWith('Udp: ') && l.includes('RcvbufErrors'));
  const values = snmp.find((l) => l.startsWith('Udp: ') && !l.includes('RcvbufErrors'));
  if (!header || !values) return 0;
  const index = header.split(/\s+/).indexOf('RcvbufErrors');
  return Number(values.split(/\s+/)[index] ?? 0);
}

/**
 * Receive-buffer drops on the UDP sockets the given processes hold (the `drops` column of
 * /proc/net/udp{,6}, matched by socket inode against /proc/<pid>/fd). Tells an SFU that could not
 * keep up with its own input apart from a receiver that could not keep up with the SFU.
 */
export function udpDropsOfProcesses(pids: number[]): number {
  const inodes = new Set<string>();
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match) inodes.add(match[1]!);
      } catch {
        // closed meanwhile
      }
    }
  }
  let drops = 0;
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    let lines: string[] = [];
    try {
      lines = readFileSync(table, 'utf8').trim().split('\n').slice(1);
    } catch {
      continue;
    }
    for (const line of lines) {
      const fields = line.trim().split(/\s+/);
      if (inodes.has(fields[9]!)) drops += Number(fields.at(-1));
    }
  }
  return drops;
}

/** A sysctl value as text, or undefined if unreadable. */
export function sysctl(path: string): string | undefined {
  try {
    return readFileSync(`/proc/sys/${path.replaceAll('.', '/')}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Resolve once a process is gone (or after `timeoutMs`). */
export async function waitForExit(pid: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (/^[ZX]$/.test(statFields(pid)[0]!)) return;
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Pin every thread of a process to one CPU, or a taskset list such as '0-1' (util-linux taskset); false if that failed. */
export function pinToCpu(pid: number, cpu: number | string): boolean {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Direct and indirect children of a process (pid, from /proc/<pid>/stat ppid). */
export function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      parent.set(Number(entry), Number(statFields(entry)[1]));
    } catch {
      // gone
    }
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const p = queue.shift()!;
    for (const [child, pp] of parent) if (pp === p) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

/** Summed CPU time of processes that exist now; processes that vanish count 0. */
export function cpuOf(pids: number[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const pid of pids) {
    try {
      m.set(pid, cpuMicros(pid));
    } catch {
      // exited
    }
  }
  return m;
}

/** CPU seconds used between two snapshots by processes present in both (a process started in
 *  between is not counted: its pid might be a reused one). */
export function cpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let micros = 0;
  for (const [pid, t] of after) {
    const b = before.get(pid);
    if (b !== undefined && t >= b) micros += t - b;
  }
  return micros / 1e6;
}

/** Machine-wide busy and total jiffies from /proc/stat (all cores). */
export function machineTicks(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  const total = cpu.reduce((a, b) => a + b, 0);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
  return { busy: total - idle, total };
}
