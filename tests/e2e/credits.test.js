// SPDX-License-Identifier: MIT
// The customer portal for credits in headless chromium, end to end: a
// manager credits 华信's contract; its customer, in Chinese on a 390 px
// phone, sees only their own contract, its balance and deposit, the ledger
// line, downloads the statement of the period as HTML, CSV and PDF, and
// claims part of what is owed with the form; a customer of another
// organisation, in English at 390 px, sees only theirs and gets "Not found"
// for 华信's contract by its address. Then the receipt issued when the
// customer's ticket closed is listed on their ticket page and downloads.
// Screenshots: credits-*.png.
// env: BASE_URL (a keepword serve --demo), SHOTS (screenshot dir), CHROMIUM.
'use strict';
const assert = require('node:assert/strict');
const { chromium } = require('playwright-core');
const { step, passed, session, shot, overflow } = require('./lib');

const BASE = process.env.BASE_URL;

// a call with the page's session (the app's own api(): CSRF token included)
const as = (page, method, path, body) => page.evaluate(([m, p, b]) => api(m, p, b), [method, path, body]);
// a download link fetched with the page's cookie: status, type and size
const fetchLink = (page, href) => page.evaluate(async (u) => {
  const r = await fetch(u, { credentials: 'same-origin' });
  const b = await r.arrayBuffer();
  return { status: r.status, type: r.headers.get('content-type'), size: b.byteLength,
    head: new TextDecoder().decode(b.slice(0, 5)) };
}, href);

