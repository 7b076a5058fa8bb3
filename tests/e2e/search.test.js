// SPDX-License-Identifier: MIT
// Staff-logged tickets and search in headless chromium: an agent logs a
// phone call for a customer in English on a desktop (channel and requester
// on the ticket, the description in its timeline) and finds it by an
// English word; in Chinese on a 390 px phone an agent logs a call and
// finds it by a three-character and a two-character word (两个字), with
// the matches marked and markup in a title shown as typed; the views and
// the sortable columns of the list; a customer searches their own requests.
// Screenshots: search-*.png, new-ticket-*.png.
// env: BASE_URL (a keepword serve --demo), SHOTS (screenshot dir), CHROMIUM.
'use strict';
const assert = require('node:assert/strict');
const { chromium } = require('playwright-core');
const { step, passed, session, shot, overflow, englishLeft } = require('./lib');

const BASE = process.env.BASE_URL;
// a word of this run only, so that a second run on the same server finds its own ticket
const TAG = 'kw' + Math.random().toString(36).slice(2, 8).replace(/[0-9]/g, 'x');


// Log a ticket on the New ticket page; resolves to its id.
async function logTicket(page, { org, channel, title, description }) {
  await page.goto(BASE + '/#/new');
  await page.waitForSelector('#log-ticket');
  await page.selectOption('select[name=org_id]', { label: org });
  await page.selectOption('select[name=channel]', channel);
  await page.fill('input[name=title]', title);
  await page.fill('textarea[name=description]', description);
  await page.click('#log-ticket');
  await page.waitForFunction(() => /^#\/t\/\d+$/.test(location.hash));
  await page.waitForSelector('#channel');
  return Number((await page.evaluate(() => location.hash)).split('/')[2]);
}

// Search from the list's box; resolves to the ids listed and the marked text.
async function search(page, words) {
  await page.goto(BASE + '/#/tickets');
  await page.waitForSelector('#search');
  await page.fill('#search', words);
  await page.click('#search-go');
  await page.waitForFunction((w) => location.hash.includes('q=') && document.querySelector('h1')
    && document.querySelector('h1').textContent.includes(w), words);
  await page.waitForSelector('#tickets tbody tr');
  return page.evaluate(() => ({
    ids: [...document.querySelectorAll('#tickets tbody tr[data-id]')].map((tr) => Number(tr.dataset.id)),
    marks: [...document.querySelectorAll('#tickets mark')].map((m) => m.textContent),
  }));
}

(async () => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    const en = await session(browser, BASE, 'li.na@keepword.demo', { width: 1366, height: 900 }, 'en-GB', 'en');
    const zh = await session(browser, BASE, 'zhang.wei@keepword.demo', { width: 390, height: 844 }, 'zh-CN', 'zh');
    let phoneCall, walkIn;

    await step('an agent logs a phone call for a customer (en)', async () => {
      await en.goto(BASE + '/#/new');
      await en.waitForSelector('#log-ticket');
      await shot(en, 'new-ticket-en');
      // a pasted tab in the title is sent as a space (a title is one line)
      phoneCall = await logTicket(en, { org: '华信银行', channel: 'phone', title: 'Scanner on floor 3\t<b>offline</b>',
        description: `Caller says the scanner jams since the firmware update ${TAG}` });
      assert.equal(await en.textContent('#channel'), 'Phone');
      assert.notEqual((await en.textContent('#requester')).trim(), 'none');
      const created = await en.textContent('#timeline li[data-type=created]');
      assert.match(created, /firmware update/);
      await shot(en, 'new-ticket-logged-en');
    });

    await step('an English word finds it, matches marked, markup shown as typed', async () => {
      const r = await search(en, `Firmware ${TAG.toUpperCase()}`);
      assert.deepEqual(r.ids, [phoneCall]);
      assert.ok(r.marks.includes('firmware') && r.marks.includes(TAG), r.marks.join(','));
      const r2 = await search(en, 'offline');
      assert.ok(r2.ids.includes(phoneCall));
      const title = await en.textContent(`#tickets tr[data-id="${phoneCall}"] td.title a`);
      assert.equal(title, 'Scanner on floor 3 <b>offline</b>');
      assert.equal(await en.locator(`#tickets tr[data-id="${phoneCall}"] td.title b`).count(), 0);
      assert.equal(await en.textContent(`#tickets tr[data-id="${phoneCall}"] td.title a mark`), 'offline');
      await shot(en, 'search-en');
    });

    await step('the views and the sortable columns', async () => {
      await en.goto(BASE + '/#/tickets');
      await en.waitForSelector('#tickets tbody tr[data-id]');
      for (const v of ['mine', 'unassigned', 'breached', 'due_today', 'resolved', 'closed', 'all', 'open']) {
        await en.click(`button[data-view=${v}]`);
        await en.waitForSelector(`button[data-view=${v}][aria-pressed=true]`);
        await en.waitForSelector('#tickets tbody tr');
      }
      await en.click('button[data-sort=id]');
      await en.waitForSelector('th[aria-sort=ascending] button[data-sort=id]');
      await en.waitForSelector('#tickets tbody tr[data-id]');
      const up = await en.$$eval('#tickets tbody tr[data-id]', (rs) => rs.map((r) => Number(r.dataset.id)));
      assert.deepEqual(up, [...up].sort((a, b) => a - b));
      await en.click('button[data-sort=id]');
      await en.waitForSelector('th[aria-sort=descending] button[data-sort=id]');
      const down = await en.$$eval('#tickets tbody tr[data-id]', (rs) => rs.map((r) => Number(r.dataset.id)));
      assert.deepEqual(down, [...up].reverse());
      assert.ok(up.includes(phoneCall));
      await en.click('button[data-view=unassigned]');
      await en.waitForSelector('button[data-view=unassigned][aria-pressed=true]');
      await en.waitForSelector('#tickets tbody tr');
      assert.ok(await en.locator(`#tickets tr[data-id="${phoneCall}"]`).count() === 1, 'the new ticket is unassigned');
    });

    await step('an agent logs a phone call (zh, phone width)', async () => {
      walkIn = await logTicket(zh, { org: '华信银行', channel: 'phone', title: '会议室投影仪无法开机',
        description: '客户来电反映：三楼会议室的投影仪按电源键没有反应' });
      assert.equal(await zh.textContent('#channel'), '电话');
      assert.match(await zh.textContent('#timeline li[data-type=created]'), /电源键/);
      assert.ok(await overflow(zh) <= 0, 'the ticket page fits the phone');
      await zh.goto(BASE + '/#/new');
      await zh.waitForSelector('#log-ticket');
      assert.ok(await overflow(zh) <= 0, 'the new ticket page fits the phone');
      assert.deepEqual(await englishLeft(zh), []);
      await shot(zh, 'new-ticket-zh-phone');
    });

    await step('三个字以上 and 两个字 find it in Chinese', async () => {
      const r = await search(zh, '投影仪');
      assert.ok(r.ids.includes(walkIn), `${walkIn} in ${r.ids}`);
      assert.ok(r.marks.includes('投影仪'));
      const two = await search(zh, '开机');
      assert.ok(two.ids.includes(walkIn), `${walkIn} in ${two.ids}`);
      assert.deepEqual([...new Set(two.marks)], ['开机']);
      const desc = await search(zh, '电源键');
      assert.ok(desc.ids.includes(walkIn), `${walkIn} in ${desc.ids}`);
      assert.match(await zh.textContent(`#tickets tr[data-id="${walkIn}"] .match`), /电源键/);
      assert.ok(await overflow(zh) <= 0, 'the results fit the phone');
      assert.deepEqual(await englishLeft(zh), []);
      await shot(zh, 'search-zh-phone');
    });

    await step('no match says so', async () => {
      await zh.goto(BASE + '/#/tickets?q=' + encodeURIComponent('不存在的词语'));
      await zh.waitForSelector('#tickets tbody tr td.muted');
      assert.equal(await zh.textContent('#tickets tbody td.muted'), '没有符合条件的工单。');
    });

    await step('a customer searches their own requests', async () => {
      const cu = await session(browser, BASE, 'it@huaxin.demo', { width: 1366, height: 900 }, 'zh-CN', 'zh');
      const r = await search(cu, '投影仪');
      assert.ok(r.ids.includes(walkIn));
      const other = await session(browser, BASE, 'it@jiangnan.demo', { width: 1366, height: 900 }, 'en-GB', 'en');
      await other.goto(BASE + '/#/tickets?q=' + encodeURIComponent('投影仪'));
      await other.waitForSelector('#tickets tbody tr');
      assert.equal(await other.locator(`#tickets tr[data-id="${walkIn}"]`).count(), 0);
      await shot(cu, 'search-customer-zh');
      assert.deepEqual(cu.errors.concat(other.errors), []);
    });

    assert.deepEqual(en.errors, []);
    assert.deepEqual(zh.errors, []);
    console.log(`${passed()} passed`);
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(e.message); process.exit(1); });
