import type { Platform } from "../_shared/platform.ts";
import { buildWorkerDeps } from "../_shared/worker-deps.ts";

export const buildDeps = (platform: Platform) => buildWorkerDeps("single", platform);
