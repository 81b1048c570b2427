// The wallboard in a real browser (system Chromium driven by playwright-core).
//
//   node wallboard_test.mjs <page-url> <out-dir> --modules <node_modules-dir>
//        --contact-cmd '<json array>' --complaint-cmd '<json array>'
//        [--mock-base <url>] [--escalation-within-ms 2000] [--breach-within-ms 1500]
//
// <page-url> is the wallboard (with `?access_token=T` when the API needs a token). The two
// commands produce the events, run by this script at the moment it needs them; their arguments
// may hold the placeholders {contact_id} {contact_customer} {complaint_customer} {category}
// {event_id}, replaced by ids unique to this run:
//   --contact-cmd    one live contact that escalates (ESCALATION alert for {contact_id})
//   --complaint-cmd  one lodged complaint in category {category}, with a short acknowledge SLA
// Checks, in order (each failure exits 1 with a message starting with FAIL):
//   1. the page loads, makes no request off its own origin, and `connection-state` says LIVE;
//      the 1920x1080 page does not scroll; every /api request carries the page's access_token;
//   2. `escalation-<contact_id>` (level >= 1, with its cues) shows within 2 s of the produce;
//   3. the complaint's case shows in `at-risk` as `case-<case_id>` with a countdown that runs
//      down and agrees with the milestone's deadline_ms;
//   4. at the deadline it moves to `breached` as `breached-<case_id>`: not before the due time,
//      at most 1.5 s after it; then the server confirms it (data-confirmed="true");
//   5. with --mock-base: the page escapes data, and shows RECONNECTING then LIVE again when the
//      mock drops its alert streams.
// Saves <out-dir>/wallboard.png (also on failure) and <out-dir>/console.log.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

function usage(msg) {
  console.error(`FAIL: ${msg}\nusage: node wallboard_test.mjs <page-url> <out-dir> --modules DIR ` +
                `--contact-cmd JSON --complaint-cmd JSON [--mock-base URL]`);
  process.exit(2);
}

const argv = process.argv.slice(2);
const positional = [];
const opts = {};
for (let i = 0; i < argv.length; i++) {
  if (argv[i].startsWith('--')) {
    if (i + 1 >= argv.length) usage(`${argv[i]} needs a value`);
    opts[argv[i].slice(2)] = argv[++i];
  } else {
    positional.push(argv[i]);
  }
}
if (positional.length !== 2) usage('expected <page-url> <out-dir>');
const [pageUrl, outDir] = positional;
for (const k of ['modules', 'contact-cmd', 'complaint-cmd']) if (!opts[k]) usage(`--${k} is required`);
const escalationWithinMs = Number(opts['escalation-within-ms'] || 2000);
const breachWithinMs = Number(opts['breach-within-ms'] || 1500);
const EARLY_TOLERANCE_MS = 150;  // the page's and the server's clocks are the same host's

const require = createRequire(path.join(path.resolve(opts.modules), 'noop.js'));
const { chromium } = require('playwright-core');

fs.mkdirSync(outDir, { recursive: true });
const logLines = [];
const t0 = Date.now();
function log(msg) {
  const line = `[wallboard ${((Date.now() - t0) / 1000).toFixed(3)}s] ${msg}`;
  logLines.push(line);
  console.error(line);
}

const run = `${Date.now().toString(36)}${process.pid.toString(36)}`;
const ids = {
  contact_id: `wb-contact-${run}`,
  contact_customer: `wb-caller-${run}`,
  complaint_customer: `wb-complainant-${run}`,
  category: `wallboard-${run}`,
  event_id: `wb-complaint-${run}`,
};
function command(json, name) {
  let cmd;
  try { cmd = JSON.parse(json); } catch (e) { usage(`--${name} is not JSON: ${e.message}`); }
  if (!Array.isArray(cmd) || cmd.length === 0) usage(`--${name} must be a non-empty JSON array`);
  return cmd.map((a) => String(a).replace(/\{(\w+)\}/g, (m, k) => (k in ids ? ids[k] : m)));
}
const contactCmd = command(opts['contact-cmd'], 'contact-cmd');
const complaintCmd = command(opts['complaint-cmd'], 'complaint-cmd');

