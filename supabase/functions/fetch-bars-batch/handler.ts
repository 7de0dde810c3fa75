import { makeWorkerHandler } from "../_shared/worker-handler.ts";

/** One run of a basket, via the multi-symbol GET /v2/stocks/bars?symbols=. Refuses anything but a batch slice. */
export const handle = makeWorkerHandler("batch");
