/**
 * Worker-thread entry: the Alpaca simulator generates and serializes bars off
 * npm start's main thread, which must stay responsive to signals (tsx kills a
 * child that does not acknowledge one within 30 ms).
 */
import { parentPort, workerData } from "node:worker_threads";
import { startAlpacaSim, type SimOptions } from "../alpaca-sim/index.ts";

const sim = await startAlpacaSim(workerData as SimOptions);
parentPort!.on("message", (message) => {
  if (message === "close") void sim.close().then(() => parentPort!.postMessage({ closed: true }));
});
parentPort!.postMessage({ url: sim.url, port: sim.port });
