// SPDX-License-Identifier: MIT
// Watchers in headless chromium: an agent in English on a desktop follows
// a customer's ticket and adds the organisation's contact from the
// ticket page; the customer, in Chinese on a 390 px phone, sees the
// watchers on their ticket, gets the agent's public reply (not the
// internal note) in their 提醒 with its badge, and unfollows.
// Screenshots: watchers-*.png.
// env: BASE_URL (a keepword serve --demo), SHOTS (screenshot dir), CHROMIUM.
'use strict';
const assert = require('node:assert/strict');
const { chromium } = require('playwright-core');
const { step, passed, session, shot, overflow } = require('./lib');

const BASE = process.env.BASE_URL;

// a call with the page's session (the app's own api(): CSRF token included)
const as = (page, method, path, body) => page.evaluate(([m, p, b]) => api(m, p, b), [method, path, body]);

(async () => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    const en = await session(browser, BASE, 'tom@keepword.demo', { width: 1366, height: 900 }, 'en-GB', 'en');
    const zh = await session(browser, BASE, 'it@huaxin.demo', { width: 390, height: 844 }, 'zh-CN', 'zh');
    const cust = await as(zh, 'GET', '/me');
    await as(zh, 'POST', '/notifications/read', { all: true });
    const tk = await as(zh, 'POST', '/tickets', { title: '会议室投影仪无信号', level: 'L3' });

    await step('an agent follows the ticket and adds the customer from its page', async () => {
      await en.goto(BASE + `/#/t/${tk.id}`);
      await en.waitForSelector('#watchers');
      assert.equal(await en.textContent('#watchers p.muted'), 'Nobody follows this ticket.');
      await en.click('#follow');
      await en.waitForSelector('#watchers li[data-user]');
      assert.equal(await en.textContent('#follow'), 'Unfollow');
      await en.selectOption('#watcher-pick', String(cust.id));
      await en.click('#add-watcher button[type=submit]');
      await en.waitForSelector(`#watchers li[data-user="${cust.id}"]`);
      const w = await as(en, 'GET', `/tickets/${tk.id}/watchers`);
      assert.deepEqual(w.watchers.map((x) => x.name), ['Tom Becker', '赵磊']);
      await shot(en, 'watchers-en');
      assert.deepEqual(en.errors, []);
    });

    await step('the customer, a watcher, gets the public reply in Chinese, not the note', async () => {
      await as(en, 'POST', `/tickets/${tk.id}/events`, { type: 'comment', text: 'need a spare HDMI cable', internal: true });
      await as(en, 'POST', `/tickets/${tk.id}/events`, { type: 'comment', text: '工程师下午两点到场。' });
      await zh.goto(BASE + '/#/inbox');
      await zh.waitForSelector('#inbox li');
      const items = await zh.locator('#inbox li').allTextContents();
      assert.equal(items.length, 1);
      assert.ok(items[0].includes('新回复') && items[0].includes('工程师下午两点到场。') && items[0].includes('会议室投影仪无信号'));
      assert.ok(!items[0].includes('HDMI'));
      assert.equal(await zh.textContent('#inbox-badge'), '1');
      assert.ok(await overflow(zh) <= 0, 'the inbox fits the phone');
      await shot(zh, 'watchers-inbox-zh-phone');
    });

    await step('the customer sees the watchers on their ticket and unfollows', async () => {
      await zh.goto(BASE + `/#/t/${tk.id}`);
      await zh.waitForSelector('#watchers li[data-user]');
      assert.equal(await zh.locator('#watchers .remove-watcher').count(), 0);
      assert.equal(await zh.locator('#add-watcher').count(), 0);
      assert.equal(await zh.textContent('#follow'), '取消关注');
      await shot(zh, 'watchers-zh-phone');
      await zh.click('#follow');
      await zh.waitForFunction(() => document.querySelector('#follow')?.textContent === '关注');
      const w = await as(zh, 'GET', `/tickets/${tk.id}/watchers`);
      assert.equal(w.watching, false);
      assert.ok(await overflow(zh) <= 0, 'the ticket fits the phone');
      assert.deepEqual(zh.errors, []);
    });
    console.log(`${passed()} passed`);
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(e.message); process.exit(1); });
