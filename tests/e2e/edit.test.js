// SPDX-License-Identifier: MIT
// Editing a ticket in headless chromium: an agent in English on a desktop
// corrects a customer's request (title, category, requester) from the
// ticket page and sees each change in the timeline as before → after; the
// customer, in Chinese on a 390 px phone, rewrites the description (the
// only fields they get are the title and description) and sees the edit
// with the text before and after. Screenshots: edit-*.png.
// env: BASE_URL (a keepword serve --demo), SHOTS (screenshot dir), CHROMIUM.
'use strict';
const assert = require('node:assert/strict');
const { chromium } = require('playwright-core');
const { step, passed, session, shot, overflow } = require('./lib');

const BASE = process.env.BASE_URL;

const as = (page, method, path, body) => page.evaluate(([m, p, b]) => api(m, p, b), [method, path, body]);

(async () => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    const zh = await session(browser, BASE, 'it@huaxin.demo', { width: 390, height: 844 }, 'zh-CN', 'zh');
    const cust = await as(zh, 'GET', '/me');
    const tk = await as(zh, 'POST', '/tickets', { title: '邮箱收不到邮件', description: '从昨天开始', level: 'L3', category: 'technical' });
    // a second contact of the customer's organisation to hand the request to
    // (the admin of `keepword init`, KEEPWORD_ADMIN_PASSWORD=correct-horse in run.sh)
    const login = await (await fetch(BASE + '/api/v1/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: 'admin@localhost', password: 'correct-horse' }) })).json();
    const made = await fetch(BASE + '/api/v1/users', { method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${login.token}` },
      body: JSON.stringify({ email: 'li.na@huaxin.demo', name: '李娜', role: 'customer', org_id: cust.org_id, password: 'password-li' }) });
    assert.equal(made.status, 201);
    const other = await made.json();
    // the agent signs in after it exists (the page keeps the people it loaded)
    const en = await session(browser, BASE, 'tom@keepword.demo', { width: 1366, height: 900 }, 'en-GB', 'en');

    await step('an agent corrects the title, category and requester from the ticket page', async () => {
      await en.goto(BASE + `/#/t/${tk.id}`);
      await en.waitForSelector('#edit');
      await en.click('#edit summary');
      assert.equal(await en.inputValue('#edit-description'), '从昨天开始');
      await en.fill('#edit-title', 'Mail not delivered to the finance mailbox');
      await en.selectOption('#edit-category', 'consultation');
      await en.selectOption('#edit-requester', String(other.id));
      await en.fill('#edit-reason', 'clearer title');
      await en.click('#edit-save');
      await en.waitForFunction(() => document.querySelector('h1')?.textContent.includes('Mail not delivered'));
      const lines = await en.locator('#timeline li').allTextContents();
      assert.ok(lines.some((l) => l.includes('changed the title: 邮箱收不到邮件 → Mail not delivered to the finance mailbox')), lines.join('\n'));
      assert.ok(lines.some((l) => l.includes('changed the category: ')), lines.join('\n'));
      assert.ok(lines.some((l) => l.includes('changed the requester: 赵磊 → 李娜')), lines.join('\n'));
      await en.click('#edit summary');
      await shot(en, 'edit-en');
      assert.deepEqual(en.errors, []);
    });

    await step('the customer rewrites the description in Chinese on a phone, and sees before and after', async () => {
      await zh.goto(BASE + `/#/t/${tk.id}`);
      await zh.waitForSelector('#edit');
      await zh.click('#edit summary');
      assert.equal(await zh.locator('#edit-category').count(), 0, 'customers change only title and description');
      assert.equal(await zh.locator('#edit-requester').count(), 0);
      await zh.fill('#edit-description', '从昨天开始，财务邮箱收不到外部邮件。');
      await zh.click('#edit-save');
      await zh.waitForFunction(() => [...document.querySelectorAll('#timeline li')].some((l) => l.textContent.includes('改写了问题描述')));
      const last = await zh.locator('#timeline li[data-type=edited]').last().textContent();
      assert.ok(last.includes('修改前') && last.includes('从昨天开始') && last.includes('修改后') && last.includes('财务邮箱'), last);
      const title = await zh.locator('#timeline li[data-type=edited]').first().textContent();
      assert.ok(title.includes('修改了标题：邮箱收不到邮件 → Mail not delivered'), title);
      assert.ok(await overflow(zh) <= 0, 'the ticket fits the phone');
      await shot(zh, 'edit-zh-phone');
      assert.deepEqual(zh.errors, []);
    });

    await step('a refused edit says why, and nothing is lost', async () => {
      await zh.click('#edit summary').catch(() => {});
      await zh.fill('#edit-title', '   ');
      await zh.click('#edit-save');
      await zh.waitForSelector('#edit .problem');
      assert.ok((await zh.textContent('#edit .problem')).includes('title'));
      const t = await as(zh, 'GET', `/tickets/${tk.id}`);
      assert.equal(t.title, 'Mail not delivered to the finance mailbox');
    });
    console.log(`${passed()} passed`);
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(e.message); process.exit(1); });
