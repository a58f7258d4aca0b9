// The store contract on SQLite: the tests are in tests/support/store-contract/exam-session.ts, which
// tests/integration/store-postgres.test.ts runs on a real PostgreSQL 15 as well.
import "../support/store-contract/exam-session.ts";
