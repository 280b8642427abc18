/** A tenant: the isolation boundary. Every other record belongs to exactly one; nothing crosses tenants. */
export interface Tenant {
  id: string;
  name: string;
  /** ISO 8601 timestamps. */
  createdAt: string;
  updatedAt: string;
}
