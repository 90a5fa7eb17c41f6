// Browser tests of the web admin: Debian's chromium driven by playwright-core
// against lighttpd on loopback (started by test_webadmin_browser.py, which
// passes everything in the environment and checks the store afterwards).
// Goes through every page and form as an administrator, a domain
// administrator and a user; tries CSRF from another origin, stored and
// reflected XSS in every field, session fixation, framing, and privilege
// escalation; saves a screenshot of every page in OUT. Exits non-zero on
// the first failed check, naming it.
'use strict';
const path = require('path');
const { chromium } = require(process.env.PLAYWRIGHT_CORE);

const BASE = process.env.BASE;	// http://127.0.0.1:PORT
const OUT = process.env.OUT;
const ADMIN = JSON.parse(process.env.ADMIN);
const DOMADMIN = JSON.parse(process.env.DOMADMIN);
const USER = JSON.parse(process.env.USER_ACCOUNT);
const XSS = ['<script>alert(1)</script>', '"><img src=x onerror=alert(2)>',
	"'><svg onload=alert(3)>", 'javascript:alert(4)'];
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
	// Any dialog means injected script ran.
	page.on('dialog', async d => {
		results.xss = `dialog "${d.message()}" on ${page.url()}`;
		await d.dismiss();
	});
	page.on('pageerror', e => { results.pageerror = String(e); });
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

// RFC 6238 TOTP (HMAC-SHA-1, 6 digits) for a base32 secret.
function totpCode(b32, step) {
	const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
	let bits = '';
	for (const ch of b32)
		bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
	const key = Buffer.from(bits.match(/.{8}/g).map(b => parseInt(b, 2)));
	const msg = Buffer.alloc(8);
	msg.writeBigUInt64BE(BigInt(step));
	const mac = require('crypto').createHmac('sha1', key).update(msg).digest();
	const off = mac[19] & 15;
	return String((mac.readUInt32BE(off) & 0x7fffffff) % 1000000).padStart(6, '0');
}

async function notice(page) {
	return (await page.locator('.notice, .error').allTextContents()).join(' ');
}

