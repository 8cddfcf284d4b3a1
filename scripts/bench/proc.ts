// What the measured processes cost, read from /proc: CPU, memory, run-queue waits, the box's CPU pressure.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { processTree } from '../harness/processes.ts';

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU of a live process, all its threads (utime and stime in /proc/<pid>/stat); NaN once it is gone. */
export function procCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses; the fields after its closing ")" start at field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** A "Vm..." line of /proc/<pid>/status in MB: VmRSS now, VmHWM the kernel's high-water mark. */
export function procMemMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1];
    return kb === undefined ? NaN : Number(kb) / 1024;
  } catch {
    return NaN;
  }
}

/** Time the process's threads spent runnable but waiting for a CPU (/proc/<pid>/schedstat, field 2, ns). */
export function procRunqueueWaitMs(pid: number): number {
  let total = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]) / 1e6;
    }
    return total;
  } catch {
    return NaN;
  }
}

export const treeCpuMs = (pid: number): number => processTree(pid).reduce((sum, p) => sum + (procCpuMs(p) || 0), 0);
export const treeRunqueueWaitMs = (pid: number): number => processTree(pid).reduce((sum, p) => sum + (procRunqueueWaitMs(p) || 0), 0);

/** Samples VmRSS of some processes every `everyMs` and keeps each one's peak. */
export function sampleRss(pids: number[], everyMs = 10): { stop(): Record<number, number> } {
  const peaks: Record<number, number> = {};
  const tick = () => {
    for (const pid of pids) {
      const mb = procMemMb(pid, 'VmRSS');
      if (Number.isFinite(mb) && mb > (peaks[pid] ?? 0)) peaks[pid] = mb;
    }
  };
  tick();
  const timer = setInterval(tick, everyMs);
  return {
    stop() {
      clearInterval(timer);
      tick();
      return peaks;
    },
  };
}

/** Whole-box CPU pressure (PSI): the share of time some runnable task waited for a CPU. */
export function cpuPressureTotalUs(): number {
  try {
    return Number(/^some .*total=(\d+)/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

/** Busy share of all CPUs between two readings of /proc/stat. */
export function boxCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (line[3] ?? 0) + (line[4] ?? 0);
  const total = line.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}
