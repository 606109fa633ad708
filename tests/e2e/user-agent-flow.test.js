// docs/behaviour.md §5.5 user-agent flow (response_type=token): only with --allow-implicit; tokens in
// the fragment, never in a query or a log.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld } from './lib/server.js';
import { Browser, describeResult } from './lib/driver.js';
import { getCode, userinfo, authorizeUrl, show } from './lib/oauth.js';

describe('user-agent flow (docs/behaviour.md §5.5)', { concurrency: true, timeout: 60000 }, () => {
  let world;

  before(async () => {
    world = await startWorld({
      apps: {
        noimplicit: { scopes: 'api refresh_token' },
        implicit: { scopes: 'api refresh_token openid', allowImplicit: true },
      },
    });
  });
  after(async () => { await world?.stop(); });

  it('an app without --allow-implicit refuses response_type=token (unsupported_response_type), no token anywhere', async () => {
    const got = await getCode(world, { app: world.apps.noimplicit, responseType: 'token', pkce: false, expectCode: false });
    assert.ok(got.result.location, `expected an error redirect: ${describeResult(got.result)}`);
    assert.equal(got.result.params.get('error'), 'unsupported_response_type', got.result.location);
    assert.equal(got.result.params.get('state'), got.state);
    assert.ok(!/access_token=/.test(got.result.location), `token leaked: ${got.result.location}`);
  });

  it('an --allow-implicit app gets the tokens in the fragment, never in the query, and never in a log', async () => {
    const app = world.apps.implicit;
    const got = await getCode(world, { app, responseType: 'token', pkce: false, expectCode: false });
    const r = got.result;
    assert.ok(r.location, describeResult(r));
    assert.equal(r.query.get('access_token'), null, `access_token in the query: ${r.location}`);
    assert.ok(!r.url.search.includes('access_token'), `access_token in the query: ${r.location}`);
    const f = r.fragment;
    const at = f.get('access_token');
    assert.ok(at, `no access_token in the fragment: ${r.location}`);
    assert.equal(f.get('state'), got.state);
    assert.equal(f.get('token_type'), 'Bearer');
    assert.equal(f.get('instance_url'), world.issuer);
    const id = `${world.issuer}/id/${world.users.alice.org_id}/${world.users.alice.user_id}`;
    assert.equal(f.get('id'), id);
    assert.match(f.get('issued_at') ?? '', /^\d{13}$/);
    // The server keeps only a SHA-256 of the client secret (docs/behaviour.md §2), so it can key the
    // Salesforce `signature` HMAC only when a request presents the secret; the user-agent flow
    // never does, so no signature may appear (and never a wrong one).
    assert.equal(f.get('signature'), null, `unexpected signature in the fragment: ${r.location}`);
    assert.equal(f.get('code'), null, 'no code for response_type=token');
    const ui = await userinfo(world, at);
    assert.equal(ui.status, 200, show(ui));
    assert.equal(ui.json.user_id, world.users.alice.user_id);
    const logs = world.logs();
    assert.ok(!logs.includes(at), 'the access token appears in the server log');
    const rt = f.get('refresh_token');
    if (rt) assert.ok(!logs.includes(rt), 'the refresh token appears in the server log');
  });

  it('an --allow-implicit app still gets the error page for an unregistered redirect_uri', async () => {
    const b = new Browser(world.issuer);
    const page = await b.get(authorizeUrl(world.issuer, {
      response_type: 'token', client_id: world.apps.implicit.client_id, redirect_uri: 'http://127.0.0.1:9/evil', state: 's',
    }));
    assert.equal(page.status, 400, `${page.status} ${page.body.slice(0, 300)}`);
    assert.equal(page.location, null);
    assert.match(page.body, /redirect_uri_mismatch/);
  });
});
