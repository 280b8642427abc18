import { describe, expect, it } from 'vitest';
import { DEFAULT_SCIM_SETTINGS, effectiveScimSettings, hasScope, NO_STORED_SCIM_SETTINGS, SCOPES, storedScimSettings, type Scope } from '../../src/domain/principal.js';

describe('the scim scope', () => {
  it('is granted by itself or by admin, and by nothing else', () => {
    expect(hasScope(['scim'], 'scim')).toBe(true);
    expect(hasScope(['admin'], 'scim')).toBe(true);
    const others = SCOPES.filter((s): s is Exclude<Scope, 'scim' | 'admin'> => s !== 'scim' && s !== 'admin');
    expect(hasScope(others, 'scim')).toBe(false);
  });

  it('implies no other scope', () => {
    for (const scope of SCOPES.filter((s) => s !== 'scim')) expect(hasScope(['scim'], scope), scope).toBe(false);
  });
});

describe('effective SCIM settings', () => {
  it('exist only for credentials that hold scim or admin', () => {
    expect(effectiveScimSettings(['users:write', 'directory:write'], { origin: 'entra', owns: 'all', onDelete: 'suspend' })).toBeUndefined();
    expect(effectiveScimSettings(['admin'], NO_STORED_SCIM_SETTINGS)).toEqual({ origin: 'scim', owns: 'own', onDelete: 'delete' });
  });

  it('take what is stored and the defaults for the rest', () => {
    expect(DEFAULT_SCIM_SETTINGS).toEqual({ origin: 'scim', owns: 'own', onDelete: 'delete' });
    expect(effectiveScimSettings(['scim'], { origin: 'entra', owns: null, onDelete: 'suspend' })).toEqual({ origin: 'entra', owns: 'own', onDelete: 'suspend' });
  });

  it('read a stored value outside its enum as unset', () => {
    expect(storedScimSettings('okta', 'everything', 'purge')).toEqual({ origin: 'okta', owns: null, onDelete: null });
    expect(storedScimSettings(null, 'all', 'suspend')).toEqual({ origin: null, owns: 'all', onDelete: 'suspend' });
  });
});
