import { marketData } from "@alpacahq/alpaca-trade-api";
import { z } from "zod";
const api = new marketData.StockApi(new marketData.Configuration({ basePath: "http://127.0.0.1:1", keyId: "a", secret: "b", timeoutMs: 500 }));
console.log(typeof api.stockBarsRaw, typeof z.object);
try { await api.stockBarsRaw({ symbols: "AAPL", timeframe: "1Min" }); } catch (e) { console.log((e as Error).name, (e as Error).message, (e as {cause?: Error}).cause?.name); }
