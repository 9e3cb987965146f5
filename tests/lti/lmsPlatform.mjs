// A small LTI 1.3 platform (an LMS) for the launch tests, run as its own process on 127.0.0.1 with
// its own RSA key. It serves its key set, a course page that frames the tool as Moodle does, the
// login initiation form it posts to the tool, and an authentication endpoint that answers with an
// auto-submitting form_post carrying a signed id_token. Plain JS: it runs without a TS loader.
//
// Usage: node lmsPlatform.mjs. Prints one JSON line {issuer, jwksUrl, authLoginUrl, tokenUrl,
// clientId, deploymentId} when listening; then reads one JSON line {"toolUrl": "..."} on stdin
// (the tool's origin, known only once Lectern listens) and prints {"ready": true}.
//
// Browser-facing URLs use http://localhost:<port> while Lectern is http://127.0.0.1:<port>: two
// different sites, so the browser treats the tool as a third-party frame, as it would in production.
// The key set is fetched by Lectern server-to-server at 127.0.0.1.
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
import { generateKeyPair, exportJWK, SignJWT, calculateJwkThumbprint, createRemoteJWKSet, jwtVerify } from 'jose';

const CLIENT_ID = 'lectern-tool';
const DEPLOYMENT_ID = 'dep-1';
const CLAIM = 'https://purl.imsglobal.org/spec/lti/claim/';
const LIS = 'http://purl.imsglobal.org/vocab/lis/v2/';

// The login hint picks one of these people.
const people = {
  ada: { roles: [`${LIS}membership#Instructor`, `${LIS}institution/person#Faculty`], claims: { name: 'Ada Lovelace', given_name: 'Ada', family_name: 'Lovelace' } },
  ben: { roles: [`${LIS}membership#Learner`, `${LIS}institution/person#Student`], claims: { given_name: 'Ben', family_name: 'Okafor' } },
  tess: { roles: [`${LIS}membership/Instructor#TeachingAssistant`], claims: { name: 'Tess Assistant' } },
  obi: { roles: [`${LIS}membership#Mentor`], claims: {} },
};
const course = { id: 'course-42', title: 'Physics 101: Mechanics', label: 'PHY101' };
const resourceLink = { id: 'rl-7', title: 'Weekly lecture' };

const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048 });
const publicJwk = await exportJWK(publicKey);
const kid = await calculateJwkThumbprint(publicJwk);

