import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Services } from '../../services/container.js';
import { requireInstallationAdmin } from '../../services/tenant-service.js';
import { presentApiToken, presentClient, presentTenant } from '../presenters/credential-presenter.js';
import { ODATA_QUERY } from '../odata-query.js';
import { idPage, idPageQuery } from '../id-cursor.js';
import { SelectQuery, pickFields, selectedFields, withSelection } from '../select.js';
import { IdParams, ListQuery, pageOf, problemResponses } from '../schemas/common-schemas.js';
import {
  ApiTokenSchema, ApiTokenWithSecretSchema, ClientListQuery, ClientSchema, ClientWithSecretSchema, CreateApiTokenBody, CreateClientBody,
  CreateTenantBody, TenantIdParams, TenantSchema,
} from '../schemas/credential-schemas.js';

/** What `$select` may name on each single GET: every field the resource shows. */
const TENANT_FIELDS = Object.keys(TenantSchema.properties);
const CLIENT_FIELDS = Object.keys(ClientSchema.properties);
const API_TOKEN_FIELDS = Object.keys(ApiTokenSchema.properties);

/** Tenants, API clients, API tokens and signing keys: the `admin` scope (the event log is in event-routes.ts). */
export function registerAdminRoutes(fastify: FastifyInstance, services: Services): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.post('/v1/tenants', {
    config: { auth: 'admin', idempotent: true },
    schema: {
      tags: ['Tenants'], summary: 'Create a tenant (installation admins)', body: CreateTenantBody, response: { 201: TenantSchema, ...problemResponses(400, 409) },
      operationId: 'createTenant', description: 'A new, empty tenant. Create an API client in it (POST /v1/clients with tenantId) to work in it.', responseHeaders: { 201: ['Location'] },
    },
  }, async (req, reply) => reply.code(201).header('location', `/v1/tenants/${req.body.id}`).send(presentTenant(await services.tenants.create(req.principal, req.body))));

  app.get('/v1/tenants', {
    config: { auth: 'admin' },
    schema: {
      tags: ['Tenants'], summary: 'List tenants (installation admins)', querystring: ListQuery, response: { 200: pageOf(TenantSchema), ...problemResponses(400) },
      operationId: 'listTenants', description: 'Every tenant of the installation, in id order, a page at a time.',
    },
  }, async (req) => {
    const page = idPageQuery('tenants', req.query, {});
    return idPage(page, await services.tenants.list(req.principal, page.size + 1, page.after), presentTenant);
  });

  app.get('/v1/tenants/:id', {
    config: { auth: 'admin', ...ODATA_QUERY },
    schema: {
      tags: ['Tenants'], summary: 'Get a tenant (installation admins)', params: TenantIdParams, querystring: SelectQuery, response: { 200: TenantSchema, ...problemResponses(400, 404) },
      operationId: 'getTenant', description: 'The tenant by id; `$select` picks fields.',
    },
  }, async (req, reply) => {
    const select = selectedFields(req.query, TENANT_FIELDS);
    return withSelection(reply, select).send(pickFields(presentTenant(await services.tenants.get(req.principal, req.params.id)), select));
  });

  app.delete('/v1/tenants/:id', {
    config: { auth: 'admin' },
    schema: {
      tags: ['Tenants'], summary: 'Delete a tenant and all its data (installation admins)', params: TenantIdParams, response: { 204: Type.Null(), ...problemResponses(404, 422) },
      operationId: 'deleteTenant', description: 'Deletes every user, record, client and token of the tenant; its tokens stop working at once. The default tenant cannot be deleted.',
    },
  }, async (req, reply) => {
    await services.tenants.delete(req.principal, req.params.id);
    return reply.code(204).send(null);
  });

  app.post('/v1/clients', {
    config: { auth: 'admin', idempotent: true },
    schema: {
      tags: ['API clients'], summary: 'Create an API client; the secret is shown once', body: CreateClientBody, response: { 201: ClientWithSecretSchema, ...problemResponses(400, 404, 409, 422) },
      operationId: 'createClient',
      description: 'An OAuth client of the caller\'s tenant (or of tenantId, for installation admins) that gets access tokens with the client credentials grant. Only a hash of the secret is stored. '
        + 'A client for a SCIM client holds `scim` and may set `origin`, `owns` and `onDelete` (400 without `scim` or `admin`); its access tokens act under them.',
      responseHeaders: { 201: ['Location'] },
    },
  }, async (req, reply) => {
    const { client, secret } = await services.clients.create(req.principal, req.body);
    return reply.code(201).header('location', `/v1/clients/${client.id}`).send({ ...presentClient(client), clientSecret: secret });
  });

  app.get('/v1/clients', {
    config: { auth: 'admin' },
    schema: {
      tags: ['API clients'], summary: 'List API clients', querystring: ClientListQuery, response: { 200: pageOf(ClientSchema), ...problemResponses(400, 404) },
      operationId: 'listClients', description: 'The clients of the tenant (never their secrets), a page at a time.',
    },
  }, async (req) => {
    const page = idPageQuery('clients', req.query, { tenantId: req.query.tenantId });
    return idPage(page, await services.clients.list(req.principal, page.params.tenantId, page.size + 1, page.after), presentClient);
  });

  app.get('/v1/clients/:id', {
    config: { auth: 'admin', ...ODATA_QUERY },
    schema: {
      tags: ['API clients'], summary: 'Get an API client', params: IdParams, querystring: SelectQuery, response: { 200: ClientSchema, ...problemResponses(400, 404) },
      operationId: 'getClient', description: 'The client by id (never its secret); `$select` picks fields.',
    },
  }, async (req, reply) => {
    const select = selectedFields(req.query, CLIENT_FIELDS);
    return withSelection(reply, select).send(pickFields(presentClient(await services.clients.get(req.principal, req.params.id)), select));
  });

  app.delete('/v1/clients/:id', {
    config: { auth: 'admin' },
    schema: {
      tags: ['API clients'], summary: 'Delete an API client and its refresh tokens', params: IdParams, response: { 204: Type.Null(), ...problemResponses(404) },
      operationId: 'deleteClient', description: 'Its access and refresh tokens stop working at once.',
    },
  }, async (req, reply) => {
    await services.clients.delete(req.principal, req.params.id);
    return reply.code(204).send(null);
  });

  app.post('/v1/clients/:id/rotate-secret', {
    config: { auth: 'admin' },
    schema: {
      tags: ['API clients'], summary: 'Replace the client secret (shown once) and revoke its refresh tokens', params: IdParams, response: { 200: ClientWithSecretSchema, ...problemResponses(404) },
      operationId: 'rotateClientSecret', description: 'The old secret stops working at once; access tokens already issued stay valid until they expire.',
    },
  }, async (req) => {
    const { client, secret } = await services.clients.rotateSecret(req.principal, req.params.id);
    return { ...presentClient(client), clientSecret: secret };
  });

  app.post('/v1/api-tokens', {
    config: { auth: 'admin', idempotent: true },
    schema: {
      tags: ['API tokens'], summary: 'Create an API token; the token is shown once', body: CreateApiTokenBody, response: { 201: ApiTokenWithSecretSchema, ...problemResponses(400, 422) },
      operationId: 'createApiToken',
      description: 'A long-lived bearer token (rst_…) with the scopes asked for, until expiresAt or deletion. Only a hash is stored. '
        + 'A token for a SCIM client holds `scim` and may set `origin`, `owns` and `onDelete` (400 without `scim` or `admin`).',
      responseHeaders: { 201: ['Location'] },
    },
  }, async (req, reply) => {
    const { token, secret } = await services.apiTokens.create(req.principal, req.body);
    return reply.code(201).header('location', `/v1/api-tokens/${token.id}`).send({ ...presentApiToken(token), token: secret });
  });

  app.get('/v1/api-tokens', {
    config: { auth: 'admin' },
    schema: {
      tags: ['API tokens'], summary: 'List API tokens (never their secrets)', querystring: ListQuery, response: { 200: pageOf(ApiTokenSchema), ...problemResponses(400) },
      operationId: 'listApiTokens', description: 'The API tokens of the tenant, with their prefix and when each was last used, a page at a time.',
    },
  }, async (req) => {
    const page = idPageQuery('api-tokens', req.query, {});
    return idPage(page, await services.apiTokens.list(req.principal, page.size + 1, page.after), presentApiToken);
  });

  app.get('/v1/api-tokens/:id', {
    config: { auth: 'admin', ...ODATA_QUERY },
    schema: {
      tags: ['API tokens'], summary: 'Get an API token', params: IdParams, querystring: SelectQuery, response: { 200: ApiTokenSchema, ...problemResponses(400, 404) },
      operationId: 'getApiToken', description: 'The API token by id (never the token itself); `$select` picks fields.',
    },
  }, async (req, reply) => {
    const select = selectedFields(req.query, API_TOKEN_FIELDS);
    return withSelection(reply, select).send(pickFields(presentApiToken(await services.apiTokens.get(req.principal, req.params.id)), select));
  });

  app.delete('/v1/api-tokens/:id', {
    config: { auth: 'admin' },
    schema: {
      tags: ['API tokens'], summary: 'Delete (revoke) an API token', params: IdParams, response: { 204: Type.Null(), ...problemResponses(404) },
      operationId: 'deleteApiToken', description: 'The token stops working at once.',
    },
  }, async (req, reply) => {
    await services.apiTokens.delete(req.principal, req.params.id);
    return reply.code(204).send(null);
  });

  app.post('/v1/signing-keys/rotate', {
    config: { auth: 'admin' },
    schema: {
      tags: ['Signing keys'], summary: 'Start signing with a new key (installation admins); old keys stay valid until their tokens expire',
      response: { 200: Type.Object({ kid: Type.String({ description: 'The id of the new key, as in the JWKS and the kid of new tokens.' }) }, { 'x-component': 'SigningKeyRotation' }) },
      operationId: 'rotateSigningKey', description: 'New access tokens are signed with a new key; the JWKS keeps the old keys until the tokens they signed have expired.',
    },
  }, async (req) => {
    requireInstallationAdmin(req.principal);
    return { kid: await services.signingKeys.rotate() };
  });
}
