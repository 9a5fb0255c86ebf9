/**
 * The environment variables packages/db reads, read here and nowhere else in the package:
 * DATA_DIR (where files live), DATABASE_URL (which database), ATELIER_ROOT (where the
 * repository and its migrations are, when it cannot be found from this module); for the test
 * suites, ATELIER_TEST_DB (sqlite | postgresql) and ATELIER_TEST_PG_URL (the server's admin URL).
 */
export interface DbEnv {
  DATA_DIR?: string;
  DATABASE_URL?: string;
  ATELIER_ROOT?: string;
  ATELIER_TEST_DB?: string;
  ATELIER_TEST_PG_URL?: string;
  [name: string]: string | undefined;
}

export function dbEnv(): DbEnv {
  return process.env;
}
