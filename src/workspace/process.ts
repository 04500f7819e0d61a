// Other processes, as far as Keel needs to know about them.

/** Whether a process with this PID exists (one we may not signal counts: it exists, as another user's). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
