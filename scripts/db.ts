/** `DATABASE_URL=... npm run db:migrate`: apply supabase/migrations with the Supabase CLI. */
import { migrateDatabase, redactUrl } from "./db/migrate.ts";

const url = process.env.DATABASE_URL;
if (!url) {
  console.error("db:migrate: set DATABASE_URL to the database to migrate (postgres://user:pass@host:port/db)");
  process.exit(2);
}
try {
  const { bootstrapped, output } = await migrateDatabase(url);
  if (bootstrapped) console.log("Plain Postgres: created Supabase's roles (anon, authenticated, service_role) first.");
  console.log(output.trim());
} catch (err) {
  console.error(redactUrl((err as Error).message));
  process.exit(1);
}
