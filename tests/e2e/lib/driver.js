// A cookie-keeping HTTP "browser" on fetch (redirect: 'manual') and a form driver for the
// login and consent pages. It never follows a redirect that leaves the server's origin: that is
// the redirect to the client's callback, which is returned to the test.
import { parse as parseHtml } from 'node-html-parser';

const REQUEST_TIMEOUT_MS = 15000;

export class CookieJar {
  constructor() { this.cookies = new Map(); } // key name|path -> {name, value, path, expires}

  store(setCookieHeaders, url) {
    for (const header of setCookieHeaders) {
      const parts = header.split(';').map((p) => p.trim());
      const [nv, ...attrs] = parts;
      const eq = nv.indexOf('=');
      if (eq <= 0) continue;
      const name = nv.slice(0, eq).trim();
      const value = nv.slice(eq + 1).trim();
      let cpath = null;
      let expires = null;
      for (const a of attrs) {
        const [k, ...rest] = a.split('=');
        const v = rest.join('=');
        const key = k.trim().toLowerCase();
        if (key === 'path' && v.startsWith('/')) cpath = v;
        else if (key === 'max-age') expires = Date.now() + Number(v) * 1000;
        else if (key === 'expires' && expires === null) {
          const t = Date.parse(v);
          if (!Number.isNaN(t)) expires = t;
        }
      }
      if (cpath === null) {
        const p = new URL(url).pathname;
        cpath = p.lastIndexOf('/') > 0 ? p.slice(0, p.lastIndexOf('/')) : '/';
      }
      const id = `${name}|${cpath}`;
      if (expires !== null && expires <= Date.now()) this.cookies.delete(id);
      else this.cookies.set(id, { name, value, path: cpath, expires });
    }
  }

  header(url) {
    const p = new URL(url).pathname;
    const now = Date.now();
    const out = [];
    for (const c of this.cookies.values()) {
      if (c.expires !== null && c.expires <= now) continue;
      if (p === c.path || p.startsWith(c.path.endsWith('/') ? c.path : c.path + '/')) out.push(`${c.name}=${c.value}`);
    }
    return out.join('; ');
  }

  get size() { return this.cookies.size; }
  clear() { this.cookies.clear(); }
}

/** Parses the forms of an HTML page. */
export function parseForms(html, pageUrl) {
  const root = parseHtml(html);
  return root.querySelectorAll('form').map((form) => {
    const action = form.getAttribute('action');
    const method = (form.getAttribute('method') || 'get').toLowerCase();
    const fields = [];
    const inputs = [];
    for (const input of form.querySelectorAll('input')) {
      const name = input.getAttribute('name');
      const type = (input.getAttribute('type') || 'text').toLowerCase();
      inputs.push({ name, type, value: input.getAttribute('value') ?? '', id: input.getAttribute('id') });
      if (!name) continue;
      if (['submit', 'button', 'image', 'reset', 'file'].includes(type)) continue;
      if ((type === 'checkbox' || type === 'radio') && input.getAttribute('checked') === undefined) continue;
      fields.push([name, input.getAttribute('value') ?? '']);
    }
    for (const ta of form.querySelectorAll('textarea')) {
      const name = ta.getAttribute('name');
      if (name) fields.push([name, ta.text]);
    }
    const buttons = [];
    for (const b of form.querySelectorAll('button')) {
      buttons.push({ name: b.getAttribute('name'), value: b.getAttribute('value') ?? '', text: b.text.trim() });
    }
    for (const i of inputs) {
      if (i.type === 'submit' && i.name) buttons.push({ name: i.name, value: i.value, text: i.value });
    }
    return {
      action: new URL(action === undefined || action === null || action === '' ? pageUrl : action, pageUrl).href,
      method,
      fields,
      inputs,
      buttons,
      html: form.outerHTML,
    };
  });
}

export function pageKind(forms) {
  if (forms.some((f) => f.inputs.some((i) => i.name === 'password'))) return 'login';
  if (forms.some((f) => f.buttons.some((b) => b.name === 'decision'))) return 'consent';
  return 'other';
}

