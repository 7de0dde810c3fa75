/**
 * The US equity market calendar: civil-date arithmetic with New York's DST
 * rules, the NYSE trading calendar, and Alpaca's timeframe buckets. Pure
 * functions, shared by the Alpaca simulator and the operator CLI.
 */
export * from "./civil-date.ts";
export * from "./calendar.ts";
export * from "./timeframe.ts";
export * from "./alpaca-calendar.ts";
