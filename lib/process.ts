// Small process helpers shared by the build lock, the test kit and the debugger.

// True when a process with this pid exists (EPERM: it exists but belongs to someone else).
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
