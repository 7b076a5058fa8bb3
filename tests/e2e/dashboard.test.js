// SPDX-License-Identifier: MIT
// The dashboard (#/dashboard): as the demo's manager and as a customer, in
// Chinese and in English, on a desktop and at 390 px, each headline figure
// on screen equals the one GET /api/v1/kpis gives for the same period (and
// its delta the previous period's), the table has the API's groups, the
// radar has each agent (staff) and none for a customer, the page fits a
// phone, and a figure's drill-down lists exactly the tickets GET
// /api/v1/kpis/tickets names. Screenshots go to SHOTS as dashboard-*.png.
// env: BASE_URL (a keepword serve --demo), SHOTS (screenshot dir), CHROMIUM.
'use strict';
const assert = require('node:assert/strict');
const { chromium } = require('playwright-core');
const { step, passed, session } = require('./lib.js');

const BASE = process.env.BASE_URL;
const SHOTS = process.env.SHOTS;

// The headline figures as docs/kpi.md ("The dashboard") defines them, from
// one group of GET /kpis: written here again, not taken from the page.
function expected(g) {
  const ms = Object.values(g.metrics);
  const sum = (f) => ms.reduce((a, m) => a + f(m), 0);
  const all = sum((m) => m.met + m.met_late + m.breached_open);
  const r1 = (x) => Math.sign(x) * Math.round(Math.abs(x) * 10) / 10;
  return {
    on_time: all ? r1(sum((m) => m.met) * 100 / all) : null,
    mtta: g.mtta, mttr: g.mttr,
    breaches: sum((m) => m.met_late + m.breached_open),
    created: g.tickets.created, resolved: g.tickets.resolved, backlog: g.tickets.backlog.total,
    csat: g.csat.mean, nps: g.nps.score,
  };
}

