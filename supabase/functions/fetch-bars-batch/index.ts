import { serveOnEdge } from "../_shared/serve.ts";
import { buildDeps } from "./deps.ts";
import { handle } from "./handler.ts";

serveOnEdge(buildDeps, handle);
