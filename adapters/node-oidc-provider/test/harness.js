// test/harness.js: what the end-to-end test and the sign-in benchmark share:
// a real node-oidc-provider over loopback (devInteractions, two clients,
// back-channel and RP-initiated logout), a relying party's loopback server
// that records back-channel logout tokens, and a scripted user agent (fetch
// with a cookie jar, no browser) that signs in through the provider's pages.

import http from 'node:http';
import { once } from 'node:events';

import Provider from 'oidc-provider';

export const CLIENTS = ['app1', 'app2'];
// The User-Agent of the scripted user agent's requests.
export const USER_AGENT = 'idsess-e2e-agent/1.0';

function decodeJwt(jwt) {
	return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

async function listen(server) {
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');
	return `http://127.0.0.1:${server.address().port}`;
}

// The relying parties' side: redirect targets and back-channel logout
// endpoints (/bcl/<client>), whose received logout tokens land in `logouts`.
export async function startRp() {
	const logouts = [];
	const waiters = [];
	const server = http.createServer((req, res) => {
		const url = new URL(req.url, 'http://rp');
		if (req.method === 'POST' && url.pathname.startsWith('/bcl/')) {
			let body = '';
			req.on('data', (d) => { body += d; });
			req.on('end', () => {
				const token = new URLSearchParams(body).get('logout_token');
				logouts.push({ client: url.pathname.slice(5), claims: decodeJwt(token) });
				res.writeHead(200).end();
				for (const w of waiters.splice(0)) w();
			});
			return;
		}
		res.writeHead(200, { 'content-type': 'text/plain' }).end('rp');
	});
	const base = await listen(server);
	// waitFor(n, ms): until at least n logout tokens arrived, or ms passed.
	async function waitFor(n, ms = 5000) {
		const end = Date.now() + ms;
		while (logouts.length < n && Date.now() < end) {
			await new Promise((r) => { waiters.push(r); setTimeout(r, 100); });
		}
		return logouts.length >= n;
	}
	return { base, logouts, waitFor, close: () => server.close() };
}

// startOp(adapter, rp, { sessionTtl }): the identity server.  sessionTtl(
// accountId) gives the Session lifetime in seconds.
export async function startOp(adapter, rp, { sessionTtl = () => 3600 } = {}) {
	const server = http.createServer();
	const issuer = await listen(server);
	const provider = new Provider(issuer, {
		adapter,
		clients: CLIENTS.map((id) => ({
			client_id: id,
			client_secret: `${id}-secret`,
			redirect_uris: [`${rp.base}/cb/${id}`],
			post_logout_redirect_uris: [`${rp.base}/bye/${id}`],
			backchannel_logout_uri: `${rp.base}/bcl/${id}`,
			backchannel_logout_session_required: true,
			grant_types: ['authorization_code'],
			response_types: ['code'],
		})),
		features: {
			devInteractions: { enabled: true },
			backchannelLogout: { enabled: true },
			rpInitiatedLogout: { enabled: true },
		},
		pkce: { required: () => false },
		cookies: { keys: ['idsess-e2e-cookie-key'] },
		ttl: {
			Session: (ctx, session) => sessionTtl(session.accountId),
			Interaction: 600,
			Grant: 3600,
			AccessToken: 600,
			IdToken: 600,
		},
		findAccount: (ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
		// The provider refuses outgoing requests to special-use addresses
		// (against SSRF), loopback included; the relying parties here listen
		// on loopback, so requests to them, and only them, go out unchecked.
		fetch: (url, options) => {
			if (String(url).startsWith(`${rp.base}/`)) {
				delete options.dispatcher;
			}
			return fetch(url, options);
		},
	});
	// devInteractions and the default logout page say they are for development
	// only, on every request; this is development.
	provider.on('server_error', (ctx, err) => { console.error('provider server_error:', err); });
	server.on('request', provider.callback());
	return { issuer, provider, close: () => server.close() };
}

// A user agent: cookies by name (the provider scopes some by path; one flow
// at a time per agent makes that irrelevant), redirects followed by hand.
export class Agent {
	constructor() {
		this.jar = new Map();
	}

	async request(url, { method = 'GET', form } = {}) {
		const headers = { 'user-agent': USER_AGENT };
		if (this.jar.size) {
			headers.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
		}
		let body;
		if (form) {
			body = new URLSearchParams(form).toString();
			headers['content-type'] = 'application/x-www-form-urlencoded';
		}
		const res = await fetch(url, { method, headers, body, redirect: 'manual' });
		for (const sc of res.headers.getSetCookie()) {
			const [pair, ...attrs] = sc.split(';');
			const eq = pair.indexOf('=');
			const name = pair.slice(0, eq).trim();
			const value = pair.slice(eq + 1).trim();
			const expired = attrs.some((a) => /^\s*expires=/i.test(a)
				&& new Date(a.split('=')[1]) < new Date());
			if (!value || expired) this.jar.delete(name); else this.jar.set(name, value);
		}
		return res;
	}

	hasSessionCookie() {
		return this.jar.has('_session');
	}
}

// authorize(agent, op, rp, clientId, { user, prompt, interact }): runs an
// authorization request to the end.  Returns { code, error, prompts } where
// prompts lists the interactions met ('login', 'consent').  With interact
// false, stops at the first interaction page instead of completing it.
export async function authorize(agent, op, rp, clientId, { user = 'alice', prompt, interact = true } = {}) {
	const q = new URLSearchParams({
		client_id: clientId,
		response_type: 'code',
		scope: 'openid',
		redirect_uri: `${rp.base}/cb/${clientId}`,
		state: 'st',
		nonce: 'n',
		...(prompt ? { prompt } : {}),
	});
	let url = `${op.issuer}/auth?${q}`;
	let form;
	const prompts = [];
	for (let step = 0; step < 12; step += 1) {
		const res = await agent.request(url, form ? { method: 'POST', form } : {});
		form = undefined;
		if (res.status >= 300 && res.status < 400) {
			await res.arrayBuffer();
			url = new URL(res.headers.get('location'), url).href;
			if (url.startsWith(rp.base)) {
				const p = new URL(url).searchParams;
				return { code: p.get('code'), error: p.get('error'), prompts };
			}
			continue;
		}
		const html = await res.text();
		if (res.status !== 200 || !url.includes('/interaction/')) {
			throw new Error(`authorize: HTTP ${res.status} at ${url}: ${html.slice(0, 300)}`);
		}
		const p = html.includes('name="prompt" value="login"') ? 'login' : 'consent';
		prompts.push(p);
		if (!interact) {
			return { code: null, error: null, prompts };
		}
		form = p === 'login' ? { prompt: 'login', login: user, password: 'any' } : { prompt: 'consent' };
	}
	throw new Error('authorize: too many steps');
}

// exchange(op, rp, clientId, code): the token endpoint.  Returns the
// id_token's claims, or { error } when the code is refused.
export async function exchange(op, rp, clientId, code) {
	const res = await fetch(`${op.issuer}/token`, {
		method: 'POST',
		headers: {
			'content-type': 'application/x-www-form-urlencoded',
			authorization: `Basic ${Buffer.from(`${clientId}:${clientId}-secret`).toString('base64')}`,
		},
		body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: `${rp.base}/cb/${clientId}` }),
	});
	const body = await res.json();
	if (!res.ok) return { error: body.error, status: res.status };
	return { idToken: body.id_token, claims: decodeJwt(body.id_token) };
}

// logout(agent, op, rp, idToken, clientId): RP-initiated logout, confirmed
// on the provider's page.  Returns the final redirect.
export async function logout(agent, op, rp, idToken, clientId) {
	const q = new URLSearchParams({
		id_token_hint: idToken,
		post_logout_redirect_uri: `${rp.base}/bye/${clientId}`,
	});
	const page = await agent.request(`${op.issuer}/session/end?${q}`);
	const html = await page.text();
	const xsrf = /name="xsrf" value="([^"]+)"/.exec(html);
	if (page.status !== 200 || !xsrf) throw new Error(`logout: HTTP ${page.status}: ${html.slice(0, 300)}`);
	const res = await agent.request(`${op.issuer}/session/end/confirm`, {
		method: 'POST', form: { xsrf: xsrf[1], logout: 'yes' },
	});
	await res.arrayBuffer();
	return res.headers.get('location');
}
