// SPDX-License-Identifier: MIT
// The board with every open ticket (about 5,000) in headless chromium: time
// to the first full render (navigation start to the rows painted), then 10 s
// of countdown ticks: each tick's script time, long tasks, the longest gap
// between frames and layout shifts (there should be none).
'use strict';
const { chromium } = require('../tests/e2e/node_modules/playwright-core');

const BASE = process.env.BASE_URL;
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

(async () => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'en-GB' });
  const page = await ctx.newPage();
  await page.goto(BASE + '/#/login');
  await page.fill('input[name=email]', 'manager@keepword.demo');
  await page.fill('input[name=password]', 'keepword-demo');
  await page.click('form button[type=submit]');
  await page.waitForSelector('#board tbody tr[data-id]');
  const renders = [];
  for (let i = 0; i < 3; i++) {
    await page.reload();
    await page.waitForSelector('#board tbody tr[data-id]');
    await page.waitForFunction(() => window.kwBoardReady);
    // the rows painted: the frame after the render
    renders.push(await page.evaluate(() => new Promise((r) => requestAnimationFrame(() =>
      setTimeout(() => r({ ready: window.kwBoardReady, painted: performance.now(),
        rows: document.querySelectorAll('#board tbody tr[data-id]').length,
        total: document.querySelector('#counters [data-counter=total] b').textContent,
        chips: document.querySelectorAll('#board .clock').length }), 0)))));
  }
  const m = await page.evaluate(() => new Promise((resolve) => {
    const out = { ticks: [], longtasks: [], shifts: 0, maxGap: 0 };
    new PerformanceObserver((l) => l.getEntries().forEach((e) => out.longtasks.push(e.duration))).observe({ type: 'longtask' });
    new PerformanceObserver((l) => l.getEntries().forEach((e) => { if (!e.hadRecentInput) out.shifts += e.value; })).observe({ type: 'layout-shift' });
    let last = performance.now(), lastTick = null;
    const frame = (t) => {
      out.maxGap = Math.max(out.maxGap, t - last);
      last = t;
      if (window.kwTickMs !== lastTick && window.kwTickMs !== undefined) { out.ticks.push(window.kwTickMs); lastTick = window.kwTickMs; }
      if (t < start + 10000) requestAnimationFrame(frame); else resolve(out);
    };
    const start = performance.now();
    requestAnimationFrame(frame);
  }));
  const r = renders.map((x) => x.painted);
  const rows = renders[0].rows, chips = renders[0].chips, total = renders[0].total;
  const first = median(r);
  console.log(`ui board: ${total} open tickets loaded and counted, the first ${rows} drawn with ${chips} live clocks; first render (navigation to rows painted) median ${first.toFixed(0)} ms over 3 loads [${r.map((x) => x.toFixed(0)).join(', ')}]   (target < 1000 ms: ratio ${(1000 / first).toFixed(2)})`);
  console.log(`ui board: 10 s of countdowns: ${m.ticks.length} ticks, script per tick median ${median(m.ticks).toFixed(1)} ms, max ${Math.max(...m.ticks).toFixed(1)} ms; longest frame gap ${m.maxGap.toFixed(0)} ms; long tasks ${m.longtasks.length}; layout shift ${m.shifts.toFixed(4)}`);
  await browser.close();
})().catch((e) => { console.error(e); process.exit(1); });
