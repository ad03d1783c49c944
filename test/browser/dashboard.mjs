#!/usr/bin/env node
// Headless-browser check of the trading dashboard against a running demo.
//
//   node test/browser/dashboard.mjs --url http://127.0.0.1:3000 --screenshot /tmp/dashboard.png [--transports polling]
//
// Prints one JSON line per check and a final summary line; exits 1 when any
// check fails. The browser is always closed, and the whole run is bounded.
import { existsSync, statSync } from "node:fs";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";

const OVERALL_TIMEOUT_MS = 60_000;
const STEP_TIMEOUT_MS = 15_000;
// The only fixed window: proving that no update arrives needs one.
const SILENCE_MS = 1_500;
const SYMBOLS = ["BTC/USD", "ETH/USD", "SOL/USD"];
const CHECKS = [
  "connected",
  "transport",
  "live-ticker",
  "own-fills",
  "stats-panel",
  "unsubscribe-stops",
  "resubscribe-resumes",
  "llm-stream",
  "screenshot",
];

const { values: args } = parseArgs({
  options: {
    url: { type: "string" },
    screenshot: { type: "string" },
    transports: { type: "string" },
  },
});
if (!args.url || !args.screenshot || (args.transports && args.transports !== "polling")) {
  console.error("usage: node test/browser/dashboard.mjs --url http://127.0.0.1:PORT --screenshot <path.png> [--transports polling]");
  process.exit(2);
}
const forcePolling = args.transports === "polling";

let passed = 0;
let failed = 0;
function report(check, ok, extra = {}) {
  if (ok) passed += 1;
  else failed += 1;
  console.log(JSON.stringify({ check, ok, ...extra }));
}

const testId = (id) => `[data-testid="${id}"]`;

// Reads data-updates/data-subscribed of every price card in one round trip.
async function cards(page) {
  return page.evaluate((symbols) => {
    const out = {};
    for (const s of symbols) {
      const el = document.querySelector(`[data-testid="price-${s}"]`);
      out[s] = el ? { updates: Number(el.dataset.updates), subscribed: el.dataset.subscribed } : null;
    }
    return out;
  }, SYMBOLS);
}

function waitForUpdatesAbove(page, symbol, n, timeout = STEP_TIMEOUT_MS) {
  return page.waitForFunction(
    ([s, min]) => Number(document.querySelector(`[data-testid="price-${s}"]`)?.dataset.updates) > min,
    [symbol, n],
    { timeout },
  );
}

function waitForSubscribed(page, symbol, value) {
  return page.waitForFunction(
    ([s, v]) => document.querySelector(`[data-testid="price-${s}"]`)?.dataset.subscribed === v,
    [symbol, value],
    { timeout: STEP_TIMEOUT_MS },
  );
}

async function text(page, id) {
  return page.evaluate((sel) => document.querySelector(sel)?.textContent ?? null, testId(id));
}

