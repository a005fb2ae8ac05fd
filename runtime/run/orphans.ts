/**
 * Temporaries left by a run that died mid-write: every file mmfmc writes goes through `NAME.tmp-PID`
 * (runtime/run/files.ts) and every generated dataset through a `NAME.tmp-PID/` folder
 * (runtime/run/data.ts). A kill or a full disk at the wrong moment leaves one behind, and a large one
 * (`model.safetensors.tmp-PID`) wastes real space. The next run removes them, once it holds the
 * folder's lock: only names of that form, only where mmfmc writes them, and only when process PID is
 * gone (a live one may be writing it).
 */
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

const TEMPORARY = /\.(tmp|stale)-(\d+)$/;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The folders of a runs folder where mmfmc writes through temporaries (not inside datasets). */
function writtenFolders(runDir: string): string[] {
  const folders = [runDir, join(runDir, "variants"), join(runDir, "data")];
  const stages = join(runDir, "stages");
  for (const key of entries(stages)) {
    const stage = join(stages, key);
    folders.push(stage);
    for (const c of entries(stage)) if (c.startsWith("checkpoint-") && !TEMPORARY.test(c)) folders.push(join(stage, c));
  }
  return folders;
}

/**
 * Removes the orphan temporaries of a runs folder (files and folders named `*.tmp-PID` or
 * `*.stale-PID` whose process is gone). Returns the paths removed with their sizes.
 */
export function removeOrphans(runDir: string): { path: string; bytes: number }[] {
  const removed: { path: string; bytes: number }[] = [];
  if (!existsSync(runDir)) return removed;
  for (const folder of writtenFolders(runDir)) {
    for (const name of entries(folder)) {
      const match = TEMPORARY.exec(name);
      if (!match) continue;
      const pid = Number(match[2]);
      if (pid === process.pid || pidAlive(pid)) continue;
      const path = join(folder, name);
      let bytes = 0;
      try {
        const stat = statSync(path);
        bytes = stat.isFile() ? stat.size : 0;
      } catch {
        continue;
      }
      rmSync(path, { recursive: true, force: true });
      removed.push({ path, bytes });
    }
  }
  return removed;
}
