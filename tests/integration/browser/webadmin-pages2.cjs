// Browser tests of the web admin's quarantine, scan policy and mail rules
// pages (started by test_webadmin_pages2.py with a real cairnd behind, which
// checks the effects over IMAP and SMTP afterwards). An administrator looks
// at a quarantined message and releases it, and sets a scan override; a user
// sets out of office, a filter rule and an app password, and tries the raw
// Sieve editor with a broken script. Screenshots of every page go to OUT.
'use strict';
const path = require('path');
const { chromium } = require(process.env.PLAYWRIGHT_CORE);

const BASE = process.env.BASE;
const OUT = process.env.OUT;
const ADMIN = JSON.parse(process.env.ADMIN);
const USER = JSON.parse(process.env.USER_ACCOUNT);
const QID = process.env.QID;	// the quarantined message the admin releases
const UQID = process.env.UQID;	// one the user sees in his own list
const results = { shots: [], checks: 0 };

function check(cond, what) {
	results.checks++;
	if (!cond)
		throw new Error('check failed: ' + what);
}

async function newPage(browser) {
	const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
	const page = await context.newPage();
	page.setDefaultTimeout(10000);
	page.on('dialog', async d => {
		results.xss = `dialog "${d.message()}" on ${page.url()}`;
		await d.dismiss();
	});
	page.on('pageerror', e => { results.pageerror = String(e); });
	// Nothing a quarantined message links to or embeds may be fetched.
	page.on('request', req => {
		if (!req.url().startsWith(BASE))
			results.external = req.url();
	});
	return { context, page };
}

async function shot(page, name) {
	const file = path.join(OUT, name + '.png');
	await page.screenshot({ path: file, fullPage: true });
	results.shots.push(file);
	check(!results.xss, 'no script ran: ' + results.xss);
}

async function login(page, who) {
	await page.goto(BASE + '/login');
	await page.getByLabel('Address').fill(who[0]);
	await page.getByLabel('Password').fill(who[1]);
	await page.getByRole('button', { name: 'Log in' }).click();
	await page.waitForLoadState();
	check(await page.getByRole('button', { name: 'Log out' }).isVisible(), 'logged in as ' + who[0]);
}

async function notice(page) {
	return (await page.locator('.notice, .error').allTextContents()).join(' ');
}

async function admin(browser) {
	const { context, page } = await newPage(browser);
	await login(page, ADMIN);
	await page.getByRole('link', { name: 'Quarantine' }).click();
	check(await page.getByRole('heading', { name: 'Quarantine' }).isVisible(), 'quarantine page');
	check((await page.content()).includes('Cheap watches'), 'held message listed');
	await shot(page, 'admin-quarantine');
	await page.getByLabel('Search').fill('cheap');
	await page.getByRole('button', { name: 'Search' }).click();
	await page.waitForLoadState();
	await shot(page, 'admin-quarantine-search');
	await page.getByRole('link', { name: /\d{4}-\d\d-\d\d/ }).first().click();
	await page.waitForLoadState();
	check(page.url().includes('/quarantine/message?id='), 'message page');
	const text = await page.locator('#body-text').textContent();
	check(text.includes('Real bargains'), 'text of the HTML part shown: ' + text);
	check(!(await page.locator('main img').count()), 'no image of the message rendered');
	await shot(page, 'admin-quarantine-message');
	await page.goto(BASE + '/quarantine/message?id=' + QID);
	await page.getByRole('button', { name: 'Release into the INBOX' }).click();
	await page.waitForLoadState();
	check((await notice(page)).includes('released into the INBOX of ' + USER[0]),
	      'released: ' + await notice(page));
	await shot(page, 'admin-quarantine-released');

	await page.getByRole('link', { name: 'Scan policy' }).click();
	await page.getByLabel('Domain or address').fill('corp.test');
	await page.getByLabel('Junk threshold').fill('3.5');
	await page.getByLabel('Virus action').selectOption('quarantine');
	await page.getByRole('button', { name: 'Save overrides' }).click();
	await page.waitForLoadState();
	check((await notice(page)).includes('Scan policy of corp.test saved'), 'override saved');
	check(await page.getByRole('heading', { name: 'In effect from cairn.conf' }).isVisible(),
	      'effective settings shown');
	await shot(page, 'admin-scan-policy');
	await context.close();
}

async function user(browser) {
	const { context, page } = await newPage(browser);
	await login(page, USER);
	await page.getByRole('link', { name: 'Quarantine' }).click();
	check((await page.content()).includes('Your messages the scan stage held back'), 'own list');
	check(await page.getByRole('button', { name: 'Release message ' + UQID }).isVisible(),
	      'own held message listed');
	await shot(page, 'user-quarantine');

	await page.getByRole('link', { name: 'Mail rules' }).click();
	await page.locator('#vac-on').check();
	await page.getByLabel('Subject').fill('Out until Monday');
	await page.getByLabel('Message', { exact: true }).fill('I am away; I will answer on Monday.');
	await page.getByLabel('Until (YYYY-MM-DD, empty: until turned off)').fill('2099-12-31');
	await page.getByRole('button', { name: 'Save out of office' }).click();
	await page.waitForLoadState();
	check((await notice(page)).includes('Saved'), 'vacation saved: ' + await notice(page));

	await page.getByLabel('If', { exact: true }).selectOption('subject');
	await page.getByLabel('Test').selectOption('contains');
	await page.getByLabel('Value (text, or a size like 5M)').fill('[list]');
	await page.getByLabel('Then').selectOption('fileinto');
	await page.getByLabel('Folder (for "move to folder")').fill('Lists');
	await page.locator('#rule-stop').check();
	await page.getByRole('button', { name: 'Add rule' }).click();
	await page.waitForLoadState();
	check((await notice(page)).includes('Saved'), 'rule saved: ' + await notice(page));
	check((await page.content()).includes('[list]'), 'rule listed');
	await shot(page, 'user-mail-rules');

	await page.getByRole('link', { name: 'edit their scripts directly' }).click();
	await page.getByLabel('Name').fill('broken');
	await page.getByLabel('Script').fill('require "fileinto";\nfileinto "A"\n');
	await page.getByRole('button', { name: 'Check and save' }).click();
	await page.waitForLoadState();
	const errors = await page.locator('#compile-errors').textContent();
	check(/line \d+ column \d+/.test(errors), 'errors with line and column: ' + errors);
	await shot(page, 'user-sieve-editor-error');
	await page.goto(BASE + '/sieve/edit?name=webadmin');
	check((await page.locator('#script-content').inputValue()).includes('vacation :days'),
	      'generated script in the editor');
	await shot(page, 'user-sieve-editor');

	await page.getByRole('link', { name: 'My account' }).click();
	await page.getByLabel('Name (e.g. phone)').fill('imap-test');
	await page.getByRole('button', { name: 'Create app password' }).click();
	await page.waitForLoadState();
	results.app_password = await page.locator('#new-app-password').textContent();
	check(/^[a-z0-9]{5}(-[a-z0-9]{5}){3}$/.test(results.app_password), 'app password shown');
	await context.close();
}

(async () => {
	const browser = await chromium.launch({
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
	});
	let code = 0;
	try {
		await admin(browser);
		await user(browser);
	} catch (e) {
		results.error = String(e.stack || e);
		code = 1;
	} finally {
		await browser.close();
		require('fs').writeFileSync(path.join(OUT, 'results.json'), JSON.stringify(results, null, 1));
	}
	process.exit(code);
})();
