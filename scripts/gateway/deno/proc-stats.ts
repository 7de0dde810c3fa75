/**
 * An isolate process's CPU time and resident memory, from Linux's /proc.
 * CPU is utime + stime of /proc/<pid>/stat: every thread of the process
 * (V8's compiler and GC threads too), which counts more than the runtime's
 * per-isolate timer does: the strict side.
 */

/** USER_HZ, the unit of utime/stime: 100 on every Linux architecture Deno ships for. */
const CLOCK_TICKS_PER_SECOND = 100;
/** The page size of /proc/<pid>/statm on x86-64 and the usual arm64 kernels. */
const PAGE_BYTES = 4096;

export interface ProcStats {
  cpuMs: number;
  rssBytes: number;
}

/** null once the process is gone. */
export function readProcStats(pid: number): ProcStats | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Fields after the command name, which is parenthesised and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    const ticks = Number(fields[11]) + Number(fields[12]);
    const statm = Deno.readTextFileSync(`/proc/${pid}/statm`).split(" ");
    return {
      cpuMs: (ticks * 1000) / CLOCK_TICKS_PER_SECOND,
      rssBytes: Number(statm[1]) * PAGE_BYTES,
    };
  } catch {
    return null;
  }
}
