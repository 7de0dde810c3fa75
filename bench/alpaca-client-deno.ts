/**
 * The market-data client under real Deno (the Edge runtime), paging a range
 * from a running simulator or Alpaca:
 *   npm run alpaca-sim -- --port 5999 &
 *   ALPACA_DATA_URL=http://127.0.0.1:5999 APCA_API_KEY_ID=SIMKEY00000000000000 \
 *   APCA_API_SECRET_KEY=simsecret0000000000000000000000000000000 \
 *     npx deno run -A bench/alpaca-client-deno.ts [SYM,SYM… [timeframe [start end]]]
 * Prints pages, bars and throughput.
 */
import { createAlpacaBarsClient, iterateBarPages } from "../supabase/functions/_shared/alpaca/index.ts";
import { alpacaConfigFromEnv } from "./lib/alpaca-env.ts";

/** Deno's globals, typed locally so the project's tsc (Node types) accepts this file too. */
const runtime = (globalThis as unknown as {
  Deno: { args: string[]; env: { get(name: string): string | undefined }; version: { deno: string } };
}).Deno;

const [symbols = "AAPL,MSFT,BRK.B", timeframe = "1Min", start = "2024-05-01T04:00:00Z", end = "2024-05-08T03:59:59Z"] =
  runtime.args;
const client = createAlpacaBarsClient(alpacaConfigFromEnv((name) => runtime.env.get(name)));
const began = performance.now();
let pages = 0;
let bars = 0;
for await (const page of iterateBarPages(client, { endpoint: "multi", symbols: symbols.split(","), timeframe, start, end })) {
  pages++;
  bars += page.bars.length;
}
const seconds = (performance.now() - began) / 1000;
console.log(
  `Deno ${runtime.version.deno}: ${bars} bars in ${pages} pages, ${seconds.toFixed(2)} s (${Math.round(bars / seconds)} bars/s)`,
);