// Runs a producing command; resolves with its stdout and the time it finished (= produced).
function produce(cmd, what) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', (e) => reject(new Error(`${what}: cannot run ${cmd[0]}: ${e.message}`)));
    child.on('close', (code) => {
      const done = Date.now();
      if (code !== 0) {
        reject(new Error(`${what}: ${cmd[0]} exited ${code}: ${err.trim()}`));
        return;
      }
      log(`${what} produced (command took ${done - started} ms)`);
      resolve({ started, done, stdout: out.trim() });
    });
  });
}

class TestFailure extends Error {}
function check(cond, msg) { if (!cond) throw new TestFailure(msg); }

const origin = new URL(pageUrl).origin;
const token = new URL(pageUrl).searchParams.get('access_token') || '';
const offOrigin = [];
const apiWithoutToken = [];
const pageErrors = [];

async function apiJson(p) {
  const u = new URL(p, origin);
  if (token) u.searchParams.set('access_token', token);
  const r = await fetch(u);
  if (!r.ok) throw new Error(`${u.pathname}: HTTP ${r.status}`);
  return r.json();
}

// Resolves with the time (page clock = this host's clock) at which `selector` first matched a
// rendered element, polled in the page every 25 ms (playwright's own waits back off to 500 ms
// and more, too coarse to time); null on timeout.
function appearsAt(page, selector, timeoutMs) {
  return page.waitForFunction((sel) => {
    const el = document.querySelector(sel);
    return el && el.getClientRects().length > 0 ? Date.now() : null;
  }, selector, { timeout: timeoutMs, polling: 25 }).then((h) => h.jsonValue(), () => null);
}

async function connectionState(page) {
  return (await page.getByTestId('connection-state').textContent()).trim();
}

