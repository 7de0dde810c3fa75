import { describe, expect, it } from "vitest";
import { isAuthorized } from "../../supabase/functions/_shared/auth.ts";
import { readConfig, secretsOf } from "../../supabase/functions/_shared/config.ts";
import { createLogger } from "../../supabase/functions/_shared/log.ts";

const req = (headers: Record<string, string>) => new Request("http://x/fn", { method: "POST", headers });

describe("service key check", () => {
  const keys = ["sb_secret_abcdef", "legacy.jwt.key"];
  it.each([
    [{ apikey: "sb_secret_abcdef" }, true],
    [{ authorization: "Bearer legacy.jwt.key" }, true],
    [{ authorization: "bearer sb_secret_abcdef" }, true],
    [{}, false],
    [{ apikey: "sb_secret_abcde" }, false],
    [{ apikey: "sb_secret_abcdefg" }, false],
    [{ apikey: "anon-key" }, false],
    [{ authorization: "Basic sb_secret_abcdef" }, false],
  ])("%j -> %s", (headers, ok) => {
    expect(isAuthorized(req(headers), keys)).toBe(ok);
  });
});

describe("configuration", () => {
  const full: Record<string, string> = {
    SUPABASE_DB_URL: "postgres://postgres:pw-secret@127.0.0.1:5432/postgres",
    SUPABASE_URL: "http://127.0.0.1:54321",
    SUPABASE_SERVICE_ROLE_KEY: "service-key-123",
    APCA_API_KEY_ID: "KEYID123",
    APCA_API_SECRET_KEY: "alpaca-secret-xyz",
  };
  it("reads a complete environment with defaults", () => {
    const c = readConfig((n) => full[n]);
    expect(c).toMatchObject({ alpacaBaseUrl: "https://data.alpaca.markets", alpacaRequestsPerMinute: 200, leaseSeconds: 180 });
    expect(secretsOf(c)).toEqual(expect.arrayContaining(["alpaca-secret-xyz", "service-key-123", "pw-secret"]));
  });

  it("lists every missing variable at once and never echoes a value", () => {
    const env: Record<string, string> = { APCA_API_SECRET_KEY: "alpaca-secret-xyz", ALPACA_REQUESTS_PER_MINUTE: "lots" };
    const err = (() => {
      try {
        readConfig((n) => env[n]);
      } catch (e) {
        return (e as Error).message;
      }
    })();
    expect(err).toMatch(/SUPABASE_DB_URL/);
    expect(err).toMatch(/SUPABASE_URL/);
    expect(err).toMatch(/SUPABASE_SERVICE_ROLE_KEY/);
    expect(err).toMatch(/APCA_API_KEY_ID/);
    expect(err).not.toContain("alpaca-secret-xyz");
    expect(err).not.toContain("lots");
  });

  it("accepts the new secret keys dictionary", () => {
    const c = readConfig((n) => ({ ...full, SUPABASE_SERVICE_ROLE_KEY: "", SUPABASE_SECRET_KEYS: '{"default":"sb_secret_1"}' })[n]);
    expect(c.serviceKeys).toEqual(["sb_secret_1"]);
  });
});

describe("logger", () => {
  it("writes one JSON line per event with fixed keys and masks secrets anywhere", () => {
    const lines: string[] = [];
    const log = createLogger({ fn: "fetch-bars", secrets: ["alpaca-secret-xyz"], write: (l) => lines.push(l) });
    log.info("slice_finished", { run_id: "1", kind: "single", symbol: "AAPL", bars: 10, outcome: "success" });
    log.warn("oops", { error: "upstream said alpaca-secret-xyz", apikey: "k" } as never);
    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0]!);
    expect(first).toMatchObject({ fn: "fetch-bars", event: "slice_finished", run_id: "1", symbol: "AAPL", outcome: "success" });
    expect(lines[1]).not.toContain("alpaca-secret-xyz");
    expect(JSON.parse(lines[1]!).apikey).toBe("[REDACTED]");
  });
});
