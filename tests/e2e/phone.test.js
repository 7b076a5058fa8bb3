// SPDX-License-Identifier: MIT
// Every page fits a phone: each role opens each of its pages at 390 px wide,
// in Chinese and in English, and the document must not be wider than the
// viewport (a table may scroll inside its own box; the page may not). The
// ticket's SLA table keeps its column labels on a phone. Screenshots go to
// SHOTS as phone-<role>-<lang>-<page>.png.
// env: BASE_URL (a keepword serve --demo), SHOTS (screenshot dir), CHROMIUM.
'use strict';
const assert = require('node:assert/strict');
const { chromium } = require('playwright-core');

const BASE = process.env.BASE_URL;
const SHOTS = process.env.SHOTS;
const PASSWORD = 'keepword-demo';
const WIDTH = 390;

// role: login, and the pages (hash, what shows that the page is drawn, name)
const ROLES = [
  ['nobody', null, [['#/login', 'input[name=email]', 'login']]],
  ['customer', 'it@huaxin.demo', [
    ['#/portal', '#requests', 'portal'],
    ['#/portal/new', 'input[name=title]', 'portal-new'],
    ['#/t/1', 'ol.nodes', 'ticket'],
    ['#/contracts', '#contracts', 'contracts'],
    ['#/contracts/1', 'dl.kv', 'contract'],
    ['#/portal/letter', '#letter h1', 'portal-letter'],
  ]],
  ['agent', 'li.na@keepword.demo', [
    ['#/board', '#board tbody tr[data-id]', 'board'],
    ['#/t/1', '#clocks tbody tr', 'ticket'],
    ['#/t/4', '#clocks tbody tr', 'ticket-en'],
  ]],
  ['manager', 'manager@keepword.demo', [
    ['#/board', '#board tbody tr[data-id]', 'board'],
    ['#/t/9', '#clocks tbody tr', 'ticket'],
    ['#/admin/commitments', '#versions', 'commitments'],
    ['#/admin/calendars', '#calendar-editor', 'calendars'],
    ['#/admin/orgs', '#orgs', 'orgs'],
    ['#/admin/people', '#users', 'people'],
    ['#/admin/oncall', '[data-rota]', 'oncall'],
    ['#/admin/endpoints', '#endpoints', 'endpoints'],
    ['#/admin/mailboxes', '#mailboxes', 'mailboxes'],
    ['#/admin/alerts', '#sources', 'alerts'],
    ['#/contracts', '#contracts', 'contracts'],
    ['#/contracts/3', '#ledger', 'contract'],
  ]],
];

// How much wider than the viewport the document is, and the elements that
// stick out past its right edge (innermost first), to say what to fix.
// A phone browser widens its layout viewport (and zooms out) to show a page
// that is wider than the screen, so the width is measured against WIDTH.
async function overflow(page) {
  return page.evaluate((vw) => {
    const over = Math.max(document.documentElement.scrollWidth, window.innerWidth) - vw;
    const out = [];
    if (over > 0) {
      for (const el of document.querySelectorAll('body *')) {
        const r = el.getBoundingClientRect();
        if (r.width && r.right > vw + 1 && !el.closest('[data-scrolls]')) {
          let inScroller = false;
          for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
            const s = getComputedStyle(p);
            if (/(auto|scroll|hidden)/.test(s.overflowX) && p.getBoundingClientRect().right <= vw + 1) { inScroller = true; break; }
          }
          if (!inScroller) out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : ''} right=${Math.round(r.right)}`);
        }
      }
    }
    return { over, out: out.slice(-8) };
  }, WIDTH);
}

(async () => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  const failures = [];
  let checked = 0;
  try {
    for (const lang of ['zh', 'en']) {
      for (const [role, email, pages] of ROLES) {
        const ctx = await browser.newContext({ viewport: { width: WIDTH, height: 844 },
          locale: lang === 'zh' ? 'zh-CN' : 'en-GB', timezoneId: 'Asia/Shanghai',
          deviceScaleFactor: 1, isMobile: true, hasTouch: true });
        const page = await ctx.newPage();
        const errors = [];
        page.on('pageerror', (e) => errors.push(e.message));
        if (email) {
          await page.goto(BASE + '/#/login');
          await page.fill('input[name=email]', email);
          await page.fill('input[name=password]', PASSWORD);
          await page.click('form button[type=submit]');
          await page.waitForSelector('#logout');
        }
        for (const [hash, ready, name] of pages) {
          await page.goto(BASE + '/' + hash);
          await page.waitForSelector(ready, { timeout: 10000 });
          await page.waitForTimeout(300); // lists and clocks that fill in after the page
          assert.equal(await page.evaluate(() => document.documentElement.lang), lang === 'zh' ? 'zh-CN' : 'en');
          const o = await overflow(page);
          checked++;
          const what = `${role} ${lang} ${hash}`;
          if (o.over > 0) failures.push(`${what}: the page is ${o.over} px wider than the phone: ${o.out.join(', ')}`);
          else console.log(`ok - ${what} fits ${WIDTH} px`);
          if (name.startsWith('ticket') && role !== 'customer') {
            // the SLA table keeps its labels: a visible header cell per column
            const heads = await page.evaluate(() => [...document.querySelectorAll('#clocks thead th')]
              .filter((th) => th.getBoundingClientRect().width > 0 && th.offsetParent !== null).map((th) => th.textContent.trim()));
            if (heads.length < 3 || heads.some((x) => !x)) failures.push(`${what}: the SLA table lost its labels (${JSON.stringify(heads)})`);
            else console.log(`ok - ${what}: the SLA table shows its labels ${heads.join(' | ')}`);
          }
          await page.screenshot({ path: `${SHOTS}/phone-${role}-${lang}-${name}.png`, fullPage: true });
        }
        if (errors.length) failures.push(`${role} ${lang}: script errors ${errors.join('; ')}`);
        await ctx.close();
      }
    }
  } finally {
    await browser.close();
  }
  for (const f of failures) console.log(`not ok - ${f}`);
  console.log(`${checked} pages checked at ${WIDTH} px, ${failures.length} problems`);
  process.exit(failures.length ? 1 : 0);
})().catch((e) => { console.log(`not ok - ${e.stack || e}`); process.exit(1); });
