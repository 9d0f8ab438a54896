/**
 * The persons of a connected account (its representative, owners,
 * directors, executives): what each still has to provide, and its
 * verification as Stripe's test mode decides it. Pure.
 *
 * Test mode's identity check, as Stripe documents it for test data: a date
 * of birth of 1901-01-01 matches, 1902-01-01 does not (the person stays
 * `unverified` with an error and a document due); any other complete
 * person is verified once nothing is due.
 */

import type Stripe from 'stripe';
import { withoutRequirements } from './account.js';

/** What a person must provide before it can be verified (a US representative's list, as Stripe's). */
export const PERSON_FIELDS = [
  'address.city',
  'address.line1',
  'address.postal_code',
  'address.state',
  'dob.day',
  'dob.month',
  'dob.year',
  'email',
  'first_name',
  'last_name',
  'phone',
  'ssn_last_4',
] as const;

/** The date of birth Stripe's test mode fails the identity match for. */
const FAILING_DOB = { day: 1, month: 1, year: 1902 };

export interface PersonFields {
  address?: Partial<Stripe.Address>;
  dob?: { day: number; month: number; year: number };
  email?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  phone?: string | null;
  ssnLast4Provided?: boolean;
  idNumberProvided?: boolean;
  relationship?: Partial<Stripe.Person.Relationship>;
  metadata?: Record<string, string>;
}

function provided(person: Stripe.Person): Set<string> {
  const have = new Set<string>();
  for (const f of ['city', 'line1', 'postal_code', 'state'] as const)
    if (person.address?.[f]) have.add(`address.${f}`);
  if (person.dob?.day) have.add('dob.day');
  if (person.dob?.month) have.add('dob.month');
  if (person.dob?.year) have.add('dob.year');
  if (person.email) have.add('email');
  if (person.first_name) have.add('first_name');
  if (person.last_name) have.add('last_name');
  if (person.phone) have.add('phone');
  if (person.ssn_last_4_provided || person.id_number_provided) have.add('ssn_last_4');
  return have;
}

/** The person with its requirements and verification worked out from what it has. */
export function withVerification(person: Stripe.Person): Stripe.Person {
  const have = provided(person);
  const due: string[] = PERSON_FIELDS.filter((f) => !have.has(f));
  const dob = person.dob;
  const failed =
    due.length === 0 &&
    dob?.day === FAILING_DOB.day &&
    dob?.month === FAILING_DOB.month &&
    dob?.year === FAILING_DOB.year;
  if (failed) due.push('verification.document');
  const requirements = {
    alternatives: [],
    currently_due: due,
    errors: failed
      ? [
          {
            code: 'verification_failed_keyed_identity',
            reason:
              'The identity information you entered cannot be verified. Please correct any errors or upload a document that matches the identity fields (e.g., name and date of birth) that you entered.',
            requirement: 'verification.document',
          },
        ]
      : [],
    eventually_due: due,
    past_due: [],
    pending_verification: [],
  } as Stripe.Person.Requirements;
  const verification = {
    additional_document: { back: null, details: null, details_code: null, front: null },
    details: null,
    details_code: failed ? 'failed_keyed_identity' : null,
    document: { back: null, details: null, details_code: null, front: null },
    status: due.length === 0 ? 'verified' : 'unverified',
  } as Stripe.Person.Verification;
  return { ...person, requirements, verification };
}

export function newPerson(
  id: string,
  account: string,
  createdUnix: number,
  fields: PersonFields,
): Stripe.Person {
  const base = {
    id,
    object: 'person',
    account,
    address: { city: null, country: 'US', line1: null, line2: null, postal_code: null, state: null },
    created: createdUnix,
    dob: { day: null, month: null, year: null },
    email: null,
    first_name: null,
    future_requirements: {
      alternatives: [],
      currently_due: [],
      errors: [],
      eventually_due: [],
      past_due: [],
      pending_verification: [],
    },
    id_number_provided: false,
    last_name: null,
    metadata: {},
    phone: null,
    relationship: {
      authorizer: null,
      director: false,
      executive: false,
      legal_guardian: null,
      owner: false,
      percent_ownership: null,
      representative: false,
      title: null,
    },
    ssn_last_4_provided: false,
  } as unknown as Stripe.Person;
  return updatedPerson(base, fields);
}

/** The person after an update: the fields given change (hashes merge), then its verification is worked out again. */
export function updatedPerson(person: Stripe.Person, f: PersonFields): Stripe.Person {
  const next: Stripe.Person = { ...person };
  if (f.address) next.address = { ...(person.address as Stripe.Address), ...f.address };
  if (f.dob) next.dob = f.dob;
  if (f.email !== undefined) next.email = f.email;
  if (f.firstName !== undefined) next.first_name = f.firstName;
  if (f.lastName !== undefined) next.last_name = f.lastName;
  if (f.phone !== undefined) next.phone = f.phone;
  if (f.ssnLast4Provided) next.ssn_last_4_provided = true;
  if (f.idNumberProvided) next.id_number_provided = true;
  if (f.relationship)
    next.relationship = { ...(person.relationship as Stripe.Person.Relationship), ...f.relationship };
  if (f.metadata) next.metadata = f.metadata;
  return withVerification(next);
}

/**
 * The account with the `representative.…` requirements its representative now
 * meets removed (the account's list names them so; `representative.dob.day`
 * is the person's `dob.day`).
 */
export function accountWithRepresentative(
  account: Stripe.Account,
  representative: Stripe.Person,
): Stripe.Account {
  const stillDue = new Set(representative.requirements?.currently_due ?? []);
  return withoutRequirements(
    account,
    (r) => r.startsWith('representative.') && !stillDue.has(r.slice('representative.'.length)),
  );
}
