/**
 * The isolate's end of the channel to the gateway (isolate-protocol.ts):
 * reports go to stdout in the same synchronous writes as the function's own
 * output, so lines never interleave; commands come from stdin, and the end
 * of stdin means the gateway is gone.
 */
import { encodeReport, type IsolateCommand, type IsolateReport } from "../../isolate-protocol.ts";
import { log } from "../log.ts";

const encoder = new TextEncoder();

export function report(message: IsolateReport): void {
  const bytes = encoder.encode(`${encodeReport(message)}\n`);
  let written = 0;
  while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
}

/** Calls `onCommand` for each command line until stdin ends, then `onClosed`. */
export async function readCommands(onCommand: (c: IsolateCommand) => void, onClosed: () => void): Promise<void> {
  const decoder = new TextDecoder();
  let buffered = "";
  try {
    for await (const chunk of Deno.stdin.readable) {
      buffered += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (!line) continue;
        try {
          onCommand(JSON.parse(line) as IsolateCommand);
        } catch (e) {
          log("error", "bad command from the gateway", { error: String(e) });
        }
      }
    }
  } finally {
    onClosed();
  }
}