async function main(page) {
  // ---- 1. load and go LIVE ---------------------------------------------------------------
  const resp = await page.goto(pageUrl, { waitUntil: 'domcontentloaded', timeout: 20000 });
  check(resp && resp.ok(), `GET ${pageUrl}: HTTP ${resp ? resp.status() : 'no response'}`);
  check(/text\/html/.test(resp.headers()['content-type'] || ''),
        `GET / is not text/html: ${resp.headers()['content-type']}`);
  try {
    await page.waitForFunction(
      () => document.querySelector('[data-testid="connection-state"]')?.textContent.trim() === 'LIVE',
      null, { timeout: 30000, polling: 100 });
  } catch (e) {
    const banner = await page.getByTestId('banner').textContent().catch(() => '');
    throw new TestFailure(`connection-state is "${await connectionState(page)}", not LIVE, ` +
                          `30 s after loading${banner ? ` (page says: ${banner})` : ''}`);
  }
  log('connection-state LIVE');
  for (const id of ['escalations', 'at-risk', 'breached', 'queues']) {
    check(await page.getByTestId(id).count() === 1, `no element with data-testid="${id}"`);
  }
  const scroll = await page.evaluate(() => ({
    h: document.documentElement.scrollHeight, w: document.documentElement.scrollWidth,
    vh: window.innerHeight, vw: window.innerWidth }));
  check(scroll.h <= scroll.vh && scroll.w <= scroll.vw,
        `the page scrolls at 1920x1080: ${scroll.w}x${scroll.h}`);

  // ---- 2. escalating contact -------------------------------------------------------------
  const escSel = `[data-testid="escalations"] [data-testid="escalation-${ids.contact_id}"]`;
  const escShown = appearsAt(page, escSel, 30000);
  const contact = await produce(contactCmd, `contact ${ids.contact_id}`);
  const shownAt = await escShown;
  check(shownAt !== null, `escalation-${ids.contact_id} not shown within 30 s of the produce`);
  const escLatency = shownAt - contact.done;
  log(`escalation-${ids.contact_id} shown ${escLatency} ms after the produce ` +
      `(${shownAt - contact.started} ms after the producer started)`);
  check(escLatency <= escalationWithinMs,
        `escalation-${ids.contact_id} shown ${escLatency} ms after the produce, limit ${escalationWithinMs} ms`);
  const esc = page.locator(escSel);
  const level = Number(await esc.getAttribute('data-level'));
  check(level >= 1, `escalation-${ids.contact_id} has level ${level}, expected >= 1`);
  // The cues may come from the alert first and the live record a moment later: both list them.
  const cues = (await page.getByTestId(`cues-${ids.contact_id}`).textContent()).trim();
  check(cues.length > 0, `escalation-${ids.contact_id} shows no reasons (cues)`);
  log(`escalation level ${level}, cues: ${cues}`);

  // ---- 3. complaint: at risk with a countdown -------------------------------------------
  const complaint = await produce(complaintCmd, `complaint in ${ids.category}`);
  let kase = null;
  const findBy = Date.now() + 10000;
  while (!kase && Date.now() < findBy) {
    const body = await apiJson(`/api/cases?category=${encodeURIComponent(ids.category)}`);
    kase = (body.cases || [])[0] || null;
    if (!kase) await new Promise((r) => setTimeout(r, 100));
  }
  check(kase, `no case in category ${ids.category} in /api/cases 10 s after the complaint`);
  const m = kase.next_milestone;
  check(m && typeof m.deadline_ms === 'number',
        `case ${kase.case_id} has no running next_milestone: ${JSON.stringify(kase)}`);
  const deadline = m.deadline_ms;
  log(`case ${kase.case_id}: ${m.name} due at ${deadline} (${deadline - Date.now()} ms from now)`);
  check(deadline - Date.now() > 2500,
        `the ${m.name} deadline is only ${deadline - Date.now()} ms away; the SLA is too short to watch`);

  const riskSel = `[data-testid="at-risk"] [data-testid="case-${kase.case_id}"]`;
  await page.waitForSelector(riskSel, { state: 'visible', timeout: 6000 }).catch(() => {
    throw new TestFailure(`case-${kase.case_id} not shown in at-risk within 6 s ` +
                          `(${Date.now() - complaint.done} ms after the produce)`);
  });
  log(`case-${kase.case_id} at risk ${Date.now() - complaint.done} ms after the produce`);
  const countdown = page.locator(`${riskSel} [data-testid="countdown-${kase.case_id}"]`);
  const readCountdown = async () => {
    const text = (await countdown.textContent()).trim();
    const mm = /^(\d+):(\d\d)$/.exec(text);
    check(mm, `case-${kase.case_id}: countdown "${text}" is not m:ss`);
    return { text, s: Number(mm[1]) * 60 + Number(mm[2]), at: Date.now() };
  };
  const c1 = await readCountdown();
  const expected1 = (deadline - c1.at) / 1000;
  check(Math.abs(c1.s - expected1) <= 1.5,
        `case-${kase.case_id}: countdown ${c1.text} but the deadline is ${expected1.toFixed(1)} s away`);
  await page.waitForTimeout(1200);
  const c2 = await readCountdown();
  check(c2.s < c1.s, `case-${kase.case_id}: countdown did not run down (${c1.text}, then ${c2.text})`);
  log(`countdown ${c1.text} -> ${c2.text}`);

  // ---- 4. breached at its due time -------------------------------------------------------
  const brSel = `[data-testid="breached"] [data-testid="breached-${kase.case_id}"]`;
  const brShown = await appearsAt(page, brSel, Math.max(1000, deadline - Date.now() + 10000));
  check(brShown !== null, `breached-${kase.case_id} not shown within 10 s after its due time`);
  const late = brShown - deadline;
  log(`breached-${kase.case_id} shown ${late} ms after the due time`);
  check(late >= -EARLY_TOLERANCE_MS, `breached-${kase.case_id} shown ${-late} ms before its due time`);
  check(late <= breachWithinMs,
        `breached-${kase.case_id} shown ${late} ms after its due time, limit ${breachWithinMs} ms`);
  check(await page.locator(riskSel).count() === 0,
        `case-${kase.case_id} still listed at risk after its breach`);
  await page.waitForSelector(`${brSel}[data-confirmed="true"]`, { timeout: 10000 }).catch(() => {
    throw new TestFailure(`breached-${kase.case_id}: the API did not report the case breached ` +
                          `within 10 s after its due time`);
  });
  log(`breached-${kase.case_id} confirmed by the API ${Date.now() - deadline} ms after due`);

  // ---- 5. mock only: escaping and reconnecting ------------------------------------------
  if (opts['mock-base']) {
    const scriptText = await page.getByText('<script>alert(1)</script>', { exact: false }).count();
    check(scriptText >= 1, 'the mock cue detail "<script>..." is not shown as text (not escaped?)');
    check(await page.locator('[data-testid="escalations"] script').count() === 0,
          'markup from data was inserted into the page');
    await page.evaluate(() => {
      window.__states = [];
      const el = document.querySelector('[data-testid="connection-state"]');
      new MutationObserver(() => window.__states.push(el.textContent.trim()))
        .observe(el, { childList: true, characterData: true, subtree: true });
    });
    const r = await fetch(new URL('/mock/drop-streams', opts['mock-base']), { method: 'POST' });
    check(r.ok, `mock drop-streams: HTTP ${r.status}`);
    await page.waitForFunction(
      () => window.__states.includes('RECONNECTING') &&
            document.querySelector('[data-testid="connection-state"]').textContent.trim() === 'LIVE',
      null, { timeout: 10000, polling: 50 }).catch(async () => {
      throw new TestFailure(`after the stream dropped: states ${JSON.stringify(
        await page.evaluate(() => window.__states))}, expected RECONNECTING then LIVE`);
    });
    log('stream dropped: RECONNECTING, then LIVE again');
  }

  check(offOrigin.length === 0, `requests off the page's origin: ${offOrigin.join(', ')}`);
  check(apiWithoutToken.length === 0,
        `API requests without the access_token: ${apiWithoutToken.slice(0, 5).join(', ')}`);
  check(pageErrors.length === 0, `JavaScript errors in the page: ${pageErrors.join(' | ')}`);
}

