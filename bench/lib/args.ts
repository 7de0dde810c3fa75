/** `npm run bench -- [--quick] [--only a,b]`. */

export const FIGURES = ["api-efficiency", "throughput", "ingest", "queue", "edge-budget", "scale", "plans", "universe"] as const;
export type FigureName = (typeof FIGURES)[number];

const ALIASES: Record<string, FigureName> = {
  api: "api-efficiency", efficiency: "api-efficiency", edge: "edge-budget", budget: "edge-budget",
  "1": "api-efficiency", "2": "throughput", "3": "ingest", "4": "queue", "5": "edge-budget", "6": "scale", "7": "plans", "8": "universe",
};

export interface BenchArgs {
  quick: boolean;
  only: FigureName[];
}

export function parseArgs(argv: readonly string[]): BenchArgs {
  let quick = false;
  let only: FigureName[] = [...FIGURES];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--quick") quick = true;
    else if (a === "--only" || a.startsWith("--only=")) {
      const list = a === "--only" ? argv[++i] : a.slice("--only=".length);
      if (!list) throw new Error("--only needs a comma-separated list of figures");
      only = list.split(",").map((s) => s.trim()).filter(Boolean).map((s) => {
        const f = (FIGURES as readonly string[]).includes(s) ? (s as FigureName) : ALIASES[s];
        if (!f) throw new Error(`unknown figure "${s}" (one of: ${FIGURES.join(", ")})`);
        return f;
      });
    } else if (a === "--help" || a === "-h") {
      throw new Error(`usage: npm run bench -- [--quick] [--only ${FIGURES.join(",")}]`);
    } else throw new Error(`unknown argument "${a}"`);
  }
  return { quick, only: FIGURES.filter((f) => only.includes(f)) };
}
