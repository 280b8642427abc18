import type { Dialect } from './database.js';

/** SQLite has no boolean type (and better-sqlite3 cannot bind one): 0/1 there, real booleans on pg. */
export const toDbBool = (dialect: Dialect, value: boolean): boolean | number => (dialect === 'sqlite' ? (value ? 1 : 0) : value);

export const fromDbBool = (value: unknown): boolean => value === true || value === 1 || value === '1';
