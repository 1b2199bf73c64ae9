/**
 * Is a process with this pid running? Leftover files are named after the pid that wrote them, and
 * only a dead owner makes them safe to delete. EPERM means it runs under another user: alive too.
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== "ESRCH";
  }
}
