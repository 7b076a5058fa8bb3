// SPDX-License-Identifier: MIT
// Links, merges and canned replies in headless chromium: an agent in
// English on a desktop marks a customer's ticket as a duplicate of another,
// inserts the desk's canned reply (rendered for the ticket in the
// requester's language) and sends it, then merges the duplicate; the
// customer, in Chinese on a 390 px phone, finds the reply on the original
// marked as moved, and the duplicate's page pointing there; a manager keeps
// the canned replies on their admin page in both languages.
// Screenshots: links-*.png.
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
    const en = await session(browser, BASE, 'tom@keepword.demo', { width: 1366, height: 900 }, 'en-GB', 'en');
    const zh = await session(browser, BASE, 'it@huaxin.demo', { width: 390, height: 844 }, 'zh-CN', 'zh');
    const mgr = await session(browser, BASE, 'manager@keepword.demo', { width: 390, height: 844 }, 'zh-CN', 'zh');
    const orig = await as(zh, 'POST', '/tickets', { title: '三楼打印机卡纸', level: 'L3' });
    const dup = await as(zh, 'POST', '/tickets', { title: '打印机又卡纸了', level: 'L3' });
    const desk = (await as(mgr, 'GET', '/teams')).teams.find((x) => x.name === '国内服务台');
    await as(mgr, 'PATCH', `/tickets/${dup.id}`, { team_id: desk.id });

    await step('a manager keeps the desk’s canned reply on the admin page (zh, 390 px)', async () => {
      await mgr.goto(BASE + '/#/admin/canned');
      await mgr.waitForSelector('#canned-new');
      await mgr.selectOption('#canned-new select[name=team_id]', String(desk.id));
      await mgr.fill('#canned-new input[name=name]', '已受理');
      await mgr.fill('#canned-new textarea[name=body_zh]', '您好 {{requester.name}}，工单 #{{ticket.id}}「{{ticket.title}}」已受理。—— {{agent.name}}');
      await mgr.fill('#canned-new textarea[name=body_en]', 'Hello {{requester.name}}, ticket #{{ticket.id}} is with {{team.name}}.');
      await mgr.click('#canned-new button[type=submit]');
      await mgr.waitForSelector('li[data-canned]');
      assert.match(await mgr.textContent('li[data-canned] h3'), /已受理/);
      // an unknown placeholder is refused with the server's words
      await mgr.fill('#canned-new input[name=name]', '错误');
      await mgr.fill('#canned-new textarea[name=body_zh]', '{{ticket.owner}}');
      await mgr.fill('#canned-new textarea[name=body_en]', 'x');
      await mgr.click('#canned-new button[type=submit]');
      await mgr.waitForSelector('#canned-new .problem');
      assert.match(await mgr.textContent('#canned-new .problem'), /ticket\.owner/);
      assert.equal(await mgr.locator('li[data-canned]').count(), 1);
      assert.ok(await overflow(mgr) <= 0, 'the page fits the phone');
      await shot(mgr, 'links-canned-admin-zh-phone');
      assert.deepEqual(mgr.errors.filter((e) => !/400/.test(e)), []);
    });

    await step('an agent marks the duplicate and inserts the canned reply', async () => {
      await en.goto(BASE + `/#/t/${dup.id}`);
      await en.waitForSelector('#links');
      assert.equal(await en.textContent('#links p.muted'), 'No linked tickets.');
      await en.selectOption('#link-kind', 'duplicate_of');
      await en.fill('#link-ticket', String(orig.id));
      await en.click('#add-link button[type=submit]');
      await en.waitForSelector(`#links li[data-ticket="${orig.id}"]`);
      const line = await en.textContent(`#links li[data-ticket="${orig.id}"]`);
      assert.match(line, /Duplicate of/);
      assert.match(line, /三楼打印机卡纸/);
      assert.match(line, /Registered|registered/);
      await en.selectOption('#canned-pick', { label: '已受理 · 国内服务台' });
      await en.click('#canned-insert');
      await en.waitForFunction(() => document.querySelector('textarea[name=text]').value.length > 0);
      const text = await en.inputValue('textarea[name=text]');
      assert.equal(text, `您好 赵磊，工单 #${dup.id}「打印机又卡纸了」已受理。—— Tom Becker`);
      await shot(en, 'links-ticket-en');
      await en.click('#send-reply');
      await en.waitForSelector('#timeline li[data-type=comment]');
    });

    await step('the agent merges the duplicate into the original', async () => {
      en.once('dialog', (d) => d.accept());
      await en.click('#merge summary');
      assert.equal(await en.inputValue('#merge-into'), String(orig.id));
      await en.click('#merge-go');
      await en.waitForSelector('#merged-banner');
      assert.equal(await en.textContent('#merged-banner a'), `Go to #${orig.id}`);
      assert.equal(await en.textContent('#state'), 'Archived');
      assert.equal(await en.locator('#merge').count(), 0);
      await shot(en, 'links-merged-en');
      assert.deepEqual(en.errors, []);
    });

    await step('the customer finds the reply on the original and the pointer on the duplicate (zh, 390 px)', async () => {
      await zh.goto(BASE + `/#/t/${orig.id}`);
      await zh.waitForSelector('#timeline .moved');
      assert.match(await zh.textContent('#timeline .moved'), new RegExp(`移自 #${dup.id}；Tom Becker 写于`));
      assert.match(await zh.textContent(`#links li[data-ticket="${dup.id}"]`), /合并自/);
      assert.equal(await zh.locator('#add-link').count(), 0);
      assert.equal(await zh.locator('#canned').count(), 0);
      assert.ok(await overflow(zh) <= 0, 'the original fits the phone');
      await shot(zh, 'links-original-zh-phone');
      await zh.goto(BASE + `/#/t/${dup.id}`);
      await zh.waitForSelector('#merged-banner');
      assert.match(await zh.textContent('#merged-banner'), new RegExp(`此工单已合并到 #${orig.id}`));
      assert.ok(await overflow(zh) <= 0, 'the duplicate fits the phone');
      await shot(zh, 'links-duplicate-zh-phone');
      assert.deepEqual(zh.errors, []);
    });
    console.log(`${passed()} passed`);
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(e.message); process.exit(1); });