let exitCode = 0;
let browser = null;
try {
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
  const page = await context.newPage();
  // No request may leave the page's origin (no fonts, no CDN): such requests are refused.
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith('data:') || u.startsWith('blob:')) return route.continue();
    if (new URL(u).origin !== origin) {
      offOrigin.push(u);
      return route.abort();
    }
    return route.continue();
  });
  page.on('request', (req) => {
    const u = new URL(req.url());
    if (token && u.origin === origin && u.pathname.startsWith('/api/') &&
        u.searchParams.get('access_token') !== token) apiWithoutToken.push(u.pathname);
  });
  page.on('console', (msg) => logLines.push(`[console.${msg.type()}] ${msg.text()}`));
  page.on('pageerror', (err) => { pageErrors.push(err.message); logLines.push(`[pageerror] ${err.message}`); });
  page.on('dialog', (d) => { pageErrors.push(`dialog: ${d.message()}`); d.dismiss().catch(() => {}); });
  try {
    await main(page);
    log('PASS');
  } catch (e) {
    exitCode = 1;
    console.error(e instanceof TestFailure ? `FAIL: ${e.message}` : `FAIL: ${e.stack || e}`);
    logLines.push(`FAIL: ${e.message}`);
  } finally {
    await page.screenshot({ path: path.join(outDir, 'wallboard.png') })
      .then(() => log(`screenshot ${path.join(outDir, 'wallboard.png')}`),
            (e) => console.error(`cannot save the screenshot: ${e.message}`));
  }
} catch (e) {
  exitCode = 1;
  console.error(`FAIL: cannot run the browser: ${e.stack || e}`);
} finally {
  if (browser) await browser.close().catch(() => {});
  fs.writeFileSync(path.join(outDir, 'console.log'), logLines.join('\n') + '\n');
}
process.exit(exitCode);