const server = createServer((request, response) => {
  handle(request, response).catch((error) => {
    console.error('lms error', error);
    response.writeHead(500).end(String(error));
  });
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = server.address().port;
const issuer = `http://localhost:${port}`;
let toolUrl;
let lastToken; // the id_token of the last launch, for the replay case
const launches = []; // what /auth was asked, for the tests: GET /requests

console.log(JSON.stringify({ issuer, jwksUrl: `http://127.0.0.1:${port}/jwks`, authLoginUrl: `${issuer}/auth`, tokenUrl: `${issuer}/token`, clientId: CLIENT_ID, deploymentId: DEPLOYMENT_ID }));
const stdin = createInterface({ input: process.stdin });
stdin.once('line', (line) => {
  toolUrl = JSON.parse(line).toolUrl;
  console.log(JSON.stringify({ ready: true }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));

async function handle(request, response) {
  const url = new URL(request.url, issuer);
  const params = request.method === 'POST' ? new URLSearchParams(await body(request)) : url.searchParams;
  if (url.pathname === '/jwks') return json(response, { keys: [{ ...publicJwk, kid, alg: 'RS256', use: 'sig' }] });
  if (url.pathname === '/requests') return json(response, launches);
  if (url.pathname === '/course') {
    // The course page frames the activity, as Moodle's "embed" launch container does.
    const src = `/launch?${new URLSearchParams({ user: params.get('user') ?? 'ada', case: params.get('case') ?? 'ok' })}`;
    return html(response, `<h1>${escapeHtml(course.title)}</h1><iframe id="tool" src="${escapeHtml(src)}" width="1100" height="700" allow="camera *; microphone *; display-capture *; autoplay *"></iframe>`);
  }
  if (url.pathname === '/launch') {
    // Login initiation: the platform's form to the tool's login URL (third-party initiated login).
    const user = params.get('user') ?? 'ada';
    const testCase = params.get('case') ?? 'ok';
    const fields = { iss: issuer, login_hint: user, target_link_uri: `${toolUrl}/lti/launch`, lti_message_hint: testCase, client_id: CLIENT_ID };
    // For "unknown-deployment" the token names the unknown deployment; the optional login parameter is left out.
    if (testCase !== 'unknown-deployment') fields.lti_deployment_id = DEPLOYMENT_ID;
    return html(response, autoSubmit(`${toolUrl}/lti/login`, fields));
  }
  if (url.pathname === '/auth') return authenticate(response, params);
  if (url.pathname === '/deeplink-return' && request.method === 'POST') return deepLinkReturn(response, params);
  response.writeHead(404).end('not found');
}

// The authentication request (OIDC implicit flow, form_post), checked as a platform must check it.
async function authenticate(response, params) {
  const asked = Object.fromEntries(params);
  launches.push(asked);
  const expected = { scope: 'openid', response_type: 'id_token', response_mode: 'form_post', prompt: 'none', client_id: CLIENT_ID, redirect_uri: `${toolUrl}/lti/launch` };
  for (const [key, value] of Object.entries(expected)) {
    if (params.get(key) !== value) return text(response, 400, `authentication request: ${key} must be ${value}, got ${params.get(key)}`);
  }
  for (const key of ['state', 'nonce', 'login_hint']) if (!params.get(key)) return text(response, 400, `authentication request: ${key} missing`);
  const person = people[params.get('login_hint')];
  if (!person) return text(response, 400, 'unknown login_hint');
  const testCase = params.get('lti_message_hint') ?? 'ok';
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    nonce: params.get('nonce'),
    [`${CLAIM}message_type`]: 'LtiResourceLinkRequest',
    [`${CLAIM}version`]: '1.3.0',
    [`${CLAIM}deployment_id`]: testCase === 'unknown-deployment' ? 'dep-unknown' : DEPLOYMENT_ID,
    [`${CLAIM}target_link_uri`]: `${toolUrl}/lti/launch`,
    [`${CLAIM}resource_link`]: resourceLink,
    [`${CLAIM}context`]: { ...course, type: ['http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering'] },
    [`${CLAIM}roles`]: person.roles,
    [`${CLAIM}custom`]: { section: 'A' },
    ...person.claims,
  };
  if (testCase === 'deeplink' || testCase === 'deeplink-elsewhere') {
    // Deep Linking: no resource link yet; where the tool sends its answer, and what may be added.
    delete claims[`${CLAIM}resource_link`];
    claims[`${CLAIM}message_type`] = 'LtiDeepLinkingRequest';
    claims['https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings'] = {
      deep_link_return_url: testCase === 'deeplink' ? `${issuer}/deeplink-return` : 'https://attacker.example/collect',
      accept_types: ['ltiResourceLink'],
      accept_presentation_document_targets: ['iframe', 'window'],
      data: 'lms-opaque-42',
    };
  }
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
    .setIssuer(issuer)
    .setSubject(`user-${params.get('login_hint')}`)
    .setAudience(testCase === 'wrong-aud' ? 'another-tool' : CLIENT_ID)
    .setIssuedAt(testCase === 'expired' ? now - 3600 : now)
    .setExpirationTime(testCase === 'expired' ? now - 1800 : now + 300);
  let idToken = await jwt.sign(privateKey);
  if (testCase === 'tampered') {
    // Same header and signature, a payload that promotes the person: the signature no longer matches.
    const [header, payload, signature] = idToken.split('.');
    const forged = { ...JSON.parse(Buffer.from(payload, 'base64url').toString()), [`${CLAIM}roles`]: [`${LIS}membership#Instructor`] };
    idToken = `${header}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${signature}`;
  }
  if (testCase === 'replay') {
    if (!lastToken) return text(response, 409, 'no earlier launch to replay');
    idToken = lastToken;
  }
  if (testCase === 'ok') lastToken = idToken;
  const form = { id_token: idToken, state: params.get('state') };
  // "nocookie" waits for a click, so the test can take the browser's cookies away first.
  return html(response, testCase === 'nocookie' ? manualForm(params.get('redirect_uri'), form) : autoSubmit(params.get('redirect_uri'), form));
}

// The tool's Deep Linking answer, verified as a platform must: the tool's key set, iss = client id,
// aud = this platform, the data echoed, one resource link to add.
let toolKeys;
async function deepLinkReturn(response, params) {
  toolKeys ??= createRemoteJWKSet(new URL(`${toolUrl}/.well-known/jwks.json`));
  try {
    const { payload } = await jwtVerify(params.get('JWT') ?? '', toolKeys, { issuer: CLIENT_ID, audience: issuer, algorithms: ['RS256'], requiredClaims: ['iat', 'exp', 'nonce'] });
    const dl = 'https://purl.imsglobal.org/spec/lti-dl/claim/';
    if (payload[`${CLAIM}message_type`] !== 'LtiDeepLinkingResponse') throw new Error('message_type');
    if (payload[`${CLAIM}deployment_id`] !== DEPLOYMENT_ID) throw new Error('deployment_id');
    if (payload[`${dl}data`] !== 'lms-opaque-42') throw new Error('data not echoed');
    const [item, ...rest] = payload[`${dl}content_items`] ?? [];
    if (!item || rest.length > 0 || item.type !== 'ltiResourceLink') throw new Error('content_items');
    return html(response, `<p id="added" data-url="${escapeHtml(item.url)}">Added: ${escapeHtml(item.title)}</p>`);
  } catch (error) {
    return text(response, 400, `deep linking answer refused: ${error.message}`);
  }
}

function autoSubmit(action, fields) {
  return `${manualForm(action, fields)}<script>document.forms[0].submit()</script>`;
}

function manualForm(action, fields) {
  const inputs = Object.entries(fields).map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`).join('');
  return `<form method="post" action="${escapeHtml(action)}">${inputs}<button type="submit">Continue</button></form>`;
}

function html(response, content) {
  response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><html><head><meta charset="utf-8"><title>LMS</title></head><body>${content}</body></html>`);
}

function json(response, value) {
  response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}

function text(response, status, message) {
  response.writeHead(status, { 'content-type': 'text/plain' }).end(message);
}

function body(request) {
  return new Promise((resolve, reject) => {
    let data = '';
    request.setEncoding('utf8');
    request.on('data', (chunk) => (data += chunk));
    request.on('end', () => resolve(data));
    request.on('error', reject);
  });
}

function escapeHtml(value) {
  return String(value).replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}
