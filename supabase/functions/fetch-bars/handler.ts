import { makeWorkerHandler } from "../_shared/worker-handler.ts";

/** One run of one ticker, via GET /v2/stocks/{symbol}/bars. Refuses anything but a single slice. */
export const handle = makeWorkerHandler("single");
