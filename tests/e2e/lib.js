// SPDX-License-Identifier: MIT
// What the browser tests share: numbered steps that print TAP-like lines
// and stop the test at the first failure, and a signed-in page per person.
'use strict';

let count = 0;

// Run one named check; print "ok - NAME" or "not ok - NAME" with the
// first lines of the error, which is thrown again (the test stops there).
async function step(name, fn) {
  try {
    await fn();
    count++;
    console.log(`ok - ${name}`);
  } catch (e) {
    console.log(`not ok - ${name}\n  ${String(e.stack || e).split('\n').slice(0, 6).join('\n  ')}`);
    throw e;
  }
}

// How many steps passed so far.
const passed = () => count;

// A page signed in as email (password keepword-demo, the demo's) in its
// own browser context, at viewport and locale, in the Asia/Shanghai zone,
// with the UI language lang; page.errors collects page errors and console
// errors.
async function session(browser, base, email, viewport, locale, lang) {
  const ctx = await browser.newContext({ viewport, locale, timezoneId: 'Asia/Shanghai' });
  const page = await ctx.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push('console: ' + m.text()); });
  await page.goto(base + '/#/login');
  await page.evaluate((l) => localStorage.setItem('kw.lang', l), lang);
  await page.goto(base + '/#/login');
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', 'keepword-demo');
  await page.click('form button[type=submit]');
  await page.waitForSelector('#logout');
  if ((await page.evaluate(() => lang)) !== lang) {
    await page.click('#lang');
    await page.waitForFunction((l) => lang === l, lang);
  }
  return page;
}

module.exports = { step, passed, session };
