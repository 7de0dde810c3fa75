/**
 * The database: DATABASE_URL when set, otherwise an embedded Postgres 17 kept
 * in `<dataDir>/pg` across runs. Migrations are applied separately (stack.ts).
 */
import { startEmbeddedDatabase } from "./embedded-database.ts";
import { hidePasswords } from "./output.ts";

export interface Database {
  url: string;
  /** The URL without its password, safe to print. */
  shownUrl: string;
  embedded: boolean;
  /** Stops the embedded server (a no-op for DATABASE_URL); bounded. */
  stop(): Promise<void>;
}

export async function startDatabase(opts: {
  databaseUrl: string | undefined;
  dataDir: string;
  embeddedPort: number;
  say: (text: string) => void;
  shuttingDown: () => boolean;
}): Promise<Database> {
  if (opts.databaseUrl) {
    return { url: opts.databaseUrl, shownUrl: hidePasswords(opts.databaseUrl), embedded: false, stop: async () => {} };
  }
  const db = await startEmbeddedDatabase({
    dataDir: opts.dataDir,
    preferredPort: opts.embeddedPort,
    say: opts.say,
    shuttingDown: opts.shuttingDown,
  });
  return { url: db.url, shownUrl: hidePasswords(db.url), embedded: true, stop: () => db.stop() };
}