async function check(browser, who, email, lang, width) {
  const page = await session(browser, BASE, email, { width, height: 900 }, lang === 'zh' ? 'zh-CN' : 'en-GB', lang);
  const tag = `${who}-${lang}-${width}`;
  let range, cur, prev;
  const kpis = (from, to, extra) => page.evaluate(async (u) => (await fetch(u)).json(),
    `/api/v1/kpis?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&tz=${encodeURIComponent(range.tz)}${extra || ''}`);
  // What differs between the headline on the page and the API's, or null.
  const differs = async () => {
    const want = expected(cur.groups[0]), before = expected(prev.groups[0]);
    const shown = await page.$$eval('#dash-headline [data-kpi]', (l) => l.map((e) => [e.dataset.kpi, e.dataset.value,
      e.querySelector('.kpi-delta').dataset.delta, e.querySelector('.kpi-value').textContent]));
    const byId = Object.fromEntries(shown.map(([k, v, d, text]) => [k, { v, d, text }]));
    const nf = new Intl.NumberFormat(lang === 'zh' ? 'zh-CN' : 'en-GB');
    for (const [k, v] of Object.entries(want)) {
      if (!byId[k]) return `${k} is not on the page`;
      if (byId[k].v !== (v === null ? '' : String(v))) return `${k}: page ${byId[k].v}, API ${v}`;
      if (v === null && byId[k].text !== '—') return `${k} without a value shows ${byId[k].text}`;
      if (v !== null && k !== 'mtta' && k !== 'mttr' && !byId[k].text.includes(nf.format(v))) return `${k} shows ${byId[k].text}, not ${v}`;
      // a delta exactly when both periods have the figure, with its sign
      if ((byId[k].d !== '') !== (v !== null && before[k] !== null)) return `${k}: delta "${byId[k].d}" (now ${v}, before ${before[k]})`;
      if (v !== null && before[k] !== null) {
        const d = v - before[k];
        if (!byId[k].d.startsWith(d > 0 ? '+' : d < 0 ? '−' : '±')) return `${k}: delta ${byId[k].d}, want ${d}`;
      }
    }
    return Object.values(want).some((v) => v) ? null : 'the demo has no figures in this period';
  };
  let diff = 'not drawn';
  await step(`${tag}: the dashboard draws its figures and charts`, async () => {
    // the demo's clocks run on the wall clock, so a breach may fire between
    // drawing and asking the API: then the page is drawn again (3 tries)
    for (let tries = 0; tries < 3 && diff; tries++) {
      await page.goto(BASE + '/#/board');
      await page.goto(BASE + '/#/dashboard');
      await page.waitForSelector('#dash-headline [data-kpi]');
      await page.waitForSelector('#chart-trend canvas');
      range = await page.$eval('#dash-range', (e) => ({ ...e.dataset }));
      cur = await kpis(range.from, range.to);
      prev = await kpis(range.pfrom, range.from);
      diff = await differs();
    }
  });
  await step(`${tag}: each headline figure equals the API's, with its delta`, async () => assert.equal(diff, null));
  await step(`${tag}: the table has the API's groups; the radar ${who === 'customer' ? 'is absent' : 'has each agent'}`, async () => {
    const byLevel = await kpis(range.from, range.to, '&group_by=level');
    assert.equal(await page.locator('#dash-groups tbody tr').count(), byLevel.groups.length);
    if (who === 'customer') {
      assert.equal(await page.locator('#dash-radar, #chart-radar').count(), 0);
      assert.equal(await page.locator('#dash-group option[value=assignee]').count(), 0);
      const text = await page.textContent('main');
      for (const agent of ['李娜', '张伟', 'Tom Becker', 'Priya Sharma']) assert.ok(!text.includes(agent), `no agent's name (${agent})`);
    } else {
      const agents = await kpis(range.from, range.to, '&group_by=assignee');
      const names = agents.groups.filter((g) => g.key.assignee !== null).map((g) => g.key.assignee).sort();
      const rows = (await page.$$eval('#dash-radar tbody tr', (l) => l.map((r) => r.dataset.agent))).sort();
      assert.deepEqual(rows, names);
      await page.waitForSelector('#chart-radar canvas');
    }
  });
  await step(`${tag}: the page fits ${width} px`, async () => {
    const w = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(w <= width, `the page is ${w} px wide`);
    await page.screenshot({ path: `${SHOTS}/dashboard-${tag}.png`, fullPage: true });
  });
  await step(`${tag}: the breaches figure drills down to exactly its tickets`, async () => {
    await page.click('#dash-headline [data-kpi=breaches]');
    await page.waitForSelector('#drill-count');
    const q = page.url().split('#/dashboard/tickets?')[1];
    assert.ok(q && q.includes('figure=breaches'), page.url());
    // (a breach may fire meanwhile: the figure and the list are asked together)
    const [api, fig] = await Promise.all([page.evaluate(async (u) => (await fetch(u)).json(), '/api/v1/kpis/tickets?' + q),
      kpis(range.from, range.to)]);
    assert.equal(api.count, expected(fig.groups[0]).breaches, 'the drill-down counts what the figure counts');
    await page.reload();
    await page.waitForSelector('#drill-count');
    const ids = await page.$$eval('#drill-tickets tbody tr', (l) => l.map((r) => Number(r.dataset.ticket)));
    const again = await page.evaluate(async (u) => (await fetch(u)).json(), '/api/v1/kpis/tickets?' + q);
    assert.deepEqual(ids, again.tickets.map((x) => x.id));
    assert.ok(ids.length > 0 || who === 'customer', 'the demo has breaches this period');
    if (who === 'customer') {
      const orgs = await page.$$eval('#drill-tickets tbody tr td:nth-child(5)', (l) => l.map((td) => td.textContent));
      assert.ok(orgs.every((o) => o === orgs[0]), 'one organisation');
    }
    await page.screenshot({ path: `${SHOTS}/dashboard-drill-${tag}.png`, fullPage: true });
    await page.click('#drill-back');
    await page.waitForSelector('#dash-headline [data-kpi]');
  });
  await step(`${tag}: no page errors`, async () => assert.deepEqual(page.errors, []));
  await page.context().close();
}

(async () => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: ['--no-sandbox'] });
  let rc = 0;
  try {
    for (const lang of ['zh', 'en'])
      for (const width of [1280, 390]) {
        await check(browser, 'manager', 'manager@keepword.demo', lang, width);
        await check(browser, 'customer', 'it@huaxin.demo', lang, width);
      }
    console.log(`# ${passed()} passed`);
  } catch (e) {
    rc = 1;
  } finally {
    await browser.close();
  }
  process.exit(rc);
})();