/** Merges the query and the fragment parameters of a URL. */
export function callbackParams(location) {
  const u = new URL(location);
  const query = new URLSearchParams(u.search);
  const fragment = new URLSearchParams(u.hash.replace(/^#/, ''));
  const all = new URLSearchParams();
  for (const [k, v] of query) all.append(k, v);
  for (const [k, v] of fragment) all.append(k, v);
  return { url: u, query, fragment, params: all };
}

export class Browser {
  constructor(issuer) {
    this.issuer = issuer;
    this.origin = new URL(issuer).origin;
    this.jar = new CookieJar();
    this.trace = [];
  }

  /** One request, no redirect following; cookies sent and stored. */
  async request(url, { method = 'GET', headers = {}, body } = {}) {
    const h = new Headers(headers);
    const cookie = this.jar.header(url);
    if (cookie && new URL(url).origin === this.origin) h.set('cookie', cookie);
    const res = await fetch(url, {
      method, headers: h, body, redirect: 'manual', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    if (new URL(url).origin === this.origin) this.jar.store(res.headers.getSetCookie(), url);
    const text = await res.text();
    const page = { url, method, status: res.status, headers: res.headers, body: text, location: res.headers.get('location') };
    this.trace.push(`${method} ${url} -> ${res.status}${page.location ? ' ' + page.location : ''}`);
    return page;
  }

  get(url, opts = {}) { return this.request(url, { ...opts, method: 'GET' }); }

  /** Submits a form. fields: [[name, value]...]; `set` overrides, `omit` removes, `add` appends. */
  submit(form, { set = {}, omit = [], add = [], headers = {} } = {}) {
    const body = new URLSearchParams();
    const seen = new Set();
    for (const [k, v] of form.fields) {
      if (omit.includes(k)) continue;
      if (k in set) {
        if (!seen.has(k)) body.append(k, set[k]);
        seen.add(k);
        continue;
      }
      body.append(k, v);
    }
    for (const [k, v] of Object.entries(set)) if (!seen.has(k) && !omit.includes(k)) body.append(k, v);
    for (const [k, v] of add) body.append(k, v);
    if (form.method === 'post') {
      return this.request(form.action, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: body.toString(),
      });
    }
    const u = new URL(form.action);
    for (const [k, v] of body) u.searchParams.append(k, v);
    return this.request(u.href, { headers });
  }

  /**
   * Drives an authorize URL to the callback. Logs in when shown the login page, answers the
   * consent page with `decision`. Returns {location, url, params, query, fragment, pages, last}
   * where location is the callback redirect (or null when the flow ended on a page).
   */
  async authorize(authorizeUrl, { username, password, decision = 'allow', maxSteps = 12 } = {}) {
    const pages = [];
    let page = await this.get(authorizeUrl);
    for (let step = 0; step < maxSteps; step++) {
      if (page.status >= 300 && page.status < 400 && page.location) {
        const next = new URL(page.location, page.url);
        if (next.origin !== this.origin) {
          return { ...callbackParams(next.href), location: next.href, status: page.status, pages, last: page };
        }
        page = await this.get(next.href);
        continue;
      }
      const forms = parseForms(page.body, page.url);
      const kind = pageKind(forms);
      pages.push(kind);
      if (kind === 'login') {
        if (pages.filter((k) => k === 'login').length > 1) break; // shown again: login failed
        if (username === undefined) break;
        const form = forms.find((f) => f.inputs.some((i) => i.name === 'password'));
        page = await this.submit(form, { set: { username, password } });
        continue;
      }
      if (kind === 'consent') {
        if (decision === null) break;
        const form = forms.find((f) => f.buttons.some((b) => b.name === 'decision'));
        page = await this.submit(form, { set: { decision } });
        continue;
      }
      break;
    }
    return { location: null, url: null, params: new URLSearchParams(), query: null, fragment: null, status: page.status, pages, last: page };
  }

  /** Loads a page and returns {page, forms, kind}. */
  async load(url) {
    const page = await this.get(url);
    const forms = parseForms(page.body, page.url);
    return { page, forms, kind: pageKind(forms) };
  }

  traceText() { return this.trace.join('\n'); }
}

/** Describes a driver result for assertion messages. */
export function describeResult(r) {
  const last = r.last ? `${r.last.status} ${r.last.method} ${r.last.url}\n${String(r.last.body).slice(0, 800)}` : '';
  return `pages=${JSON.stringify(r.pages)} location=${r.location}\nlast response: ${last}`;
}
