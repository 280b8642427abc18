import type { FastifyRequest } from 'fastify';

/** The path every SCIM 2.0 endpoint lives under (RFC 7644 §3.13: the version is in the path). */
export const SCIM_PREFIX = '/scim/v2';

/** True for a request (its URL, query included) addressed to the SCIM service provider. */
export function isScimUrl(url: string): boolean {
  return url === SCIM_PREFIX || url.startsWith(`${SCIM_PREFIX}/`) || url.startsWith(`${SCIM_PREFIX}?`);
}

/**
 * The absolute base URL of the SCIM endpoints as the client addressed them, e.g.
 * `https://roster.example.com/scim/v2`: SCIM `meta.location` values are absolute URIs (RFC 7643
 * §3.1), and a client compares them with the address it used. A request without a Host header
 * (HTTP/1.0) gets the path alone.
 */
export function scimBaseUrl(request: FastifyRequest): string {
  const host = request.host;
  return host ? `${request.protocol}://${host}${SCIM_PREFIX}` : SCIM_PREFIX;
}
