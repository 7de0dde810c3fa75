/**
 * The old system's two US baskets: US_BATCH_1 with 50 symbols
 * (AAPL, MSFT, NVDA, …) and US_BATCH_2 with 11 (TMUS, TSLA, UNH, …).
 */
export const US_BATCH_1 = [
  "AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "GOOG", "META", "BRK.B", "AVGO", "LLY",
  "JPM", "ABBV", "ADBE", "AMD", "BAC", "COST", "CRM", "CSCO", "CVX", "DHR",
  "DIS", "HD", "IBM", "INTC", "INTU", "ISRG", "JNJ", "KO", "LIN", "MA",
  "MCD", "MRK", "NFLX", "NKE", "ORCL", "PEP", "PFE", "PG", "QCOM", "SPGI",
  "ABT", "ACN", "AMGN", "AXP", "BKNG", "CAT", "GE", "GS", "HON", "LOW",
];

export const US_BATCH_2 = ["TMUS", "TSLA", "UNH", "UNP", "UPS", "TXN", "V", "VZ", "WFC", "WMT", "XOM"];

export const SEED_BASKETS: Array<{ name: string; symbols: string[] }> = [
  { name: "US_BATCH_1", symbols: US_BATCH_1 },
  { name: "US_BATCH_2", symbols: US_BATCH_2 },
];
