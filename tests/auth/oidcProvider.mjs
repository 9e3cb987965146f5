// A real OpenID Connect provider (the oidc-provider package) for the sign-in tests, run as a child
// process on 127.0.0.1 with a random port. Usage: node oidcProvider.mjs <redirect_uri> <client_secret>
// Prints one JSON line {"issuer": "..."} when it is ready. Plain JS: it runs without a TS loader.
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const [redirectUri, clientSecret] = process.argv.slice(2);
if (!redirectUri || !clientSecret) {
  console.error('usage: node oidcProvider.mjs <redirect_uri> <client_secret>');
  process.exit(2);
}

// The login form (devInteractions) accepts any password; the login name picks one of these people.
const accounts = {
  ada: { name: 'Ada Instructor', groups: ['staff', 'lectern-instructors'] },
  ben: { name: 'Ben Student', groups: ['students-2025'] },
  cy: { name: 'Cy Alumnus', groups: ['alumni'] },
};

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'lectern',
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  // PKCE even for this confidential client: Lectern must send a code_challenge or be refused.
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  claims: { openid: ['sub'], profile: ['name'], groups: ['groups'] },
  cookies: { keys: ['lectern-test-provider-cookie-key'] },
  async findAccount(_ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...account }) };
  },
  // Lectern is a first-party client: no consent screen, as at a university IdP.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid profile groups');
    grant.addOIDCClaims(['sub', 'name', 'groups']);
    await grant.save();
    return grant;
  },
});
provider.on('server_error', (_ctx, error) => console.error('provider server_error', error));

server.on('request', provider.callback());
process.on('SIGTERM', () => server.close(() => process.exit(0)));
console.log(JSON.stringify({ issuer }));
