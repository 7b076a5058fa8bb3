// SPDX-License-Identifier: MIT
// In-app notifications in headless chromium: an agent in Chinese on a
// 390 px phone watches the board while a manager assigns them a ticket:
// the badge beside 提醒 counts it without a reload; the Inbox lists it,
// a click opens the ticket and marks it read, "mark all read" clears the
// badge. An agent in English on a desktop has the Inbox open while the
// customer replies on their ticket: it appears live, with the reply's
// words. Screenshots: inbox-*.png.
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
    const mgr = await session(browser, BASE, 'manager@keepword.demo', { width: 1366, height: 900 }, 'en-GB', 'en');
    const zh = await session(browser, BASE, 'zhang.wei@keepword.demo', { width: 390, height: 844 }, 'zh-CN', 'zh');
    const users = (await as(mgr, 'GET', '/users?limit=500')).users;
    const zhang = users.find((u) => u.email === 'zhang.wei@keepword.demo');
    const tom = users.find((u) => u.email === 'tom@keepword.demo');
    const cust = users.find((u) => u.email === 'it@huaxin.demo');
    await as(zh, 'POST', '/notifications/read', { all: true });
    let ticket;

    await step('the badge counts a ticket assigned to me, live', async () => {
      await zh.goto(BASE + '/#/board');
      await zh.waitForSelector('#inbox-link');
      // the demo's clocks keep firing on the agent's tickets: count from what it says now
      const before = (await as(zh, 'GET', '/notifications?unread=true&limit=1')).unread;
      ticket = await as(mgr, 'POST', '/tickets', { title: '门禁系统无法识别工卡', level: 'L3', org_id: cust.org_id });
      await as(mgr, 'PATCH', `/tickets/${ticket.id}`, { assignee_id: zhang.id });
      await zh.waitForFunction((n) => !document.getElementById('inbox-badge').hidden
        && Number(document.getElementById('inbox-badge').textContent) > n, before, { timeout: 10000 });
      assert.match(await zh.getAttribute('#inbox-badge', 'aria-label'), /^\d+ 条未读提醒$/);
    });

    await step('the Inbox lists it; opening it marks it read', async () => {
      await zh.click('#inbox-link');
      await zh.waitForSelector('#inbox li.unread');
      const mine = zh.locator('#inbox li.unread', { hasText: `#${ticket.id} 门禁系统无法识别工卡` });
      assert.equal(await mine.count(), 1);
      assert.match(await mine.textContent(), /分派给您/);
      assert.match(await mine.textContent(), /王芳/);
      assert.ok(await overflow(zh) <= 0, 'the Inbox fits the phone');
      await shot(zh, 'inbox-zh-phone');
      await zh.click(`#inbox li.unread a[href="#/t/${ticket.id}"]`);
      await zh.waitForFunction((id) => location.hash === `#/t/${id}`, ticket.id);
      await zh.waitForSelector('#channel');
      // the click marks it read without holding up the ticket's page: wait
      // for the request, not for the page
      let read = false;
      for (let i = 0; i < 100 && !read; i++) {
        const left = await as(zh, 'GET', '/notifications?limit=200');
        read = left.notifications.some((n) => n.ticket_id === ticket.id && n.kind === 'assigned' && n.read);
        if (!read) await zh.waitForTimeout(100);
      }
      assert.ok(read, 'marked read within 10 s of opening it');
    });

    await step('mark all read clears the badge', async () => {
      await as(mgr, 'PATCH', `/tickets/${ticket.id}`, { assignee_id: null });
      await as(mgr, 'PATCH', `/tickets/${ticket.id}`, { assignee_id: zhang.id });
      await zh.goto(BASE + '/#/inbox');
      await zh.waitForSelector('#inbox li.unread');
      await zh.waitForFunction(() => !document.getElementById('inbox-badge').hidden);
      await zh.click('#mark-all');
      await zh.waitForFunction(() => /^\d+ 条未读$/.test(document.getElementById('unread').textContent)
        && document.querySelectorAll('#inbox li.unread').length === 0);
      const left = await as(zh, 'GET', '/notifications?limit=200');
      assert.ok(left.notifications.filter((n) => n.ticket_id === ticket.id).every((n) => n.read));
      assert.deepEqual(zh.errors, []);
    });

    await step('a customer\'s reply appears in the open Inbox, live', async () => {
      const en = await session(browser, BASE, 'tom@keepword.demo', { width: 1366, height: 900 }, 'en-GB', 'en');
      await as(mgr, 'PATCH', `/tickets/${ticket.id}`, { assignee_id: tom.id });
      await en.goto(BASE + '/#/inbox?unread=true');
      await en.waitForSelector('#inbox li.unread');
      const cu = await session(browser, BASE, 'it@huaxin.demo', { width: 1366, height: 900 }, 'en-GB', 'en');
      await as(cu, 'POST', `/tickets/${ticket.id}/events`, { type: 'comment', text: 'The badge reader by the lift is dark too.' });
      await en.waitForFunction(() => [...document.querySelectorAll('#inbox li.unread')].some((li) => li.textContent.includes('Customer replied')),
        null, { timeout: 10000 });
      const li = en.locator('#inbox li.unread', { hasText: 'Customer replied' });
      assert.match(await li.textContent(), /The badge reader by the lift is dark too\./);
      await shot(en, 'inbox-en');
      assert.deepEqual(en.errors.concat(cu.errors), []);
    });

    assert.deepEqual(mgr.errors, []);
    console.log(`${passed()} passed`);
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(e.message); process.exit(1); });
