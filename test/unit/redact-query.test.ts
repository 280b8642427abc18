import { describe, expect, it } from 'vitest';
import { redactQuery } from '../../src/http/app.js';

describe('redactQuery: secrets in a query string never reach the request log', () => {
  it('replaces the values of credential parameters, in any case and encoding, and keeps the rest', () => {
    expect(redactQuery('/v1/oauth/token?grant_type=client_credentials&client_id=a&client_secret=LEAKY')).toBe(
      '/v1/oauth/token?grant_type=client_credentials&client_id=a&client_secret=[REDACTED]',
    );
    expect(redactQuery('/v1/users?access_token=abc&$top=5')).toBe('/v1/users?access_token=[REDACTED]&$top=5');
    expect(redactQuery('/x?Client%5FSecret=s&REFRESH_TOKEN=r&token=t&password=p')).toBe('/x?Client%5FSecret=[REDACTED]&REFRESH_TOKEN=[REDACTED]&token=[REDACTED]&password=[REDACTED]');
    expect(redactQuery('/v1/users?$filter=userName%20eq%20%27a%27')).toBe('/v1/users?$filter=userName%20eq%20%27a%27');
    expect(redactQuery('/v1/users')).toBe('/v1/users');
    expect(redactQuery('/x?%ZZ=1&client_secret')).toBe('/x?%ZZ=1&client_secret');
  });
});