(async () => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    const mgr = await session(browser, BASE, 'manager@keepword.demo', { width: 1366, height: 900 }, 'zh-CN', 'zh');
    const zh = await session(browser, BASE, 'it@huaxin.demo', { width: 390, height: 844 }, 'zh-CN', 'zh');
    const en = await session(browser, BASE, 'it@pacific.demo', { width: 390, height: 844 }, 'en-GB', 'en');
    const me = await as(zh, 'GET', '/me');
    const mine = (await as(zh, 'GET', '/contracts')).contracts;
    assert.equal(mine.length, 1);
    const k = mine[0];
    assert.equal(k.org_id, me.org_id);
    // 500.00 CNY credited by a manager (below the contract's 双签 threshold)
    const adj = await as(mgr, 'POST', `/contracts/${k.id}/adjustments`, { amount: 50000, reason: '三月故障补偿' });
    assert.equal(adj.status, 'recorded');

    await step('the customer (zh, 390 px) sees their one contract and what is owed', async () => {
      await zh.goto(BASE + '/#/contracts');
      await zh.waitForSelector('#contracts tbody tr');
      assert.equal(await zh.locator('#contracts tbody tr').count(), 1);
      const row = await zh.textContent(`#contracts tr[data-contract="${k.id}"]`);
      assert.ok(row.includes('500.00'), row);
      assert.ok(await overflow(zh) <= 0, 'the list fits the phone');
      await shot(zh, 'credits-list-zh-phone');
      await zh.click(`#contracts tr[data-contract="${k.id}"] a`);
      await zh.waitForSelector('#ledger tbody tr');
      const kv = await zh.textContent('main .card dl.kv');
      assert.ok(kv.includes('尚欠') && kv.includes('500.00') && kv.includes('保证金余额'), kv);
      const line = await zh.textContent('#ledger tbody tr:last-child');
      assert.ok(line.includes('调整') && line.includes('500.00') && line.includes('三月故障补偿'), line);
      assert.ok(await overflow(zh) <= 0, 'the contract page fits the phone');
      await shot(zh, 'credits-contract-zh-phone');
    });

    await step('and downloads the statement of the period as HTML, CSV and PDF', async () => {
      const links = await zh.locator('#statement-links a').evaluateAll((as_) => as_.map((a) => [a.textContent, a.getAttribute('href')]));
      assert.deepEqual(links.map((l) => l[0]), ['HTML', 'CSV', 'PDF']);
      const [html, csv, pdf] = await Promise.all(links.map((l) => fetchLink(zh, l[1])));
      assert.equal(html.status, 200);
      assert.ok(html.type.startsWith('text/html'), html.type);
      assert.equal(csv.status, 200);
      assert.ok(csv.type.startsWith('text/csv'), csv.type);
      assert.equal(pdf.status, 200);
      assert.equal(pdf.type, 'application/pdf');
      assert.equal(pdf.head, '%PDF-');
      assert.ok(links[2][1].includes('lang=zh'), links[2][1]);
      // the period picker changes every link to the period picked
      const days = await zh.locator('select[name=period] option').evaluateAll((os) => os.map((o) => o.value));
      if (days.length > 1) {
        await zh.selectOption('select[name=period]', days[1]);
        const pdf2 = await zh.getAttribute('#statement-links a:nth-of-type(3)', 'href');
        assert.ok(pdf2.includes(`at=${days[1]}`) && pdf2.includes('format=pdf'), pdf2);
      }
    });

    await step('and claims 200.00 of it with the form', async () => {
      await zh.fill('input[name=amount]', '200');
      await zh.fill('input[name=note]', '请按合同赔付');
      await zh.click('main form button[type=submit]');
      await zh.waitForFunction(() => [...document.querySelectorAll('#ledger tbody tr')].some((r) => r.textContent.includes('请按合同赔付')));
      const line = await zh.textContent('#ledger tbody tr:last-child');
      assert.ok(line.includes('索赔') && line.includes('200.00'), line);
      const c = await as(zh, 'GET', `/contracts/${k.id}`);
      assert.deepEqual(c.balance, { credits: 50000, claimed: 20000, settled: 0, owed: 50000 });
      assert.ok(await overflow(zh) <= 0);
      await shot(zh, 'credits-claimed-zh-phone');
      assert.deepEqual(zh.errors, []);
    });

    await step('a claim above what is owed is refused with the reason', async () => {
      await zh.fill('input[name=amount]', '900');
      await zh.click('main form button[type=submit]');
      await zh.waitForSelector('main form .problem');
      const said = await zh.textContent('main form .problem');
      assert.ok(said.includes('30000') || said.includes('300'), said);
      zh.errors.length = 0; // the refused claim's 400, on purpose
    });

    await step('a customer of another organisation (en, 390 px) sees only theirs', async () => {
      await en.goto(BASE + '/#/contracts');
      await en.waitForSelector('#contracts tbody tr');
      const ids = await en.locator('#contracts tbody tr').evaluateAll((rs) => rs.map((r) => Number(r.dataset.contract)));
      assert.ok(ids.length >= 1 && !ids.includes(k.id), String(ids));
      await en.goto(BASE + `/#/contracts/${ids[0]}`);
      await en.waitForSelector('#statement-links a');
      assert.deepEqual(await en.locator('#statement-links a').allTextContents(), ['HTML', 'CSV', 'PDF']);
      assert.ok((await en.getAttribute('#statement-links a:nth-of-type(3)', 'href')).includes('lang=en'));
      assert.ok(await overflow(en) <= 0, 'the contract page fits the phone');
      await shot(en, 'credits-contract-en-phone');
      await en.goto(BASE + `/#/contracts/${k.id}`);
      await en.waitForFunction(() => document.querySelector('main')?.textContent.includes('Not found'));
      assert.equal(await en.locator('#ledger').count(), 0);
      assert.ok(!(await en.textContent('main')).includes('500.00'));
      for (const p of ['', '/ledger', '/statement']) {
        const r = await en.evaluate((u) => fetch(u, { credentials: 'same-origin' }).then((x) => x.status), `/api/v1/contracts/${k.id}${p}`);
        assert.equal(r, 404, p);
      }
      await shot(en, 'credits-other-en-phone');
      assert.deepEqual(en.errors.filter((e) => !e.includes('404')), []);
    });

    await step('the receipt issued when their ticket closed is on the ticket page', async () => {
      const closed = (await as(zh, 'GET', '/tickets?state=archived&limit=1')).tickets;
      assert.equal(closed.length, 1);
      const id = closed[0].id;
      await zh.goto(BASE + `/#/t/${id}`);
      await zh.waitForSelector('#closure-receipts li');
      const li = await zh.textContent('#closure-receipts li');
      assert.ok(li.includes('结单时出具'), li);
      const href = await zh.getAttribute('#closure-receipts li a', 'href');
      const first = await fetchLink(zh, href);
      assert.equal(first.status, 200);
      const again = await zh.evaluate(async (u) => {
        const a = await (await fetch(u)).text();
        const b = await (await fetch(u)).text();
        const r = JSON.parse(a);
        return { same: a === b, format: r.format, ticket: r.ticket };
      }, href);
      assert.deepEqual(again, { same: true, format: 'keepword-receipt/1', ticket: id });
      const list = await as(zh, 'GET', `/tickets/${id}/receipts`);
      assert.equal(list.receipts[0].status, 'issued');
      assert.ok(await overflow(zh) <= 0, 'the ticket page fits the phone');
      await shot(zh, 'credits-receipt-zh-phone');
      assert.deepEqual(zh.errors, []);
    });
    console.log(`${passed()} passed`);
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(e.message); process.exit(1); });
