#!/usr/bin/python3
"""Client credentials grant through Authlib's requests integration (OAuth2Session).

Run with Debian's /usr/bin/python3 (python3-authlib, python3-requests). Prints one JSON object:
{"results": [{"ok": true, "status": 200, "token": {...}}
             | {"ok": false, "status": 4xx, "error": "...", "error_description": "..."}, ...],
 "assertions": ["<client assertion JWT sent>", ...]}

  --method client_secret_basic | client_secret_post | private_key_jwt
  --key PEM      private key for private_key_jwt (matching the app's --cert)
  --aud URL      audience of the client assertion (default: the token URL)
  --expires-in S client assertion lifetime (default: Authlib's own, one hour)
  --repeat N     fetch the token N times with the same session
  --reuse-assertion  with private_key_jwt, send the first client assertion again every time
"""
import argparse
import json
import sys

from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT, private_key_jwt_sign


class RecordingPrivateKeyJWT(PrivateKeyJWT):
    """PrivateKeyJWT that records what it signs and can replay its first assertion."""

    def __init__(self, token_endpoint, reuse=False, aud=None, expires_in=None):
        super().__init__(token_endpoint)
        self.reuse = reuse
        self.aud = aud
        self.expires_in = expires_in
        self.sent = []

    def sign(self, auth, token_endpoint):
        if self.reuse and self.sent:
            assertion = self.sent[0]
        elif self.expires_in is None:
            # Authlib's defaults (exp = iat + 3600).
            assertion = super().sign(auth, self.aud or token_endpoint)
        else:
            assertion = private_key_jwt_sign(
                auth.client_secret, client_id=auth.client_id, token_endpoint=self.aud or token_endpoint,
                claims=self.claims, alg=self.alg, expires_in=self.expires_in)
        if isinstance(assertion, bytes):
            assertion = assertion.decode('ascii')
        self.sent.append(assertion)
        return assertion


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--token-url', required=True)
    p.add_argument('--client-id', required=True)
    p.add_argument('--secret')
    p.add_argument('--key')
    p.add_argument('--aud')
    p.add_argument('--method', required=True,
                   choices=['client_secret_basic', 'client_secret_post', 'private_key_jwt'])
    p.add_argument('--expires-in', type=int, help='client assertion lifetime (default: Authlib\'s, 3600 s)')
    p.add_argument('--scope')
    p.add_argument('--repeat', type=int, default=1)
    p.add_argument('--reuse-assertion', action='store_true')
    a = p.parse_args()

    signer = None
    if a.method == 'private_key_jwt':
        with open(a.key, encoding='ascii') as f:
            secret = f.read()
        session = OAuth2Session(a.client_id, secret, token_endpoint_auth_method='private_key_jwt')
        signer = RecordingPrivateKeyJWT(a.token_url, reuse=a.reuse_assertion, aud=a.aud,
                                        expires_in=a.expires_in)
        session.register_client_auth_method(signer)
    else:
        session = OAuth2Session(a.client_id, a.secret, token_endpoint_auth_method=a.method)

    statuses = []
    session.hooks['response'].append(lambda r, *args, **kwargs: statuses.append(r.status_code))

    results = []
    for _ in range(a.repeat):
        kwargs = {'grant_type': 'client_credentials', 'timeout': 15}
        if a.scope:
            kwargs['scope'] = a.scope
        try:
            token = session.fetch_token(a.token_url, **kwargs)
            results.append({'ok': True, 'status': statuses[-1] if statuses else None, 'token': dict(token)})
        except OAuthError as e:
            results.append({'ok': False, 'status': statuses[-1] if statuses else None,
                            'error': e.error, 'error_description': e.description})
    json.dump({'results': results, 'assertions': signer.sent if signer else []}, sys.stdout)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
