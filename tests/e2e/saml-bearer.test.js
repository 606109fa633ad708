// docs/behaviour.md §5.7 (and §7, §6): the SAML 2.0 bearer flow (RFC 7522) — `assertion` is the
// base64url (with or without padding) of one SAML 2.0 Assertion, enveloped XML-DSig signed
// (RSA-SHA256, exclusive c14n) with the key of the app's --cert; Issuer = client id, NameID =
// username, Audience = issuer, bearer SubjectConfirmation with Recipient = the token URL;
// unsigned, wrongly signed, wrapped, expired, wrong-audience, wrong-recipient and replayed
// assertions are refused; DTDs never expand or fetch anything; same approval rule as JWT bearer;
// no refresh token. Signed with xml-crypto.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { SignedXml } from 'xml-crypto';
import { startWorld, makeTempDir, cli, eventually } from './lib/server.js';
import { makeCert, makeOutOfDateCerts } from './lib/keys.js';
import { tokenRequest, assertTokenError, assertTokenSuccess, userinfo, show } from './lib/oauth.js';

const GRANT = 'urn:ietf:params:oauth:grant-type:saml2-bearer';
const SAML_NS = 'urn:oasis:names:tc:SAML:2.0:assertion';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
const NOT_APPROVED = "user hasn't approved this consumer";
const AUTH_FAILURE = 'authentication failure';
const INTEGRATION = 'Integration User';

const isoTime = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const newId = () => '_' + randomBytes(16).toString('hex');