async function admin(browser) {
	const { context, page } = await newPage(browser);
	// Session fixation: a cookie planted before login is not the session after.
	await context.addCookies([{ name: 'cairn_sid', value: 'a'.repeat(32), url: BASE }]);
	await page.goto(BASE + '/login');
	await shot(page, 'login');
	// Keyboard: the first Tab reaches the skip link.
	await page.keyboard.press('Tab');
	check(await page.evaluate(() => document.activeElement.className) === 'skip', 'skip link first');
	await login(page, ADMIN);
	const sid = (await context.cookies()).find(c => c.name === 'cairn_sid');
	check(sid && sid.value !== 'a'.repeat(32) && sid.httpOnly && sid.sameSite === 'Strict',
	      'new HttpOnly SameSite=Strict session id at login');
	await shot(page, 'admin-dashboard');
	check(await page.locator('svg.chart').count() === 1, 'dashboard chart');

	await page.getByRole('link', { name: 'Domains' }).click();
	await page.getByLabel('New domain').fill('browser.test');
	await page.getByRole('button', { name: 'Add domain' }).click();
	check((await notice(page)).includes('browser.test added'), 'domain added');
	await shot(page, 'admin-domains');

	await page.getByRole('link', { name: 'Users', exact: true }).click();
	await page.locator('summary').click();
	await page.getByLabel('Address', { exact: true }).fill('web@browser.test');
	await page.getByLabel('Display name').fill(XSS[0]);
	await page.getByLabel('Password (8 characters or more)').fill('web-password-1');
	await page.getByLabel('Quota (e.g. 2G; empty for none)').fill('50M');
	await page.getByRole('button', { name: 'Create user' }).click();
	check((await notice(page)).includes('web@browser.test created'), 'user created');
	for (const [i, x] of XSS.entries()) {
		await page.locator('summary').click();
		await page.getByLabel('Address', { exact: true }).fill(`x${i}@browser.test`);
		await page.getByLabel('Display name').fill(x);
		await page.getByLabel('Password (8 characters or more)').fill('x-password-1');
		await page.getByRole('button', { name: 'Create user' }).click();
	}
	await page.getByRole('searchbox').fill('browser.test');
	await page.getByRole('button', { name: 'Search' }).click();
	check((await page.content()).includes('&lt;script&gt;alert(1)&lt;/script&gt;'), 'name escaped');
	await shot(page, 'admin-users');
	// Reflected: the search box.
	await page.goto(BASE + '/users?q=' + encodeURIComponent(XSS[1]));
	check(await page.getByRole('searchbox').inputValue() === XSS[1], 'search echoed as text');
	await shot(page, 'admin-users-xss-search');

	await page.goto(BASE + '/user?a=web%40browser.test');
	await page.getByLabel('Quota (e.g. 500M, 2G; empty for none)').fill('1G');
	await page.getByRole('button', { name: 'Set quota' }).click();
	check((await page.locator('#user-quota').textContent()).includes('1.0 GiB'), 'quota set');
	await page.getByRole('button', { name: 'Disable' }).click();
	check((await page.locator('#user-state').textContent()) === 'disabled', 'user disabled');
	await page.getByRole('button', { name: 'Enable' }).click();
	await page.getByLabel('New password').fill('reset-password-1');
	await page.getByRole('button', { name: 'Reset password' }).click();
	check((await notice(page)).includes('Password reset'), 'password reset');
	await page.getByLabel('Domain', { exact: true }).fill('browser.test');
	await page.getByRole('button', { name: 'Make domain administrator' }).click();
	await shot(page, 'admin-user');

	await page.getByRole('link', { name: 'Aliases' }).click();
	await page.getByLabel('Alias (or @domain for a catch-all)').fill('info@browser.test');
	await page.getByLabel('Goes to').fill('web@browser.test');
	await page.getByRole('button', { name: 'Add alias' }).click();
	check((await notice(page)).includes('info@browser.test now goes to web@browser.test'), 'alias');
	await shot(page, 'admin-aliases');

	await page.getByRole('link', { name: 'Groups' }).click();
	await page.getByLabel('Group address').fill('team@browser.test');
	await page.getByLabel('Name', { exact: true }).fill(XSS[2]);
	await page.getByRole('button', { name: 'Create group' }).click();
	await shot(page, 'admin-groups');
	await page.getByRole('link', { name: 'team@browser.test' }).click();
	await page.getByLabel('New member').fill('web@browser.test');
	await page.getByRole('button', { name: 'Add member' }).click();
	check((await page.locator('td').first().textContent()) === 'web@browser.test', 'member added');
	await shot(page, 'admin-group');

	await page.getByRole('link', { name: 'Shared folders' }).click();
	await page.getByLabel('New public folder: Shared/').fill('Sales');
	await page.getByRole('button', { name: 'Create' }).click();
	await page.getByLabel('Folder (Shared/NAME or Other Users/ADDRESS/NAME)').fill('Shared/Sales');
	await page.getByLabel(/^Who/).fill('web@browser.test');
	await page.getByLabel(/^Rights/).fill('lrswi');
	await page.getByRole('button', { name: 'Set rights' }).click();
	check((await notice(page)).includes('Rights of web@browser.test on Shared/Sales changed'), 'acl');
	await shot(page, 'admin-folders');

	await page.getByRole('link', { name: 'DKIM' }).click();
	await page.getByLabel('Domain', { exact: true }).fill('browser.test');
	await page.getByLabel(/^Selector/).fill('web1');
	await page.getByLabel('Algorithm', { exact: true }).selectOption('ed25519');
	await page.getByRole('button', { name: 'Generate key' }).click();
	check((await page.locator('pre.record').first().textContent()).startsWith('web1._domainkey.browser.test. IN TXT'),
	      'dkim record');
	await shot(page, 'admin-dkim');

	await page.getByRole('link', { name: 'Queue' }).click();
	await shot(page, 'admin-queue');
	await page.locator('tbody a').first().click();
	check((await page.locator('pre.headers').textContent()).includes('Subject: <b>queued</b>'),
	      'queued header shown as text');
	await shot(page, 'admin-queue-message');
	await page.getByRole('button', { name: 'Retry now' }).click();
	check((await notice(page)).includes('due now'), 'queue retry');

	await page.getByRole('link', { name: 'Audit log' }).click();
	await page.getByRole('searchbox').fill('user-add');
	await page.getByRole('button', { name: 'Search' }).click();
	check((await page.locator('tbody tr').count()) >= 1, 'audit search');
	await shot(page, 'admin-audit');
	await page.getByRole('link', { name: 'My account' }).click();
	await shot(page, 'admin-self');
	const csrf = await page.locator('input[name=csrf]').first().inputValue();

	// Clickjacking: the admin refuses to be framed.
	const { page: evil } = await newPage(browser);
	const resp = await evil.goto(BASE + '/login');
	check(resp.headers()['x-frame-options'] === 'DENY', 'X-Frame-Options');
	check(resp.headers()['content-security-policy'].includes("frame-ancestors 'none'"), 'frame-ancestors');
	// setContent waits for the load event, which waits for the frame too.
	await evil.setContent(`<iframe src="${BASE}/login" width=600 height=400></iframe>`,
			      { waitUntil: 'load' });
	const frame = evil.frames().find(f => f !== evil.mainFrame());
	let framed = false;
	try { framed = (await frame.content()).includes('Log in'); } catch (e) { framed = false; }
	check(!framed, 'the admin does not render inside a frame');

	// CSRF from another origin (an opaque one), even with a stolen token:
	// refused (Origin check; the SameSite=Strict cookie is not sent either).
	await page.goto('about:blank');
	await page.setContent(`<form id=f method=post action="${BASE}/domains">
		<input name=csrf value="${csrf}"><input name=action value=add>
		<input name=name value="csrf.test"></form>`);
	await Promise.all([page.waitForNavigation(), page.evaluate(() => document.getElementById('f').submit())]);
	check(!(await page.content()).includes('csrf.test added'), 'cross-origin POST refused');
	await page.goto(BASE + '/');
	await page.getByRole('button', { name: 'Log out' }).click();
	check(page.url().endsWith('/login'), 'logged out');
	await page.goto(BASE + '/users');
	check(page.url().endsWith('/login'), 'session gone after logout');
	await context.close();
}

