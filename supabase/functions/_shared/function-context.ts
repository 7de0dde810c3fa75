/**
 * What every function builds from its environment once per isolate: the
 * validated configuration, one connection pool, a logger that masks every
 * secret, and the same masking for stored error messages.
 */
import { readConfig, secretsOf, type FunctionConfig } from "./config.ts";
import { connect, type Sql } from "./db.ts";
import { createLogger, maskSecrets, type Logger } from "./log.ts";
import type { Platform } from "./platform.ts";

export interface FunctionContext {
  config: FunctionConfig;
  sql: Sql;
  log: Logger;
  redact: (text: string) => string;
}

export function functionContext(fn: string, platform: Platform): FunctionContext {
  const config = readConfig(platform.getEnv);
  const secrets = secretsOf(config);
  return {
    config,
    sql: connect(config.dbUrl, config.dbPoolMax),
    log: createLogger({ fn, level: config.logLevel, secrets }),
    redact: (text) => maskSecrets(text, secrets),
  };
}
