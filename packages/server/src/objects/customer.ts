/**
 * The `customer` object: a new customer as Stripe creates it, an update as
 * Stripe applies it, and the stub a deleted customer is retrieved as. Pure:
 * the caller validates parameters (api/routes/customers.ts) and stores.
 */

import type Stripe from 'stripe';

export type CustomerAddress = Stripe.Address;

export interface CustomerShipping {
  address: CustomerAddress;
  name: string;
  phone: string | null;
}

/** The fields a create or an update may set; undefined leaves a field as it is, null clears it. */
export interface CustomerFields {
  address?: CustomerAddress | null;
  balance?: number;
  description?: string | null;
  email?: string | null;
  invoicePrefix?: string;
  metadata?: Record<string, string>;
  name?: string | null;
  phone?: string | null;
  preferredLocales?: string[];
  shipping?: CustomerShipping | null;
  taxExempt?: Stripe.Customer.TaxExempt;
}

export interface NewCustomerInput extends CustomerFields {
  id: string;
  createdUnix: number;
  livemode: boolean;
  /** Used when the fields name none: Stripe gives each customer a prefix of its own. */
  defaultInvoicePrefix: string;
}

export function newCustomerObject(input: NewCustomerInput): Stripe.Customer {
  return {
    id: input.id,
    object: 'customer',
    address: input.address ?? null,
    balance: input.balance ?? 0,
    created: input.createdUnix,
    currency: null,
    default_source: null,
    delinquent: false,
    description: input.description ?? null,
    email: input.email ?? null,
    invoice_prefix: input.invoicePrefix ?? input.defaultInvoicePrefix,
    invoice_settings: {
      custom_fields: null,
      default_payment_method: null,
      footer: null,
      rendering_options: null,
    },
    livemode: input.livemode,
    metadata: input.metadata ?? {},
    name: input.name ?? null,
    next_invoice_sequence: 1,
    phone: input.phone ?? null,
    preferred_locales: input.preferredLocales ?? [],
    shipping: input.shipping ?? null,
    tax_exempt: input.taxExempt ?? 'none',
    test_clock: null,
  };
}

/** The customer after an update: only the fields given change. */
export function updatedCustomer(customer: Stripe.Customer, fields: CustomerFields): Stripe.Customer {
  const next: Stripe.Customer = { ...customer };
  if (fields.address !== undefined) next.address = fields.address;
  if (fields.balance !== undefined) next.balance = fields.balance;
  if (fields.description !== undefined) next.description = fields.description;
  if (fields.email !== undefined) next.email = fields.email;
  if (fields.invoicePrefix !== undefined) next.invoice_prefix = fields.invoicePrefix;
  if (fields.metadata !== undefined) next.metadata = fields.metadata;
  if (fields.name !== undefined) next.name = fields.name;
  if (fields.phone !== undefined) next.phone = fields.phone;
  if (fields.preferredLocales !== undefined) next.preferred_locales = fields.preferredLocales;
  if (fields.shipping !== undefined) next.shipping = fields.shipping;
  if (fields.taxExempt !== undefined) next.tax_exempt = fields.taxExempt;
  return next;
}

/** What retrieving a deleted customer returns, and what deleting one answers. */
export function deletedCustomer(id: string): Stripe.DeletedCustomer {
  return { id, object: 'customer', deleted: true };
}
