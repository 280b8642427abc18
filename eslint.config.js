import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const SQL = ['kysely', 'pg', 'better-sqlite3'];
const HTTP = ['fastify', '@fastify/*'];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'data/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-control-regex': 'off',
    },
  },
  {
    files: ['bin/**/*.js', 'bench/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  // The layers of docs/ARCHITECTURE.md, checked: HTTP adapters → services → repositories → db.
  {
    // Services hold the rules and stay free of HTTP and SQL.
    files: ['src/services/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: [...SQL, ...HTTP, '**/http/**', '**/db/**'], message: 'Services must not depend on HTTP or SQL: go through a repository.' }] }],
    },
  },
  {
    // The domain is plain types and pure rules that every layer may use.
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: [...SQL, ...HTTP, '**/http/**', '**/db/**', '**/services/**', '**/repositories/**'], message: 'The domain depends on nothing but itself, errors and lib.' }],
      }],
    },
  },
  {
    // HTTP adapters reach data only through services.
    files: ['src/http/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: [...SQL, '**/repositories/**', '**/db/**'], message: 'HTTP code goes through a service, never the store or a repository.' }] }],
      'no-restricted-syntax': ['error', { selector: "MemberExpression[property.name='store']", message: 'HTTP code goes through a service, never the store.' }],
    },
  },
  {
    // Presenters shape JSON from domain values; they call nothing.
    files: ['src/http/presenters/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: [...SQL, '**/repositories/**', '**/db/**', '**/services/**'], message: 'Presenters turn domain values into JSON; they import no service or repository.' }],
      }],
    },
  },
);
