// The benchmark's peer: node-oidc-provider (version pinned by bench/package-lock.json) on
// 127.0.0.1:PORT, configured for the same flows as latchkey's side of `make bench`.
//
//   PORT=9101 node bench/peer/oidc-provider.mjs
//
// Clients (secrets are benchmark-only constants):
//   cc   / cc-secret   client_credentials, client_secret_basic
//   web  / web-secret  authorization_code + refresh_token, client_secret_basic,
//                      redirect_uri http://127.0.0.1:9/cb; also introspects its own tokens
// Account: any login is accepted by the built-in development interactions (login form with
// `login` and `password`, then a consent form); findAccount returns the same claims for
// every id. The consent given once by an account to a client is remembered across sessions
// (loadExistingGrant below), as latchkey remembers approvals, so a repeated web server flow
// is authorize -> login -> code -> token on both servers.
//
// Storage: an unbounded in-memory Map adapter. The library's default memory adapter is an LRU
// of 1000 entries, which would evict the codes pre-minted for the code-exchange flow and
// index every member of a grant in one array (quadratic with many codes per grant).
//
// Benchmark-only route (not part of oidc-provider): POST /bench/mint?n=N&scope=S answers
// N authorization codes, one per line, minted programmatically with the provider's own
// models (new provider.Grant / new provider.AuthorizationCode(...).save()), exactly what its
// authorization endpoint stores after login and consent. It is used to pre-mint codes for the
// code-exchange flows; the full web server flow goes through the real endpoints instead.
import http from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT || 9101);
const issuer = `http://127.0.0.1:${port}`;
export const REDIRECT_URI = 'http://127.0.0.1:9/cb';

// ---- unbounded in-memory adapter ----------------------------------------------------------
const store = new Map(); // key -> { payload, exp (ms or Infinity) }
const grantIndex = new Map(); // grantId -> Set of keys
const uidIndex = new Map();
const userCodeIndex = new Map();
const grantable = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode',
  'BackchannelAuthenticationRequest', 'PreAuthorizedCode']);
const nowS = () => Math.floor(Date.now() / 1000);

class MapAdapter {
  constructor(model) { this.model = model; }
  key(id) { return `${this.model}:${id}`; }
  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    const exp = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
    store.set(key, { payload, exp });
    if (this.model === 'Session') uidIndex.set(payload.uid, id);
    if (payload.userCode) userCodeIndex.set(payload.userCode, id);
    if (grantable.has(this.model) && payload.grantId) {
      let members = grantIndex.get(payload.grantId);
      if (!members) grantIndex.set(payload.grantId, (members = new Set()));
      members.add(key);
    }
  }
  async find(id) {
    const key = this.key(id);
    const e = store.get(key);
    if (!e) return undefined;
    if (e.exp <= Date.now()) { store.delete(key); return undefined; }
    return e.payload;
  }
  async findByUid(uid) { const id = uidIndex.get(uid); return id === undefined ? undefined : this.find(id); }
  async findByUserCode(code) { const id = userCodeIndex.get(code); return id === undefined ? undefined : this.find(id); }
  async consume(id) { const p = await this.find(id); if (p) p.consumed = nowS(); }
  async destroy(id) {
    const key = this.key(id);
    const e = store.get(key);
    store.delete(key);
    if (e?.payload.grantId) grantIndex.get(e.payload.grantId)?.delete(key);
  }
  async revokeByGrantId(grantId) {
    for (const key of grantIndex.get(grantId) ?? []) store.delete(key);
    grantIndex.delete(grantId);
  }
}

// ---- provider -------------------------------------------------------------------------------
const remembered = new Map(); // `${accountId}|${clientId}` -> grantId (consent remembered)

const provider = new Provider(issuer, {
  adapter: MapAdapter,
  clients: [
    {
      client_id: 'cc', client_secret: 'cc-secret', grant_types: ['client_credentials'],
      response_types: [], redirect_uris: [], token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: 'web', client_secret: 'web-secret', grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'], redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  scopes: ['openid', 'offline_access', 'profile', 'email', 'api'],
  claims: { openid: ['sub'], profile: ['name', 'preferred_username'], email: ['email'] },
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, preferred_username: 'alice@example.com', name: 'Alice Bench', email: 'alice@example.com' }),
  }),
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    userinfo: { enabled: true },
    revocation: { enabled: true },
  },
  pkce: { required: () => false },
  // Refresh tokens for every client allowed the grant (latchkey: app scope refresh_token), and
  // reusable until revoked (latchkey's default policy), not rotated.
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: () => false,
  loadExistingGrant: async (ctx) => {
    const clientId = ctx.oidc.client.clientId;
    const accountId = ctx.oidc.session?.accountId;
    const rememberKey = accountId ? `${accountId}|${clientId}` : null;
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(clientId)
      || (rememberKey && remembered.get(rememberKey));
    if (!grantId) return undefined;
    if (rememberKey) remembered.set(rememberKey, grantId);
    return ctx.oidc.provider.Grant.find(grantId);
  },
  ttl: { AccessToken: 7200, AuthorizationCode: 600, RefreshToken: 86400 * 30, ClientCredentials: 7200 },
});
provider.on('server_error', (ctx, err) => { console.error('server_error', err); });

// ---- code minting route ---------------------------------------------------------------------
async function mint(n, scope) {
  const client = await provider.Client.find('web');
  const grant = new provider.Grant({ accountId: 'alice', clientId: 'web' });
  grant.addOIDCScope(scope);
  const grantId = await grant.save();
  const out = [];
  const authTime = nowS();
  for (let i = 0; i < n; i++) {
    const code = new provider.AuthorizationCode({
      accountId: 'alice', client, grantId, scope, redirectUri: REDIRECT_URI, authTime,
    });
    out.push(await code.save());
  }
  return out;
}

provider.use(async (ctx, next) => {
  if (ctx.path === '/bench/mint' && ctx.method === 'POST') {
    const n = Math.min(Number(ctx.query.n || 1), 2_000_000);
    const scope = String(ctx.query.scope || 'openid');
    ctx.type = 'text/plain';
    ctx.body = (await mint(n, scope)).join('\n') + '\n';
    return;
  }
  await next();
});

const server = http.createServer(provider.callback());
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => { console.log(`oidc-provider listening on ${issuer}`); });
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => { server.close(); process.exit(0); });
