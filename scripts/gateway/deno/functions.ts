/** The functions under a functions directory, as the platform finds them. */
import { FUNCTION_NAME } from "../platform.ts";

/** Function names: directories with an `index.ts`, not starting with `_` or `.`. */
export function listFunctions(dir: string): string[] {
  const names: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    if (!entry.isDirectory || !FUNCTION_NAME.test(entry.name)) continue;
    try {
      if (Deno.statSync(`${dir}/${entry.name}/index.ts`).isFile) names.push(entry.name);
    } catch {
      // no index.ts: not a function
    }
  }
  return names.sort();
}