async function domainAdmin(browser) {
	const { context, page } = await newPage(browser);
	await login(page, DOMADMIN);
	check(page.url().endsWith('/users'), 'domain admin lands on users');
	const text = await page.locator('tbody').textContent();
	check(text.includes(USER[0]) && !text.includes(ADMIN[0]), 'domain admin sees his domain only');
	check(await page.getByRole('link', { name: 'Queue' }).count() === 0, 'no queue in his menu');
	await shot(page, 'domainadmin-users');
	await page.locator('summary').click();
	await page.getByLabel('Address', { exact: true }).fill('hire@corp.test');
	await page.getByLabel('Password (8 characters or more)').fill('hire-password-1');
	await page.getByRole('button', { name: 'Create user' }).click();
	check((await notice(page)).includes('hire@corp.test created'), 'domain admin creates in his domain');
	await page.locator('summary').click();
	await page.getByLabel('Address', { exact: true }).fill('sneak@example.test');
	await page.getByLabel('Password (8 characters or more)').fill('sneak-password-1');
	await page.getByRole('button', { name: 'Create user' }).click();
	check((await page.content()).includes('not yours to manage'), 'refused outside his domains');
	for (const p of ['/queue', '/dkim', '/audit', '/folders', '/user?a=' + encodeURIComponent(ADMIN[0])]) {
		const r = await page.goto(BASE + p);
		check(r.status() === 403, 'domain admin refused ' + p);
	}
	await page.goto(BASE + '/aliases');
	await shot(page, 'domainadmin-aliases');
	await page.goto(BASE + '/groups');
	await shot(page, 'domainadmin-groups');
	await page.goto(BASE + '/domains');
	await shot(page, 'domainadmin-domains');
	await context.close();
}

async function user(browser) {
	const { context, page } = await newPage(browser);
	await login(page, USER);
	check(page.url().endsWith('/self'), 'user lands on self-service');
	await shot(page, 'user-self');
	await page.getByLabel('Current password').fill(USER[1]);
	await page.getByLabel('New password (8 characters or more)').fill('changed-password-1');
	await page.getByLabel('New password again').fill('changed-password-1');
	await page.getByRole('button', { name: 'Change password' }).click();
	check((await notice(page)).includes('Password changed'), 'password changed');
	await page.getByLabel('Name (e.g. phone)').fill(XSS[1]);
	await page.getByRole('button', { name: 'Create app password' }).click();
	results.app_password = await page.locator('#new-app-password').textContent();
	check(/^[a-z0-9]{5}(-[a-z0-9]{5}){3}$/.test(results.app_password), 'app password shown');
	await shot(page, 'user-app-password');
	await page.reload();
	check(!(await page.content()).includes(results.app_password), 'app password shown once');
	await page.getByLabel('Name (e.g. phone)').fill('laptop');
	await page.getByRole('button', { name: 'Create app password' }).click();
	await page.getByRole('button', { name: 'Revoke laptop' }).click();
	check((await notice(page)).includes('revoked'), 'app password revoked');
	// Two-factor login: set up from the QR page, turned on with a code.
	await page.getByRole('button', { name: 'Set up two-factor login' }).click();
	check(await page.locator('svg.qr').count() === 1, 'QR code shown');
	const secret = await page.locator('#totp-secret').textContent();
	await shot(page, 'user-totp-setup');
	await page.getByLabel('Code from the app').fill(totpCode(secret, Math.floor(Date.now() / 30000)));
	await page.getByRole('button', { name: 'Turn on' }).click();
	check((await page.locator('#totp-state').textContent()).startsWith('On'), 'two-factor on');
	results.totp_secret = secret;
	for (const p of ['/users', '/domains', '/queue', '/audit', '/dkim', '/folders']) {
		const r = await page.goto(BASE + p);
		check(r.status() === 403, 'user refused ' + p);
		await shot(page, 'user-refused' + p.replace('/', '-'));
	}
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
		await domainAdmin(browser);
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
