// A real OpenID Connect provider for the OIDC integration test (tests/integration/oidc_test.cc):
// node-oidc-provider, with one client per person (client credentials grant) whose access tokens
// are RS256 JWTs (RFC 9068) for the audience "suanpan" carrying suanpan's claims. It listens on a
// free port, then writes {"issuer", "tokens": {client: access_token}} to the file named by its
// first argument, and serves until killed.
//   node idp.mjs OUT.json [REDIRECT_URI]
// With a redirect URI (the dashboard's URL) it also has the dashboard's public client
// "dashboard": the authorization code flow with PKCE, where a person signs in on the provider's
// own (development) login page with their name above and any password, and consents.
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const out = process.argv[2];
const redirect = process.argv[3];
const people = {
  ana: { suanpan_role: 'member', suanpan_tenant: 'lumen-ai', suanpan_projects: ['vision'] },
  boss: { suanpan_role: 'tenant-admin', suanpan_tenant: 'lumen-ai' },
  ops: { suanpan_role: 'admin' },
  stranger: { suanpan_role: 'member', suanpan_tenant: 'no-such-tenant' },
};
const server = http.createServer();
server.listen(0, '127.0.0.1', async () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const provider = new Provider(issuer, {
    clients: [
      ...Object.keys(people).map((id) => ({
        client_id: id, client_secret: `${id}-secret`, grant_types: ['client_credentials'],
        redirect_uris: [], response_types: [],
      })),
      ...(redirect ? [{
        client_id: 'dashboard', token_endpoint_auth_method: 'none', grant_types: ['authorization_code'],
        response_types: ['code'], redirect_uris: [redirect],
      }] : []),
    ],
    findAccount: async (ctx, id) => ({
      accountId: id,
      claims: async () => ({ sub: id, preferred_username: id, ...(people[id] ?? {}) }),
    }),
    features: {
      devInteractions: { enabled: !!redirect },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => 'https://suanpan.test',
        useGrantedResource: () => true, // the dashboard asks for no resource: the granted default
        getResourceServerInfo: () => ({
          scope: 'api', audience: 'suanpan', accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    // A person's claims: the client's (client credentials) or the signed-in account's.
    extraTokenClaims: async (ctx, token) => {
      const who = token.accountId ?? token.clientId;
      return { preferred_username: who, ...(people[who] ?? {}) };
    },
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'test-1', use: 'sig', alg: 'RS256' }] },
  });
  server.on('request', provider.callback());
  const tokens = {};
  for (const id of Object.keys(people)) {
    const r = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${id}:${id}-secret`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials&scope=api',
    });
    tokens[id] = (await r.json()).access_token;
  }
  writeFileSync(out, JSON.stringify({ issuer, tokens }));
});