async function run(browser, state) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  page.on("pageerror", (err) => console.error(`page error: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error") console.error(`console error: ${msg.text()}`);
  });
  const sockets = [];
  page.on("websocket", (ws) => sockets.push(ws.url()));
  const polls = [];
  page.on("request", (req) => {
    if (req.url().includes("/socket.io/") && req.url().includes("transport=polling")) polls.push(req.url());
  });

  const target = new URL(args.url);
  if (forcePolling) target.searchParams.set("transports", "polling");

  const step = async (name, fn) => {
    state.pending.delete(name);
    const start = Date.now();
    try {
      const extra = (await fn()) || {};
      report(name, true, { ms: Date.now() - start, ...extra });
      return true;
    } catch (err) {
      const error = state.timedOut ? `overall timeout of ${OVERALL_TIMEOUT_MS / 1000} s` : String(err?.message || err).split("\n")[0];
      report(name, false, { ms: Date.now() - start, error });
      return false;
    }
  };

  const connected = await step("connected", async () => {
    await page.goto(target.href, { waitUntil: "domcontentloaded" });
    try {
      await page.waitForFunction((sel) => document.querySelector(sel)?.textContent === "connected", testId("connection-state"));
    } catch {
      const shown = await text(page, "connection-state");
      const lastError = await page.evaluate(() => document.querySelector('[data-testid="error-log"] li')?.textContent ?? "");
      throw new Error(`connection-state shows ${JSON.stringify(shown)}${lastError ? `; last error: ${lastError}` : ""}`);
    }
  });

  if (connected) {
    await step("transport", async () => {
      const want = forcePolling ? "polling" : "websocket";
      try {
        await page.waitForFunction(
          ([sel, w]) => document.querySelector(sel)?.textContent === w,
          [testId("transport"), want],
          { timeout: 10_000 },
        );
      } catch {
        throw new Error(`transport shows ${JSON.stringify(await text(page, "transport"))}, want ${want}`);
      }
      const engineSockets = sockets.filter((u) => u.includes("/socket.io/"));
      if (forcePolling) {
        if (engineSockets.length > 0) throw new Error(`a websocket was opened despite transports=polling: ${engineSockets[0]}`);
        if (polls.length === 0) throw new Error("no long-polling request was made");
      } else if (engineSockets.length === 0) {
        throw new Error("the page reports websocket but opened no /socket.io/ websocket");
      }
      return { transport: want, websockets: engineSockets.length, pollRequests: polls.length };
    });

    await step("live-ticker", async () => {
      const before = await cards(page);
      await Promise.all(SYMBOLS.map((s) => waitForUpdatesAbove(page, s, before[s].updates, 10_000)));
      const after = await cards(page);
      return { updates: Object.fromEntries(SYMBOLS.map((s) => [s, after[s].updates])) };
    });

    // The page subscribes to no trading channel: the demo user's fills
    // reach it through the user's own room, joined at connect.
    await step("own-fills", async () => {
      try {
        await page.waitForFunction(
          (sel) => document.querySelector(`${sel} [data-event="order:filled"]`) !== null,
          testId("event-log"),
          { timeout: 10_000 },
        );
      } catch {
        throw new Error(`no order:filled row in the trading log (${await text(page, "event-log")})`);
      }
      const rows = await page.evaluate((sel) => document.querySelector(sel).dataset.count, testId("event-log"));
      return { rows: Number(rows) };
    });

    // In development mode /api/stats lists the clients, this page among them.
    await step("stats-panel", async () => {
      try {
        await page.waitForFunction((sel) => document.querySelector(`${sel} tr.self`) !== null, testId("stats-clients"), {
          timeout: 10_000,
        });
      } catch {
        throw new Error(`the stats panel does not list this page (${await text(page, "stats-clients")})`);
      }
      return {};
    });

    await step("unsubscribe-stops", async () => {
      await waitForSubscribed(page, "ETH/USD", "true");
      await page.click(testId("toggle-ETH/USD"));
      await waitForSubscribed(page, "ETH/USD", "false");
      const before = await cards(page);
      await page.waitForTimeout(SILENCE_MS);
      const after = await cards(page);
      const eth = after["ETH/USD"].updates - before["ETH/USD"].updates;
      const btc = after["BTC/USD"].updates - before["BTC/USD"].updates;
      if (eth !== 0) throw new Error(`ETH/USD received ${eth} updates after unsubscribing`);
      if (btc <= 0) throw new Error("BTC/USD received no updates in the same window");
      return { ethDelta: eth, btcDelta: btc, windowMs: SILENCE_MS };
    });

    await step("resubscribe-resumes", async () => {
      await page.click(testId("toggle-ETH/USD"));
      await waitForSubscribed(page, "ETH/USD", "true");
      const { updates } = (await cards(page))["ETH/USD"];
      await waitForUpdatesAbove(page, "ETH/USD", updates, 5_000);
      return {};
    });

    await step("llm-stream", async () => {
      // Count the states the output goes through before it is done, to show
      // the answer is rendered as it streams rather than all at once.
      await page.evaluate((sel) => {
        const seen = new Set();
        window.__llmPartials = seen;
        const observer = new MutationObserver(() => {
          const el = document.querySelector(sel);
          if (el && el.dataset.done === "false" && el.textContent) seen.add(el.textContent.length);
        });
        observer.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
      }, testId("llm-output"));
      await page.fill(testId("llm-prompt"), "Summarise the BTC/USD order book in two sentences.");
      await page.click(testId("llm-send"));
      try {
        await page.waitForFunction(
          (sel) => {
            const el = document.querySelector(sel);
            return el && el.dataset.done === "true" && el.textContent.trim().length > 0;
          },
          testId("llm-output"),
          { timeout: 20_000 },
        );
      } catch {
        const status = await page.evaluate((sel) => document.querySelector(sel)?.dataset.status ?? "missing", testId("llm-output"));
        throw new Error(`llm-output never completed (status ${status}, text ${JSON.stringify((await text(page, "llm-output")) ?? "")})`);
      }
      const partials = await page.evaluate(() => window.__llmPartials.size);
      const chars = (await text(page, "llm-output")).length;
      if (partials < 1) throw new Error("the answer appeared all at once; no partial stream was rendered");
      return { chars, partialRenders: partials };
    });
  }

  // Whatever could not run is reported in order, before the screenshot.
  for (const name of CHECKS) {
    if (name !== "screenshot" && state.pending.delete(name)) report(name, false, { error: "not run: the page never connected" });
  }
  await step("screenshot", async () => {
    // Let the log's entry animation and the order-book bars settle.
    await page.waitForTimeout(300);
    await page.screenshot({ path: args.screenshot, fullPage: true });
    if (!existsSync(args.screenshot) || statSync(args.screenshot).size === 0) throw new Error("screenshot file is missing or empty");
    return { path: args.screenshot };
  });
}

async function main() {
  const state = { pending: new Set(CHECKS), timedOut: false };
  let browser;
  const timer = setTimeout(() => {
    state.timedOut = true;
    console.error(`overall timeout of ${OVERALL_TIMEOUT_MS / 1000} s reached`);
    browser?.close().catch(() => {});
  }, OVERALL_TIMEOUT_MS);
  // Last resort if closing the browser itself hangs.
  const killer = setTimeout(() => process.exit(1), OVERALL_TIMEOUT_MS + 10_000);
  killer.unref();
  try {
    browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
      ],
    });
    await run(browser, state);
  } catch (err) {
    console.error(`run aborted: ${err?.message || err}`);
  } finally {
    clearTimeout(timer);
    await browser?.close().catch(() => {});
  }
  for (const name of CHECKS) {
    if (state.pending.has(name)) report(name, false, { error: state.timedOut ? "not run: overall timeout" : "not run: the browser run was aborted" });
  }
  console.log(JSON.stringify({ summary: true, passed, failed }));
  process.exit(failed > 0 ? 1 : 0);
}

main();
