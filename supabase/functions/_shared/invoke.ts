/**
 * Invoking another Edge Function of this project through supabase-js (the
 * platform's own functions client), so the gateway and its key check are on
 * the path exactly as in production.
 */
import { createClient } from "@supabase/supabase-js";
import type { FunctionConfig } from "./config.ts";

const INVOKE_TIMEOUT_MS = 30_000;

export type Invoke = (fn: string, body: unknown) => Promise<void>;

/** Resolves when the function answered 2xx; throws with its status and body otherwise. */
export function functionsInvoker(config: Pick<FunctionConfig, "supabaseUrl" | "serviceKeys">): Invoke {
  const supabase = createClient(config.supabaseUrl, config.serviceKeys[0]!, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
  });
  return async (fn, body) => {
    const { error } = await supabase.functions.invoke(fn, { body: body as Record<string, unknown>, timeout: INVOKE_TIMEOUT_MS });
    if (error) throw new Error(await describeInvokeError(error));
  };
}

async function describeInvokeError(error: { message: string; context?: unknown }): Promise<string> {
  const response = error.context instanceof Response ? error.context : undefined;
  if (!response) return error.message;
  const text = await response.text().catch(() => "");
  return `HTTP ${response.status}${text ? `: ${text.slice(0, 300)}` : ""}`;
}
