// An OpenID Certified provider for the tests: panva's oidc-provider, configured as a strict provider is.
//
// It is the library's own protocol code; this file only configures it. Claims asked for by scope come
// only from userinfo (conformIdTokenClaims), the client is registered for one token endpoint
// authentication method, the authorization response carries `iss` (RFC 9207), and RP-Initiated Logout
// ends its session. The sign-in form is the library's development one (any password), consent is given
// for the first-party portal without a page.
//
// Configured by one JSON argument: {port, client_id, client_secret, redirect_uri, post_logout_redirect_uri,
// token_auth_method, users: {name: {email, email_verified, groups}}}. Prints "listening <issuer>" when up.
import crypto from 'node:crypto';

import Provider from 'oidc-provider';

const config = JSON.parse(process.argv[2]);
const issuer = `http://127.0.0.1:${config.port}`;
const signingKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

const provider = new Provider(issuer, {
  clients: [{
    client_id: config.client_id,
    client_secret: config.client_secret,
    redirect_uris: [config.redirect_uri],
    post_logout_redirect_uris: [config.post_logout_redirect_uri],
    token_endpoint_auth_method: config.token_auth_method,
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  // Only the registered method is announced, so a client that reads discovery can find it.
  clientAuthMethods: [config.token_auth_method],
  claims: { email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  conformIdTokenClaims: true,
  pkce: { required: () => true },
  jwks: { keys: [{ ...signingKey, kid: 'certified-test-key', use: 'sig', alg: 'RS256' }] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  async findAccount(ctx, id) {
    const user = config.users[id];
    if (!user) return undefined;
    return { accountId: id, async claims() { return { sub: id, name: id, ...user }; } };
  },
  async loadExistingGrant(ctx) {
    // The portal is first-party: every scope it asks for is granted without a consent page.
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile groups');
    await grant.save();
    return grant;
  },
});

const server = provider.listen(config.port, '127.0.0.1', () => console.log(`listening ${issuer}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
