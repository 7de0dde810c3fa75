/**
 * A page opened in the machine's headless Chromium (Debian's `chromium`, or
 * CHROMIUM_PATH), driven by playwright-core, which downloads no browser:
 * console errors and page errors are collected, and a screenshot's pixels can
 * be read back (pngjs).
 */
import { existsSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";
import { PNG } from "pngjs";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export interface OpenedPage {
  page: Page;
  /** Console messages of type error, and uncaught page errors, in order. */
  errors: string[];
  close(): Promise<void>;
}

export async function openInChromium(url: string, viewport = { width: 1400, height: 1000 }): Promise<OpenedPage> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`no Chromium at ${CHROMIUM_PATH}: the report's tests open the page in it ` +
      "(Debian: apt-get install -y chromium; or set CHROMIUM_PATH to another Chromium)");
  }
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ["--no-sandbox"] });
  const page = await browser.newPage({ viewport });
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`page: ${e.message}`));
  // A self-contained page fetches nothing: any request other than the file itself is an error.
  page.on("request", (r) => {
    if (r.url() !== url) errors.push(`request: ${r.url()}`);
  });
  await page.goto(url, { waitUntil: "load" });
  return { page, errors, close: () => browser.close() };
}

/** The [r, g, b] of pixel (x, y) of a PNG. */
export function pixelAt(png: Buffer, x: number, y: number): [number, number, number] {
  const image = PNG.sync.read(png);
  const i = (Math.round(y) * image.width + Math.round(x)) * 4;
  return [image.data[i]!, image.data[i + 1]!, image.data[i + 2]!];
}

/** "#d1242f" as [r, g, b]. */
export function rgbOf(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}
