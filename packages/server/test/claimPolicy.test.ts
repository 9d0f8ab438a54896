/**
 * The claim policy, stepped on a clock the test holds: when a claim is made,
 * how big, which endpoints it skips, and when a publish may be handed over.
 */

import { describe, expect, it } from 'vitest';
import { ClaimPolicy, MAX_CLAIM } from '../src/delivery/claimPolicy.js';
import { Slots } from '../src/delivery/slots.js';

const SURVEY_MS = 1000;

function setUp(total = 8, perEndpoint = 4) {
  const slots = new Slots(total, perEndpoint);
  return { slots, policy: new ClaimPolicy(slots, SURVEY_MS) };
}

/** Put `n` deliveries of an endpoint in flight. */
async function load(slots: Slots, endpointId: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    slots.begin();
    await slots.acquire(endpointId);
  }
}

describe('when to claim', () => {
  it('surveys first, then only when told or when the next survey is due on its clock', () => {
    const { policy } = setUp();
    expect(policy.plan(0)).toMatchObject({ survey: true, deep: true, limit: 8 });
    expect(policy.plan(0)).toBeNull();
    expect(policy.plan(999)).toBeNull();
    expect(policy.surveyDueIn(400)).toBe(600);
    policy.needClaim();
    expect(policy.plan(999)).toMatchObject({ survey: false, deep: true });
    expect(policy.plan(1000)).toMatchObject({ survey: true });
  });

  it('a machine clock that runs while the policy clock stands still brings no survey', () => {
    const { policy } = setUp();
    policy.plan(5_000);
    for (let i = 0; i < 3; i++) expect(policy.plan(5_000)).toBeNull();
    expect(policy.surveyDueIn(5_000)).toBe(SURVEY_MS);
  });

  it('with no room, no claim, and the survey stays due', async () => {
    const { slots, policy } = setUp(2, 2);
    await load(slots, 'we_a', 2);
    expect(policy.plan(0)).toBeNull();
    expect(policy.surveyDueIn(0)).toBe(0);
    slots.release('we_a');
    slots.finish();
    expect(policy.plan(0)).toMatchObject({ survey: true, limit: 1 });
  });

  it('a claim is at most MAX_CLAIM; a forced one (a test step) takes all the room', () => {
    const { policy } = setUp(1000, 32);
    expect(policy.plan(0)?.limit).toBe(MAX_CLAIM);
    expect(policy.plan(0, true)?.limit).toBe(1000);
  });
});

describe('which endpoints a claim skips', () => {
  const table: [
    name: string,
    inFlight: Record<string, number>,
    survey: boolean,
    skipped: string[],
    deep: boolean,
  ][] = [
    ['nothing in flight: deep, nothing skipped', {}, false, [], true],
    ['below the bound: not skipped', { we_a: 3 }, false, [], true],
    ['at the bound (4): skipped, and the claim is shallow', { we_a: 4, we_b: 1 }, false, ['we_a'], false],
    [
      'a survey skips every endpoint at least half busy (2), and stays deep',
      { we_a: 2, we_b: 1 },
      true,
      ['we_a'],
      true,
    ],
  ];
  it.each(table)('%s', async (_name, inFlight, survey, skipped, deep) => {
    const { slots, policy } = setUp(16, 4);
    for (const [id, n] of Object.entries(inFlight)) await load(slots, id, n);
    if (!survey) policy.plan(0);
    policy.needClaim();
    const plan = policy.plan(survey ? SURVEY_MS : 1);
    expect(plan).toMatchObject({ survey, deep, excludeEndpointIds: skipped });
  });
});

describe('after a claim', () => {
  it('a full claim asks for another; one that got less does not', () => {
    const { policy } = setUp(4, 4);
    const plan = policy.plan(0)!;
    policy.noteClaim(plan, ['we_a', 'we_a', 'we_b', 'we_c']);
    expect(policy.wantsClaim).toBe(true);
    policy.noteClaim(policy.plan(1)!, ['we_a']);
    expect(policy.wantsClaim).toBe(false);
  });
});

describe('hand-off to a publish (admit)', () => {
  it('takes endpoints with free slots, once each, and reserves them', () => {
    const { slots, policy } = setUp(8, 4);
    expect([...policy.admit(['we_a', 'we_a', 'we_b']).taken]).toEqual(['we_a', 'we_b']);
    expect(slots.load('we_a')).toBe(1);
    expect(slots.free).toBe(6);
  });

  it('an endpoint skipped at its bound is behind until a deep claim that got less catches up', async () => {
    const { slots, policy } = setUp(16, 2);
    await load(slots, 'we_a', 2);
    policy.needClaim();
    policy.noteClaim(policy.plan(0)!, []);
    // The claim was shallow (we_a skipped): we_a may have due deliveries older than a fresh publish.
    slots.release('we_a');
    slots.finish();
    expect(policy.admit(['we_a']).taken.size).toBe(0);
    slots.release('we_a');
    slots.finish();
    // Down to nothing while behind: a claim is needed now.
    expect(policy.admit(['we_a'])).toMatchObject({ claimNow: true });
    const deep = policy.plan(1)!;
    expect(deep.deep).toBe(true);
    policy.noteClaim(deep, []);
    expect([...policy.admit(['we_a']).taken]).toEqual(['we_a']);
  });

  it('a node found full is behind as a whole: no hand-off until a deep claim caught up', () => {
    const { slots, policy } = setUp(2, 4);
    expect(policy.admit(['we_a', 'we_b', 'we_c']).taken.size).toBe(2);
    slots.unreserve(['we_a', 'we_b']);
    expect(policy.admit(['we_d']).taken.size).toBe(0);
    policy.needClaim();
    policy.noteClaim(policy.plan(0)!, []);
    expect(policy.admit(['we_d']).taken.size).toBe(1);
  });
});
