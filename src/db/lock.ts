// The embedded database's single-process lock: a file in the PGlite data directory naming the process that holds it.
// PGlite is an in-process database; a second process on the same directory (an import, a second server) would write
// files the first never reads and overwrites at its next checkpoint, so opening a held directory is refused. A lock
// whose process died (kill -9, out of memory) is stale and taken over; a clean close or exit removes it.
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const LOCK_FILE = 'udc.lock';

export class DatabaseInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `The embedded database at ${dataDir} is in use by process ${pid} (a running server?). ` +
        'Stop it first, or import through the server\'s database: set DATABASE_URL to use PostgreSQL.',
    );
    this.name = 'DatabaseInUseError';
  }
}

export interface DataDirLock {
  /** The lock file's path. */
  path: string;
  /** Removes the lock file (idempotent). */
  release(): void;
}

/** Lock files this process holds, so that opening the same directory twice here is refused too. */
const heldHere = new Set<string>();

/** The directory on disk that a PGlite dataDir names, or undefined for in-memory and browser storage. */
export function dataDirPath(dataDir: string | undefined): string | undefined {
  if (!dataDir) return undefined;
  if (dataDir.startsWith('file://')) return dataDir.slice('file://'.length);
  return dataDir.includes('://') ? undefined : dataDir;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function holderOf(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Whether the process a lock file names still holds it. Our own pid counts only while this process holds it (a
 *  restarted container often gets the pid its crashed predecessor had). */
function isHeld(path: string, pid: number | undefined): pid is number {
  if (pid === undefined) return false;
  if (pid === process.pid) return heldHere.has(path);
  return isAlive(pid);
}

/**
 * Takes the directory's lock or throws DatabaseInUseError. The file appears whole and only if absent (written aside,
 * then hard-linked into place: link fails with EEXIST like O_EXCL), so no reader ever sees it half written.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const path = resolve(join(dataDir, LOCK_FILE));
  const draft = `${path}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(draft, `${process.pid}\n`, { flag: 'wx' });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(draft, path);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = holderOf(path);
      if (isHeld(path, holder)) throw new DatabaseInUseError(dataDir, holder);
      if (attempt >= 5) throw new Error(`could not take the lock ${path}: other processes keep replacing it`);
      // Stale (or unreadable): move it aside atomically, so that of two processes taking it over only one removes it.
      const aside = `${path}.${process.pid}.stale`;
      try {
        renameSync(path, aside);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
      const moved = holderOf(aside);
      if (isHeld(path, moved)) {
        // Another process took it over between our read and the rename: put its lock back.
        try {
          linkSync(aside, path);
        } finally {
          unlinkSync(aside);
        }
        throw new DatabaseInUseError(dataDir, moved);
      }
      unlinkSync(aside);
    }
  } finally {
    unlinkSync(draft);
  }
  heldHere.add(path);
  const onExit = () => release();
  process.on('exit', onExit);
  function release() {
    if (!heldHere.delete(path)) return;
    process.off('exit', onExit);
    // Remove it only while it is still ours.
    if (holderOf(path) === process.pid) {
      try {
        unlinkSync(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
  }
  return { path, release };
}
