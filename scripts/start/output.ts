/**
 * Every line npm start prints goes through here, so that lines never tear the
 * live progress bars (they are printed above them) and known secrets are masked
 * even if some message were to carry one.
 */

export interface Output {
  line(text: string): void;
  /** While set, lines are handed to it (cli-progress prints them above its bars). */
  divert(sink: ((text: string) => void) | undefined): void;
  /** Values that must never be printed (the service key, passwords, Alpaca keys). */
  addSecret(value: string | undefined): void;
  mask(text: string): string;
}

export function createOutput(stream: NodeJS.WritableStream = process.stdout): Output {
  const secrets = new Set<string>();
  let sink: ((text: string) => void) | undefined;
  const mask = (text: string) => {
    let out = hidePasswords(text);
    for (const s of secrets) out = out.split(s).join("***");
    return out;
  };
  return {
    line(text) {
      const masked = mask(text);
      if (sink) sink(`${masked}\n`);
      else stream.write(`${masked}\n`);
    },
    divert(next) {
      sink = next;
    },
    addSecret(value) {
      if (value && value.length >= 4) secrets.add(value);
    },
    mask,
  };
}

/** postgres://user:secret@host → postgres://user@host, wherever such a URL appears. */
export function hidePasswords(text: string): string {
  return text.replace(/(postgres(?:ql)?:\/\/[^:/@\s]+):[^@\s]*@/g, "$1@");
}

export function passwordOf(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}

/** An error's message with its cause (fetch's "fetch failed" says little without "ECONNREFUSED"). */
export function describeError(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const cause = e?.cause?.code ?? e?.cause?.message;
  return cause ? `${e.message} (${cause})` : String(e?.message ?? err);
}
