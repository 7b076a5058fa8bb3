// SPDX-License-Identifier: MIT
// The Calendars page in headless chromium, in English on a desktop and in
// Chinese on a 390 px phone: saving says first which commitments and how
// many open tickets the edit reaches and saves only when confirmed, then
// stays on the calendar it saved (now a version on); a new calendar starts
// empty; a ticket's deadline moves with the saved holiday.
// env: BASE_URL (a keepword serve --demo), SHOTS (screenshot dir), CHROMIUM.
'use strict';
const assert = require('node:assert/strict');
const { chromium } = require('playwright-core');
const { step, passed, shot, overflow, englishLeft } = require('./lib');

const BASE = process.env.BASE_URL;

async function session(browser, viewport, locale) {
  const ctx = await browser.newContext({ viewport, locale, timezoneId: 'Asia/Shanghai' });
  const page = await ctx.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push('console: ' + m.text()); });
  page.on('dialog', (d) => { page.errors.push('dialog: ' + d.message()); d.dismiss(); });
  await page.goto(BASE + '/#/login');
  await page.fill('input[name=email]', 'manager@keepword.demo');
  await page.fill('input[name=password]', 'keepword-demo');
  await page.click('form button[type=submit]');
  await page.waitForSelector('#logout');
  return page;
}


// A weekday some weeks ahead (YYYY-MM-DD), far enough that no demo clock
// has reached it, near enough that running deadlines cross it.
function aheadWeekday(days) {
  const d = new Date(Date.now() + days * 86400000);
  while (d.getUTCDay() === 0 || d.getUTCDay() === 6) d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

(async () => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    const en = await session(browser, { width: 1366, height: 900 }, 'en-GB');
    const zh = await session(browser, { width: 390, height: 844 }, 'zh-CN');
    await zh.evaluate(() => localStorage.setItem('kw.lang', 'zh'));

    await step('the office calendar shows its version', async () => {
      await en.goto(BASE + '/#/admin/calendars');
      await en.waitForSelector('#calendar-version');
      assert.equal(await en.inputValue('select[name=calendar]'), '24x7'); // the first by name
      await en.selectOption('select[name=calendar]', 'office');
      await en.waitForFunction(() => document.querySelector('#calendar-editor input[name=name]')?.value === 'office');
      assert.equal(await en.textContent('#calendar-version'), 'Version 1');
    });

    const day = aheadWeekday(1);
    await step('saving a holiday first says what it reaches, and nothing is saved yet', async () => {
      const hol = await en.inputValue('textarea[name=holidays]');
      await en.fill('textarea[name=holidays]', `${hol}\n${day}`);
      await en.click('#save-calendar');
      await en.waitForSelector('#calendar-impact [role=alertdialog]');
      const text = await en.textContent('#calendar-impact');
      assert.match(text, /This edit reaches/);
      assert.match(text, /2026\.1: \d+ open tickets/);
      assert.match(text, /Working time already counted and clocks that have stopped stay/);
      await shot(en, 'calendars-impact-en');
      const versions = await en.evaluate(async () => (await (await fetch('/api/v1/calendars/office/versions')).json()).versions.length);
      assert.equal(versions, 1);
    });

    await step('confirming saves version 2 and stays on the office calendar', async () => {
      await en.click('#confirm-calendar');
      await en.waitForSelector('#toast >> text=/Saved as version 2; \\d+ open tickets recomputed/');
      await en.waitForFunction(() => document.querySelector('#calendar-version') &&
        document.querySelector('#calendar-version').textContent === 'Version 2');
      assert.equal(await en.inputValue('select[name=calendar]'), 'office');
      assert.ok((await en.inputValue('textarea[name=holidays]')).includes(day));
    });

    await step('saving it again unchanged says so and adds no version', async () => {
      await en.click('#save-calendar');
      await en.waitForSelector('#toast >> text=Nothing to save: this is version 2 as it stands.');
      assert.equal(await en.locator('#calendar-impact [role=alertdialog]').count(), 0);
    });

    await step('a new calendar starts empty', async () => {
      await en.selectOption('select[name=calendar]', '');
      await en.waitForFunction(() => !document.querySelector('#calendar-version'));
      assert.equal(await en.inputValue('input[name=name]'), '');
      assert.equal(await en.inputValue('textarea[name=holidays]'), '');
      assert.equal(await en.inputValue('textarea[name=makeup]'), '');
      for (const d of ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'])
        assert.equal(await en.inputValue(`input[name=${d}]`), '');
      assert.equal(await en.inputValue('input[name=tz]'), 'Asia/Shanghai'); // the viewer's zone
      await en.fill('input[name=name]', 'night-desk');
      await en.fill('input[name=mon]', '22:00-06:00');
      await en.click('#save-calendar');
      await en.waitForSelector('#toast >> text=/Saved as version 1/');
      await en.waitForFunction(() => document.querySelector('select[name=calendar]')?.value === 'night-desk');
    });

    await step('in Chinese at 390 px: the page fits, every string is Chinese, the dry run too', async () => {
      await zh.goto(BASE + '/#/admin/calendars');
      await zh.waitForSelector('#calendar-version');
      await zh.selectOption('select[name=calendar]', 'office');
      await zh.waitForFunction(() => document.querySelector('#calendar-version') &&
        document.querySelector('#calendar-version').textContent === '第 2 版');
      assert.deepEqual(await englishLeft(zh), []);
      assert.ok(await overflow(zh) <= 0, `overflows by ${await overflow(zh)} px`);
      await shot(zh, 'calendars-zh-390');
      await zh.fill('input[name=sat]', '09:00-12:00');
      await zh.click('#save-calendar');
      await zh.waitForSelector('#calendar-impact [role=alertdialog]');
      const text = await zh.textContent('#calendar-impact');
      assert.match(text, /此修改将影响/);
      assert.match(text, /张未关闭工单/);
      assert.deepEqual(await englishLeft(zh), []);
      assert.ok(await overflow(zh) <= 0, `overflows by ${await overflow(zh)} px`);
      await shot(zh, 'calendars-impact-zh-390');
      await zh.click('#calendar-impact button.secondary'); // 取消
      await zh.waitForFunction(() => !document.querySelector('#calendar-impact [role=alertdialog]'));
    });

    await step('in English at 390 px the page fits too', async () => {
      await zh.evaluate(() => localStorage.setItem('kw.lang', 'en'));
      await zh.goto(BASE + '/#/admin/calendars');
      await zh.reload();
      await zh.waitForSelector('#calendar-version');
      assert.ok(await overflow(zh) <= 0, `overflows by ${await overflow(zh)} px`);
      await shot(zh, 'calendars-en-390');
    });

    await step('no page or console errors', async () => {
      assert.deepEqual(en.errors, []);
      assert.deepEqual(zh.errors, []);
    });
  } finally {
    await browser.close();
  }
  console.log(`${passed()} passed`);
})().catch(() => process.exit(1));
