/**
 * Switchboard extension `/v1/api_keys`: the platform's API keys, listed,
 * created and revoked. A key manages the keys of its own mode; a new key's
 * secret is in the create response only (the store keeps its hash). A revoked
 * key is refused at once on every node.
 */

import { Hono } from 'hono';
import { toUnixSeconds } from '../../clock.js';
import { randomToken } from '../../ids.js';
import type { ApiKeyRecord } from '../../store/types.js';
import type { ApiEnv, Caller, Runtime } from '../context.js';
import { ApiError, noSuch } from '../errors.js';
import { forgetKey, sha256 } from '../middleware.js';
import { Params } from '../params.js';

/** A key's public id: a prefix of its hash, which says nothing of the key. */
export const apiKeyId = (hash: string): string => `key_${hash.slice(0, 24)}`;

const shown = (k: ApiKeyRecord) => ({
  id: apiKeyId(k.hash),
  object: 'api_key',
  livemode: k.livemode,
  /** The last four characters, as Stripe's dashboard shows them. */
  redacted: `${k.livemode ? 'sk_live_' : 'sk_test_'}…${k.hint}`,
  created: toUnixSeconds(k.createdAt),
});

function platformOnly(caller: Caller): void {
  if (caller.connectedAccount) {
    throw new ApiError(
      403,
      'permission_error',
      "API keys are the platform's: remove the Stripe-Account header.",
    );
  }
}

export function apiKeyRoutes(rt: Runtime): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const ownKeys = async (caller: Caller) =>
    (await rt.store.listApiKeys(rt.platform.id)).filter((k) => k.livemode === caller.livemode);

  app.get('/', async (c) => {
    new Params(c.get('params'), []);
    const caller = c.get('caller');
    platformOnly(caller);
    const keys = await ownKeys(caller);
    return c.json({ object: 'list', url: '/v1/api_keys', has_more: false, data: keys.map(shown) });
  });

  app.post('/', async (c) => {
    new Params(c.get('params'), []);
    const caller = c.get('caller');
    platformOnly(caller);
    const key = `${caller.livemode ? 'sk_live_' : 'sk_test_'}${randomToken(32)}`;
    const record: ApiKeyRecord = {
      hash: sha256(key),
      platformId: rt.platform.id,
      livemode: caller.livemode,
      hint: key.slice(-4),
      createdAt: rt.clock(),
    };
    await rt.store.putApiKeys([record]);
    return c.json({ ...shown(record), secret: key });
  });

  app.delete('/:id', async (c) => {
    new Params(c.get('params'), []);
    const caller = c.get('caller');
    platformOnly(caller);
    const id = c.req.param('id');
    const key = (await ownKeys(caller)).find((k) => apiKeyId(k.hash) === id);
    if (!key) throw noSuch('API key', id);
    await rt.store.deleteApiKey(key.hash);
    forgetKey(rt, key.hash);
    return c.json({ id, object: 'api_key', deleted: true });
  });

  return app;
}
