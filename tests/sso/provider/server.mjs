// The OpenID Connect provider the SSO tests sign in through: the `oidc-provider` package (a certified
// implementation) on 127.0.0.1, started once per test session by tests/sso/provider.py.
//
// Environment: PORT, OIDC_TEST_CLIENTS (JSON list of client metadata), OIDC_TEST_STATE (a folder the tests write):
//   accounts.json  {login: {claims…}}: read at every request, so a test changes someone's groups between sign-ins;
//   tamper.json    {"id_token": "expired" | "wrong_key" | "wrong_audience"}: the token endpoint then answers with
//                  an ID token altered that way (signed with the provider's own key except for wrong_key), which
//                  is how a test sees mlaudit refuse it.
// The login page accepts any password for an account in accounts.json; consent is implied (first-party client).
import fs from 'node:fs';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import * as jose from 'jose';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const stateDir = process.env.OIDC_TEST_STATE;
const clients = JSON.parse(process.env.OIDC_TEST_CLIENTS);

function readJson(name, fallback) {
  try {
    return JSON.parse(fs.readFileSync(`${stateDir}/${name}`, 'utf8'));
  } catch {
    return fallback;
  }
}

const kid = randomUUID();
const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await jose.exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
const { privateKey: strangerKey } = await jose.generateKeyPair('RS256');

const page = (title, body) => `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${title}</title></head>`
  + `<body><h1>${title}</h1>${body}</body></html>`;

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [signingJwk] },
  cookies: { keys: ['mlaudit-test-provider-cookie-key'] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
    groups: ['groups'],
  },
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        ctx.body = page('Sign out of the test provider',
          `${form}<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>`);
      },
      async postLogoutSuccessSource(ctx) {
        ctx.body = page('Signed out of the test provider', '');
      },
    },
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(_ctx, id) {
    const account = readJson('accounts.json', {})[id];
    if (!account) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...account }; } };
  },
  async loadExistingGrant(ctx) {
    // A first-party client: every requested scope is granted without a consent page.
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope(ctx.oidc.params.scope || 'openid');
    await grant.save();
    return grant;
  },
});

async function tamper(idToken, mode) {
  const claims = jose.decodeJwt(idToken);
  const now = Math.floor(Date.now() / 1000);
  if (mode === 'expired') Object.assign(claims, { iat: now - 7200, exp: now - 3600 });
  if (mode === 'wrong_audience') claims.aud = 'another-client';
  const key = mode === 'wrong_key' ? strangerKey : privateKey;
  return new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(key);
}

provider.use(async (ctx, next) => {
  await next();
  if (ctx.oidc?.route === 'token' && ctx.body?.id_token) {
    const mode = readJson('tamper.json', {}).id_token;
    if (mode) ctx.body = { ...ctx.body, id_token: await tamper(ctx.body.id_token, mode) };
  }
});

const providerCallback = provider.callback();

async function interaction(req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  if (req.method === 'POST') {
    const body = new URLSearchParams(await new Promise((resolve) => {
      let data = '';
      req.on('data', (chunk) => { data += chunk; });
      req.on('end', () => resolve(data));
    }));
    const login = body.get('login');
    if (!readJson('accounts.json', {})[login]) {
      res.writeHead(400, { 'content-type': 'text/html' });
      res.end(page('Unknown account', ''));
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
    return;
  }
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(page('Sign in to the test provider',
    `<form method="post" action="/interaction/${uid}">`
    + '<label>Login <input name="login" id="login" required></label>'
    + '<label>Password <input name="password" id="password" type="password" required></label>'
    + '<button type="submit">Sign in</button></form>'));
}

http.createServer((req, res) => {
  const match = req.url.match(/^\/interaction\/([\w-]+)$/);
  if (match) {
    interaction(req, res, match[1]).catch((error) => {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
    return;
  }
  providerCallback(req, res);
}).listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
