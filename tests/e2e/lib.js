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

// A full-page screenshot NAME.png in the SHOTS directory.
const shot = (page, name) => page.screenshot({ path: `${process.env.SHOTS}/${name}.png`, fullPage: true });

// How many pixels the page is wider than the viewport (0 when nothing
// overflows sideways).
const overflow = (page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

// The English UI strings (the STRINGS.en values that differ in zh) left on
// screen in visible text, placeholders and aria-labels: [] when the page
// is wholly in Chinese.
async function englishLeft(page) {
  return page.evaluate(() => {
    const en = new Set(Object.entries(STRINGS.en).filter(([k, v]) => STRINGS.zh[k] !== v && !/[{}]/.test(v))
      .map(([, v]) => v));
    const left = [];
    const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      const s = n.textContent.trim();
      const el = n.parentElement;
      if (s && en.has(s) && el && el.offsetParent !== null && el.tagName !== 'OPTION') left.push(s);
    }
    for (const el of document.querySelectorAll('[placeholder], [aria-label]'))
      for (const a of ['placeholder', 'aria-label'])
        if (el.getAttribute(a) && en.has(el.getAttribute(a))) left.push(`${a}=${el.getAttribute(a)}`);
    return left;
  });
}

module.exports = { step, passed, session, shot, overflow, englishLeft };
