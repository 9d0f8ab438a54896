/**
 * Child processes and temporary databases to remove if the run is
 * interrupted: an aborted benchmark must not leave servers, receivers or
 * PostgreSQL schemas behind.
 */

type Cleanup = () => void | Promise<void>;

const tasks = new Set<Cleanup>();

/** Register a cleanup; the returned function unregisters it (call it once the task is done normally). */
export function onCleanup(task: Cleanup): () => void {
  tasks.add(task);
  return () => {
    tasks.delete(task);
  };
}

export async function runCleanups(): Promise<void> {
  const all = [...tasks];
  tasks.clear();
  await Promise.allSettled(all.map(async (t) => t()));
}

let installed = false;

export function installSignalCleanup(): void {
  if (installed) return;
  installed = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping child processes and dropping temporary data…\n`);
      runCleanups().finally(() => process.exit(130));
    });
  }
}
