import { mkdir } from "node:fs/promises";
import path from "node:path";

/** runsDir/project/name, else name2, name3 … like Ultralytics' predict and val folders. */
export async function createNumberedFolder(runsDir: string, project: string, name: string): Promise<string> {
  await mkdir(path.join(runsDir, project), { recursive: true });
  for (let attempt = 1; ; attempt++) {
    const dir = path.join(runsDir, project, attempt === 1 ? name : `${name}${attempt}`);
    try {
      await mkdir(dir);
      return dir;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
}