describe('SAML bearer flow', { concurrency: true, timeout: 60000 }, () => {
  let world;
  let keyDir;
  let appCert;
  let otherCert;
  let outOfDate; // {expired, early}: app certificates outside their validity period

  before(async () => {
    keyDir = await makeTempDir('latchkey-e2e-saml-');
    [appCert, otherCert, outOfDate] = await Promise.all([
      makeCert(keyDir, 'saml'), makeCert(keyDir, 'intruder'), makeOutOfDateCerts(keyDir, 'app'),
    ]);
    const integ = ['--profile', INTEGRATION];
    world = await startWorld({
      users: {
        integ: { username: 'integ@localhost', name: 'Integration Bot', email: 'integ@localhost', extra: integ },
        victim: { username: 'victim@localhost', name: 'Vic Tim', email: 'victim@localhost', extra: integ },
        plain: { username: 'plain@localhost', name: 'Plain User', email: 'plain@localhost' },
        retired: { username: 'retired@localhost', name: 'Retired Bot', email: 'retired@localhost', extra: integ },
      },
      apps: {
        // refresh_token among the app's scopes: the flow must still not return one.
        saml: { callbacks: [], scopes: 'api openid profile refresh_token', extra: ['--cert', appCert.certPath, '--permitted-users', 'admin-approved'] },
        // Certificates outside their validity period (expired in 2020; valid from tomorrow).
        expired: { callbacks: [], scopes: 'api', extra: ['--cert', outOfDate.expired.certPath, '--permitted-users', 'admin-approved'] },
        early: { callbacks: [], scopes: 'api', extra: ['--cert', outOfDate.early.certPath, '--permitted-users', 'admin-approved'] },
      },
    });
    for (const app of [world.apps.saml, world.apps.expired, world.apps.early]) {
      await cli(world.db, ['app', 'preauthorize', '--client-id', app.client_id, '--profile', INTEGRATION]);
    }
  });
  after(async () => {
    await world?.stop();
    if (keyDir) await rm(keyDir, { recursive: true, force: true });
  });

  const tokenUrl = () => `${world.issuer}/services/oauth2/token`;

  /** An unsigned Assertion. o: id, issuer, nameId, audience, recipient, notBefore, notOnOrAfter (ms), advice (XML). */
  function assertionXml(o = {}) {
    const now = Date.now();
    const id = o.id ?? newId();
    const issuer = o.issuer ?? world.apps.saml.client_id;
    const nameId = o.nameId ?? world.users.integ.username;
    const audience = o.audience ?? world.issuer;
    const recipient = o.recipient ?? tokenUrl();
    const notBefore = o.notBefore ?? now - 60_000;
    const notOnOrAfter = o.notOnOrAfter ?? now + 120_000;
    const issueInstant = o.issueInstant ?? Math.min(now, notBefore + 60_000);
    return `<saml2:Assertion xmlns:saml2="${SAML_NS}" ID="${id}" Version="2.0" IssueInstant="${isoTime(issueInstant)}">`
      + `<saml2:Issuer>${issuer}</saml2:Issuer>`
      + '<saml2:Subject>'
      + `<saml2:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">${nameId}</saml2:NameID>`
      + `<saml2:SubjectConfirmation Method="${BEARER}">`
      + `<saml2:SubjectConfirmationData Recipient="${recipient}" NotOnOrAfter="${isoTime(notOnOrAfter)}"/>`
      + '</saml2:SubjectConfirmation>'
      + '</saml2:Subject>'
      + `<saml2:Conditions NotBefore="${isoTime(notBefore)}" NotOnOrAfter="${isoTime(notOnOrAfter)}">`
      + `<saml2:AudienceRestriction><saml2:Audience>${audience}</saml2:Audience></saml2:AudienceRestriction>`
      + '</saml2:Conditions>'
      + (o.advice ? `<saml2:Advice>${o.advice}</saml2:Advice>` : '')
      + `<saml2:AuthnStatement AuthnInstant="${isoTime(issueInstant)}">`
      + '<saml2:AuthnContext><saml2:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified</saml2:AuthnContextClassRef></saml2:AuthnContext>'
      + '</saml2:AuthnStatement>'
      + '</saml2:Assertion>';
  }

  /** Enveloped signature over the root Assertion (#ID), placed right after its Issuer. */
  function sign(xml, cert = appCert) {
    const sig = new SignedXml({
      privateKey: cert.keyPem,
      publicCert: cert.certPem,
      canonicalizationAlgorithm: EXC_C14N,
      signatureAlgorithm: RSA_SHA256,
    });
    sig.addReference({
      xpath: "/*[local-name(.)='Assertion']",
      digestAlgorithm: SHA256,
      transforms: [ENVELOPED, EXC_C14N],
    });
    sig.computeSignature(xml, {
      prefix: 'ds',
      location: { reference: "/*[local-name(.)='Assertion']/*[local-name(.)='Issuer']", action: 'after' },
    });
    return sig.getSignedXml();
  }

  const signed = (o) => sign(assertionXml(o));
  const signatureOf = (xml) => /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(xml)[0];
  const withoutSignature = (xml) => xml.replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, '');
  const idOf = (xml) => /ID="([^"]+)"/.exec(xml)[1];

  const encode = (xml, { padding = false } = {}) => {
    const s = Buffer.from(xml, 'utf8').toString('base64url');
    return padding ? s + '='.repeat((4 - (s.length % 4)) % 4) : s;
  };

  function samlBearer(xml, opts) {
    return tokenRequest(world.issuer, { grant_type: GRANT, assertion: encode(xml, opts) });
  }

  function assertRefused(r, description) {
    assertTokenError(r, 'invalid_grant', description === undefined ? {} : { description });
    assert.equal(r.json.access_token, undefined, `a token was issued: ${show(r)}`);
  }

  function assertSamlTokens(r, user) {
    const t = assertTokenSuccess(r);
    assert.equal(t.token_type, 'Bearer', show(r));
    assert.equal(t.instance_url, world.issuer, show(r));
    assert.equal(t.id, `${world.issuer}/id/${user.org_id}/${user.user_id}`, show(r));
    assert.match(String(t.issued_at), /^\d{13}$/, show(r));
    assert.equal(typeof t.expires_in, 'number', show(r));
    assert.ok(t.scope.split(' ').includes('api'), show(r));
    assert.equal(t.refresh_token, undefined, `the SAML bearer flow must not return a refresh token: ${show(r)}`);
    return t;
  }

  it('a valid signed assertion → token without refresh_token that works at userinfo', async () => {
    const r = await samlBearer(signed());
    const t = assertSamlTokens(r, world.users.integ);
    const ui = await userinfo(world, t.access_token);
    assert.equal(ui.status, 200, show(ui));
    assert.equal(ui.json.preferred_username, 'integ@localhost', show(ui));
  });

  it('base64url with and without padding are both accepted', async () => {
    for (const padding of [false, true]) {
      let xml = signed();
      // Whitespace after the root element makes the byte length not a multiple of 3, so that
      // the encoding needs padding.
      while (Buffer.byteLength(xml) % 3 === 0) xml += '\n';
      const enc = encode(xml, { padding });
      assert.equal(enc.endsWith('='), padding, enc.slice(-4));
      const r = await tokenRequest(world.issuer, { grant_type: GRANT, assertion: enc });
      assertSamlTokens(r, world.users.integ);
    }
  });

  it('an unsigned assertion → invalid_grant', async () => {
    assertRefused(await samlBearer(assertionXml()));
  });

  it('an assertion signed with another key (its certificate in KeyInfo) → invalid_grant', async () => {
    assertRefused(await samlBearer(sign(assertionXml(), otherCert)));
  });

  it('an expired assertion → invalid_grant "expired authorization code"', async () => {
    const now = Date.now();
    const xml = signed({ notBefore: now - 900_000, notOnOrAfter: now - 300_000, issueInstant: now - 900_000 });
    assertRefused(await samlBearer(xml), 'expired authorization code');
  });

  it('NotBefore in the future → invalid_grant', async () => {
    const now = Date.now();
    const xml = signed({ notBefore: now + 300_000, notOnOrAfter: now + 420_000, issueInstant: now });
    assertRefused(await samlBearer(xml));
  });

  it('a wrong Audience → invalid_grant "audience is invalid"', async () => {
    for (const audience of ['https://login.salesforce.com', `${world.issuer}/services/oauth2/token`]) {
      assertRefused(await samlBearer(signed({ audience })), 'audience is invalid');
    }
  });

  it('a wrong Recipient → invalid_grant', async () => {
    for (const recipient of ['https://login.salesforce.com/services/oauth2/token', `${world.issuer}/services/oauth2/authorize`]) {
      assertRefused(await samlBearer(signed({ recipient })));
    }
  });

  it('NameID changed after signing → invalid_grant', async () => {
    const xml = signed().replace('>integ@localhost</saml2:NameID>', '>victim@localhost</saml2:NameID>');
    assert.ok(xml.includes('>victim@localhost<'));
    assertRefused(await samlBearer(xml));
  });

  it('a comment spliced into the signed NameID (c14n ignores comments) → invalid_grant, no token for the prefix', async () => {
    // Signed for "victim@localhost.example"; a comment makes a naive reader see "victim@localhost".
    const xml = signed({ nameId: 'victim@localhost.example' })
      .replace('>victim@localhost.example<', '>victim@localhost<!---->.example<');
    assertRefused(await samlBearer(xml));
  });

  describe('signature wrapping', { concurrency: true }, () => {
    // The attacker holds a validly signed assertion for integ@localhost and wants a token for
    // victim@localhost (pre-authorized too, so only the signature check stands in the way).
    const evil = (o = {}) => assertionXml({ nameId: 'victim@localhost', ...o });

    it('the signed assertion inside an evil Assertion\'s Advice → invalid_grant', async () => {
      const good = signed();
      assertRefused(await samlBearer(evil({ advice: good })));
    });

    it('an evil Assertion with the same ID wrapping the signed one → invalid_grant', async () => {
      const good = signed();
      assertRefused(await samlBearer(evil({ id: idOf(good), advice: good })));
    });

    it('the signature moved onto an evil Assertion, the signed content in its Advice → invalid_grant', async () => {
      const good = signed();
      for (const id of [newId(), idOf(good)]) {
        const root = evil({ id, advice: withoutSignature(good) });
        const xml = root.replace('</saml2:Issuer>', `</saml2:Issuer>${signatureOf(good)}`);
        assertRefused(await samlBearer(xml));
      }
    });

    it('the signed content hidden in ds:Object of the signature of an evil Assertion → invalid_grant', async () => {
      const good = signed();
      for (const id of [newId(), idOf(good)]) {
        const sig = signatureOf(good).replace('</ds:Signature>', `<ds:Object>${withoutSignature(good)}</ds:Object></ds:Signature>`);
        const xml = evil({ id }).replace('</saml2:Issuer>', `</saml2:Issuer>${sig}`);
        assertRefused(await samlBearer(xml));
      }
    });

    it('a samlp:Response holding an evil Assertion before the signed one → invalid_grant', async () => {
      const good = signed();
      const now = Date.now();
      for (const order of [[evil(), good], [good, evil()], [evil({ id: idOf(good) }), good]]) {
        const xml = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="${newId()}" Version="2.0" IssueInstant="${isoTime(now)}">`
          + `<saml2:Issuer xmlns:saml2="${SAML_NS}">${world.apps.saml.client_id}</saml2:Issuer>`
          + '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>'
          + order.join('') + '</samlp:Response>';
        assertRefused(await samlBearer(xml));
      }
    });

    it('a second Subject (evil NameID) added to the signed assertion → invalid_grant', async () => {
      const good = signed();
      const xml = good.replace('<saml2:Subject>',
        '<saml2:Subject><saml2:NameID>victim@localhost</saml2:NameID></saml2:Subject><saml2:Subject>');
      assertRefused(await samlBearer(xml));
    });
  });

  it('a replayed assertion (same ID twice) → invalid_grant', async () => {
    const xml = signed();
    assertSamlTokens(await samlBearer(xml), world.users.integ);
    assertRefused(await samlBearer(xml));
    // Padding does not make it a different assertion.
    assertRefused(await samlBearer(xml, { padding: true }));
  });

  it('a freshly signed assertion reusing a spent ID → invalid_grant', async () => {
    const id = newId();
    assertSamlTokens(await samlBearer(signed({ id })), world.users.integ);
    assertRefused(await samlBearer(signed({ id })));
  });

  it('user not pre-authorized on the admin-approved app → invalid_grant "user hasn\'t approved this consumer"', async () => {
    assertRefused(await samlBearer(signed({ nameId: 'plain@localhost' })), NOT_APPROVED);
  });

  it('an unknown NameID → invalid_grant "authentication failure"', async () => {
    assertRefused(await samlBearer(signed({ nameId: 'nobody@localhost' })), AUTH_FAILURE);
  });

  it('an inactive NameID (user update --active false) → invalid_grant "authentication failure", though it worked before', async () => {
    const retired = world.users.retired;
    assertSamlTokens(await samlBearer(signed({ nameId: retired.username })), retired);
    await cli(world.db, ['user', 'update', '--username', retired.username, '--active', 'false']);
    // The server reads users again once its cached copy is older than --cache-ms (1 s).
    const r = await eventually(() => samlBearer(signed({ nameId: retired.username })), (res) => res.status !== 200);
    assertRefused(r, AUTH_FAILURE);
  });

  it('an app certificate outside its validity period (expired; not yet valid) → invalid_grant', async () => {
    // Signed with that certificate's key for a pre-authorized user: only its dates are wrong.
    for (const which of ['expired', 'early']) {
      const xml = sign(assertionXml({ issuer: world.apps[which].client_id }), outOfDate[which]);
      assertRefused(await samlBearer(xml), 'invalid assertion');
    }
  });

  it('a DOCTYPE with a billion-laughs entity → 4xx within 2 s, and the server still answers', async () => {
    const ents = ['<!ENTITY lol0 "lollollollollollollollollollol">'];
    for (let i = 1; i <= 9; i++) ents.push(`<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`);
    const body = assertionXml({ nameId: 'integ@localhost' }).replace('integ@localhost</saml2:NameID>', '&lol9;</saml2:NameID>');
    const xml = `<?xml version="1.0"?><!DOCTYPE saml2:Assertion [${ents.join('')}]>${body}`;
    const t0 = Date.now();
    const r = await samlBearer(xml);
    const ms = Date.now() - t0;
    assert.ok(r.status >= 400 && r.status < 500, `expected 4xx; got ${show(r)}`);
    assert.ok(['invalid_grant', 'invalid_request'].includes(r.json?.error), show(r));
    assert.ok(ms < 2000, `took ${ms} ms`);
    // Signed, too: the DTD is refused before anything is expanded.
    const signedLaughs = `<?xml version="1.0"?><!DOCTYPE saml2:Assertion [${ents.join('')}]>${signed()}`;
    const t1 = Date.now();
    const r2 = await samlBearer(signedLaughs);
    assert.ok(r2.status >= 400 && r2.status < 500 && Date.now() - t1 < 2000, show(r2));
    assert.ok(['invalid_grant', 'invalid_request'].includes(r2.json?.error), show(r2));
    assertSamlTokens(await samlBearer(signed()), world.users.integ);
  });

  it('an external entity (SYSTEM file:///etc/passwd) → 4xx and nothing of the file comes back', async () => {
    const dtds = [
      '<!DOCTYPE saml2:Assertion [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
      '<!DOCTYPE saml2:Assertion [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>',
      '<!DOCTYPE saml2:Assertion SYSTEM "file:///etc/passwd">',
    ];
    for (const dtd of dtds) {
      const body = dtd.includes('ENTITY xxe')
        ? assertionXml({ issuer: '&xxe;', nameId: '&xxe;', audience: '&xxe;' })
        : assertionXml();
      const r = await samlBearer(`<?xml version="1.0"?>${dtd}${body}`);
      assert.ok(r.status >= 400 && r.status < 500, `expected 4xx for ${dtd}; got ${show(r)}`);
      assert.ok(['invalid_grant', 'invalid_request'].includes(r.json?.error), show(r));
      assert.ok(!r.text.includes('root:'), `the response leaks /etc/passwd: ${show(r)}`);
      assert.equal(r.json?.access_token, undefined, show(r));
    }
  });

  it('an external entity over HTTP is never fetched', async () => {
    let hits = 0;
    const listener = http.createServer((req, res) => { hits++; res.end('<!ENTITY leak "x">'); });
    await new Promise((resolve) => listener.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${listener.address().port}/xxe`;
      for (const dtd of [
        `<!DOCTYPE saml2:Assertion [<!ENTITY xxe SYSTEM "${url}">]>`,
        `<!DOCTYPE saml2:Assertion [<!ENTITY % p SYSTEM "${url}"> %p;]>`,
        `<!DOCTYPE saml2:Assertion SYSTEM "${url}">`,
      ]) {
        const body = dtd.includes('ENTITY xxe') ? assertionXml({ nameId: '&xxe;' }) : assertionXml();
        const r = await samlBearer(`<?xml version="1.0"?>${dtd}${body}`);
        assert.ok(r.status >= 400 && r.status < 500, `expected 4xx for ${dtd}; got ${show(r)}`);
        assert.ok(['invalid_grant', 'invalid_request'].includes(r.json?.error), show(r));
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(hits, 0, 'the server fetched an external entity');
    } finally {
      await new Promise((resolve) => listener.close(resolve));
    }
  });

  it('a missing or undecodable assertion → 400 with an RFC error', async () => {
    assertTokenError(await tokenRequest(world.issuer, { grant_type: GRANT }), 'invalid_request');
    assertRefused(await tokenRequest(world.issuer, { grant_type: GRANT, assertion: '!!!not base64!!!' }));
    assertRefused(await tokenRequest(world.issuer, { grant_type: GRANT, assertion: encode('<not-xml') }));
  });
});
